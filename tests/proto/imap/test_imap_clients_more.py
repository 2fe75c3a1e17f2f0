# SPDX-License-Identifier: MIT
"""More real IMAP clients from Debian against `commune serve`:

- fetchmail over IMAP (plain, STARTTLS, imaps with the test certificate
  verified): keep and nokeep (each fetched message flagged \\Seen
  \\Deleted and expunged, after every message or once at the end),
  fetchall against only-new, newness across runs, a size limit that
  needs exact RFC822.SIZEs. fetchmail's IMAP driver decides "new" by
  the server's \\Seen flag, not by UIDs (its manual page, BUGS), so the
  runs here show the server keeps that flag.
- offlineimap3 (plain on up to three connections; imaps with
  COMPRESS=DEFLATE): a two-way sync of several mailboxes (a nested one,
  non-ASCII and '&' names sent as modified UTF-7) with a local Maildir,
  changes on both sides, folders created on both sides, a keyword, the
  APPEND date of an uploaded message, and a last sync that must change
  nothing.

Both clients store messages locally with LF line ends; the server
stores CRLF, so contents are compared with CRLF turned into LF.
"""
import base64
import hashlib
import os
import pathlib
import re
import shutil
import subprocess

import pytest

from imap_helpers import PW, deliver, message
from test_imap_clients import listing as rows

TIMEOUT = 120


def lf(data):
    return data.replace(b"\r\n", b"\n")


def show(commune, box, uid):
    p = commune.run("message", "show", "alice", box, uid)
    assert p.returncode == 0, p.stderr
    return p.stdout


def bulky(seed, kib):
    """A body of about kib KiB of lines that deflate cannot shrink much,
    with some UTF-8 in it."""
    lines, h = [], seed.encode()
    while len(lines) * 78 < kib * 1024:
        h = hashlib.sha256(h).digest()
        lines.append(base64.b64encode(h * 2).decode()[:70] + " ünï")
    return "\r\n".join(lines) + "\r\n"


# ---- fetchmail ----

class Fetchmail:
    """fetchmail with a private rcfile, HOME and idfile; its MDA writes
    each message to the next numbered file, so a run's messages come
    back in delivery order."""

    def __init__(self, tmp_path, port, options):
        self.home = tmp_path / "fmhome"
        self.home.mkdir()
        self.out = tmp_path / "fetched"
        self.out.mkdir()
        self.rc = self.home / ".fetchmailrc"
        self.port = port
        self.base_options = options
        self.log = ""

    def run(self, options):
        mda = (f"/bin/sh -c 'n=$(ls {self.out} | wc -l); "
               f"cat > {self.out}/$(printf %04d $n)'")
        self.rc.write_text(
            f'poll 127.0.0.1 protocol imap port {self.port}\n'
            f'  user "alice" password "{PW}" is "tester" here\n'
            f'  {self.base_options} {options}\n'
            f'  mda "{mda}"\n')
        self.rc.chmod(0o600)
        env = dict(os.environ, HOME=str(self.home),
                   FETCHMAILHOME=str(self.home))
        # -v -v logs the IMAP exchange (password hidden); --invisible
        # and --norewrite keep the message as the server sent it.
        p = subprocess.run(["fetchmail", "-v", "-v", "-f", str(self.rc),
                            "--nosyslog", "--invisible", "--norewrite",
                            "-i", str(self.home / "ids"),
                            "--pidfile", str(self.home / "pid")],
                           capture_output=True, env=env, timeout=TIMEOUT)
        self.log = (p.stdout + p.stderr).decode(errors="replace")
        got = []
        for name in sorted(os.listdir(self.out)):
            got.append((self.out / name).read_bytes())
            (self.out / name).unlink()
        # 0: mail was delivered; 1: there was none.
        assert p.returncode == (0 if got else 1), self.log
        # fetchmail compares each message with its RFC822.SIZE.
        assert "not the expected length" not in self.log, self.log
        return got


@pytest.mark.skipif(shutil.which("fetchmail") is None,
                    reason="fetchmail not installed")
def test_fetchmail_imap_keep_fetches_only_new(imap, accounts, tmp_path):
    msgs = [message(f"fm{i}", f"text {i}\r\n.dotted\r\n\r\nend\r\n")
            for i in range(5)]
    deliver(accounts, "alice", msgs[0])
    deliver(accounts, "alice", msgs[1], "--flags", "\\Seen")
    deliver(accounts, "alice", msgs[2])
    fm = Fetchmail(tmp_path, imap.ports["imap"], "keep sslproto ''")
    # Only the unseen ones, byte for byte, and the server marks them
    # \Seen (fetchmail peeks at the body and then stores \Seen).
    assert fm.run("") == [lf(msgs[0]), lf(msgs[2])]
    assert rows(accounts, "INBOX") == [(1, "(\\Seen)", "fm0"),
                                       (2, "(\\Seen)", "fm1"),
                                       (3, "(\\Seen)", "fm2")]
    # A second run takes only what was delivered since.
    deliver(accounts, "alice", msgs[3])
    deliver(accounts, "alice", msgs[4])
    assert fm.run("") == [lf(msgs[3]), lf(msgs[4])]
    assert fm.run("") == []
    assert [r[:2] for r in rows(accounts, "INBOX")] == [
        (u, "(\\Seen)") for u in range(1, 6)]
    # Newness is the server's \Seen: clearing it (CLI, while the server
    # runs) makes fetchmail take that message again.
    accounts.ok("message", "flag", "alice", "INBOX", "4", "-\\Seen")
    assert fm.run("") == [lf(msgs[3])]
    # fetchall takes everything; nothing is deleted.
    assert fm.run("fetchall") == [lf(m) for m in msgs]
    assert [r[:2] for r in rows(accounts, "INBOX")] == [
        (u, "(\\Seen)") for u in range(1, 6)]
    for uid, m in enumerate(msgs, 1):
        assert show(accounts, "INBOX", uid) == m


@pytest.mark.skipif(shutil.which("fetchmail") is None,
                    reason="fetchmail not installed")
@pytest.mark.parametrize("expunge", ["", "expunge 0"],
                         ids=["expunge-each", "expunge-at-end"])
def test_fetchmail_imap_nokeep_deletes(imap, accounts, tmp_path, expunge):
    msgs = [message(f"nk{i}", f"body {i}\r\n") for i in range(5)]
    deliver(accounts, "alice", msgs[0])
    deliver(accounts, "alice", msgs[1], "--flags", "\\Seen")
    deliver(accounts, "alice", msgs[2], "--flags", "\\Flagged")
    deliver(accounts, "alice", msgs[3])
    fm = Fetchmail(tmp_path, imap.ports["imap"],
                   f"nokeep sslproto '' {expunge}")
    # Without fetchall: the three unseen ones; each is flagged \Seen
    # \Deleted, and the expunge leaves only the seen one on the server.
    assert fm.run("") == [lf(msgs[0]), lf(msgs[2]), lf(msgs[3])]
    assert fm.log.count("+FLAGS (\\Seen \\Deleted)") == 3, fm.log
    assert rows(accounts, "INBOX") == [(2, "(\\Seen)", "nk1")]
    # The server reported each expunged message once.
    assert len(re.findall(r"IMAP< \* \d+ EXPUNGE", fm.log)) == 3, fm.log
    assert show(accounts, "INBOX", 2) == msgs[1]
    # fetchall takes the seen one too, and the new delivery.
    deliver(accounts, "alice", msgs[4])
    assert fm.run("fetchall") == [lf(msgs[1]), lf(msgs[4])]
    assert rows(accounts, "INBOX") == []
    assert fm.run("fetchall") == []
    # The expunged UIDs are not reused.
    assert deliver(accounts, "alice", message("after")) == 6


@pytest.mark.skipif(shutil.which("fetchmail") is None,
                    reason="fetchmail not installed")
def test_fetchmail_imap_size_limit(imap, accounts, tmp_path):
    small = message("sz0", "abc\r\n")
    msgs = [small, message("sz1", "abcd\r\n"),
            message("sz2", bulky("sz2", 64))]
    for m in msgs:
        deliver(accounts, "alice", m)
    fm = Fetchmail(tmp_path, imap.ports["imap"], "nokeep sslproto ''")
    # fetchmail skips what RFC822.SIZE says is over the limit: one
    # octet more is too much, so the size must be exact.
    assert fm.run(f"limit {len(small)}") == [lf(small)]
    assert fm.log.count("(oversized)") == 2, fm.log
    assert rows(accounts, "INBOX") == [(2, "()", "sz1"), (3, "()", "sz2")]
    assert fm.run("") == [lf(m) for m in msgs[1:]]
    assert rows(accounts, "INBOX") == []


@pytest.mark.skipif(shutil.which("fetchmail") is None,
                    reason="fetchmail not installed")
@pytest.mark.parametrize("listener,ssl", [("imap", ""), ("imaps", "ssl")],
                         ids=["starttls", "imaps"])
def test_fetchmail_imap_tls(tls_imap, accounts, certificate, tmp_path,
                            listener, ssl):
    msgs = [message("tls0", "Secret.\r\n"), message("tls1", "More.\r\n")]
    for m in msgs:
        deliver(accounts, "alice", m)
    # The test certificate is verified (CN=localhost); on the plain
    # port fetchmail must use STARTTLS, as the server refuses LOGIN
    # before TLS.
    fm = Fetchmail(tmp_path, tls_imap.ports[listener],
                   f"nokeep {ssl} sslcertck sslcertfile "
                   f"{certificate / 'server.crt'} sslcommonname localhost")
    assert fm.run("") == [lf(m) for m in msgs]
    if listener == "imap":
        assert "upgrade to TLS succeeded" in fm.log, fm.log
    assert rows(accounts, "INBOX") == []


# ---- offlineimap3 ----

# $Label1 is the rcfile's customflag_a (offlineimap takes keywords from
# the server to the Maildir, not back).
MAILDIR_FLAGS = {"\\Draft": "D", "\\Flagged": "F", "\\Answered": "R",
                 "\\Seen": "S", "\\Deleted": "T", "$Label1": "a"}


def server_state(commune):
    """{mailbox: sorted [(content with LF, maildir flag letters)]}."""
    state = {}
    for line in commune.ok("mailbox", "list", "alice").splitlines():
        f = line.split("\t")
        if len(f) < 2 or f[1] == "-":       # a parent that does not exist
            continue
        msgs = []
        for uid, flags, _ in rows(commune, f[0]):
            letters = "".join(sorted(MAILDIR_FLAGS.get(x, x)
                                     for x in flags.strip("()").split()))
            msgs.append((lf(show(commune, f[0], uid)), letters))
        state[f[0]] = sorted(msgs)
    return state


def local_files(root):
    """{folder: sorted [file paths]} of a Maildir tree (sep /)."""
    out = {}
    for d, subdirs, _ in os.walk(root):
        if "cur" in subdirs:
            out[os.path.relpath(d, root)] = sorted(
                os.path.join(d, s, n) for s in ("cur", "new")
                for n in os.listdir(os.path.join(d, s)))
    return out


def local_state(root):
    state = {}
    for folder, paths in local_files(root).items():
        msgs = []
        for p in paths:
            data = pathlib.Path(p).read_bytes()
            info = os.path.basename(p).rpartition(":2,")
            msgs.append((data, "".join(sorted(info[2])) if info[1] else ""))
        state[folder] = sorted(msgs)
    return state


def summary(state):
    """{folder: sorted [(subject, flags)]}: easier to read."""
    out = {}
    for folder, msgs in state.items():
        subs = []
        for data, flags in msgs:
            subj = [l for l in data.split(b"\n") if l.startswith(b"Subject:")]
            subs.append((subj[0][9:].decode() if subj else "?", flags))
        out[folder] = sorted(subs)
    return out


# offlineimap APPENDs a new local message with its file's mtime as the
# date, written in the local time zone: UTC+05:30 here (POSIX TZ syntax).
TZ = "XST-5:30"


def offlineimap(rc, debug):
    """One sync; with debug, offlineimap logs the IMAP exchange."""
    p = subprocess.run(["offlineimap", "-c", str(rc), "-o", "-u", "basic",
                        *(["-d", "imap"] if debug else [])],
                       capture_output=True, timeout=TIMEOUT,
                       env=dict(os.environ, HOME=str(rc.parent), TZ=TZ))
    out = (p.stdout + p.stderr).decode(errors="replace")
    plain = "\n".join(l for l in out.splitlines()
                      if not l.startswith("[imap]:"))
    # On failure: offlineimap's messages and the end of the IMAP log.
    why = plain + "\n...\n" + "\n".join(out.splitlines()[-60:])
    assert p.returncode == 0, why
    assert "ERROR" not in plain and "WARNING" not in plain, why
    if debug:
        assert "Enabled COMPRESS=DEFLATE" in out, why
    return out


def find(paths, subject):
    want = f"Subject: {subject}\n".encode()
    hits = [p for p in paths if want in pathlib.Path(p).read_bytes()]
    assert len(hits) == 1, (subject, paths)
    return hits[0]


@pytest.mark.skipif(shutil.which("offlineimap") is None,
                    reason="offlineimap3 not installed")
@pytest.mark.parametrize("tls", [False, True],
                         ids=["plain", "imaps-compress"])
def test_offlineimap_two_way_sync(serve, accounts, tls_base, certificate,
                                  tmp_path, tls):
    if tls:
        # imaps, certificate verified. Not STARTTLS: offlineimap's
        # imaplib2 (3.05) now and then never sends the CAPABILITY it
        # logs after STARTTLS (the server has read all it was sent and
        # answered it all) and times out.
        srv = serve(["imaps"])
        remote = f"""remotehost = localhost
remoteport = {srv.ports['imaps']}
ssl = yes
sslcacertfile = {certificate / 'server.crt'}
usecompression = yes"""
    else:
        srv = serve(["imap"], "--allow-plaintext-auth")
        # Folders sync in parallel threads, on up to three connections
        # (offlineimap's debug log, used with TLS, forces one thread).
        remote = f"""remotehost = 127.0.0.1
remoteport = {srv.ports['imap']}
ssl = no
starttls = no
maxconnections = 3"""
    uni = "Ünïcode Ω"
    for box in ("Work/Projects", uni):
        accounts.ok("mailbox", "create", "alice", box)
    deliver(accounts, "alice", message("in0", "first\r\n"))
    deliver(accounts, "alice", message("in1", "second\r\n"), "--flags",
            "\\Seen")
    deliver(accounts, "alice", message("in2", bulky("in2", 600)),
            "--flags", "\\Answered \\Seen")
    deliver(accounts, "alice", message("wp0", "nested\r\n"), "--mailbox",
            "Work/Projects", "--flags", "\\Flagged $Label1")
    deliver(accounts, "alice", message("wp1", "nested 2\r\n"), "--mailbox",
            "Work/Projects")
    deliver(accounts, "alice", message("u0", "ünï\r\n"), "--mailbox", uni)
    deliver(accounts, "alice", message("u1", "ωω\r\n"), "--mailbox", uni,
            "--flags", "\\Draft")
    mail = tmp_path / "mail"
    mail.mkdir()
    home = tmp_path / "oihome"
    home.mkdir()
    rc = home / "offlineimaprc"
    rc.write_text(f"""[general]
accounts = t
metadata = {home}/meta
socktimeout = 30

[Account t]
localrepository = local
remoterepository = remote
utf8foldernames = yes

[Repository local]
type = Maildir
localfolders = {mail}
sep = /
customflag_a = $Label1

[Repository remote]
type = IMAP
{remote}
remoteuser = alice
remotepass = {PW}
""")
    offlineimap(rc, tls)
    first = {
        "INBOX": [("in0", ""), ("in1", "S"), ("in2", "RS")],
        "Work/Projects": [("wp0", "Fa"), ("wp1", "")],
        uni: [("u0", ""), ("u1", "D")],
    }
    assert summary(local_state(mail)) == first
    assert local_state(mail) == server_state(accounts)

    # Local changes: flags set and cleared, a deletion, a new message
    # (with \Seen) and a new nested folder with a non-ASCII name.
    files = local_files(mail)
    in0, in2 = find(files["INBOX"], "in0"), find(files["INBOX"], "in2")
    assert in0.endswith(":2,") and in2.endswith(":2,RS"), (in0, in2)
    os.rename(in0, os.path.join(mail, "INBOX", "cur",
                                os.path.basename(in0) + "FS"))
    os.rename(in2, in2[:-1])
    os.unlink(find(files["Work/Projects"], "wp1"))
    u2 = mail / uni / "cur" / "1700000000.local1.test:2,S"
    u2.write_bytes(lf(message("u2 local", bulky("u2", 300))))
    os.utime(u2, (1700000000, 1700000000))
    # offlineimap CREATEs each level of a new nested folder, so the
    # parent must be a Maildir too (else it finds no local "Archiv").
    new = mail / "Archiv" / "Q&A Größe"
    for s in ("cur", "new", "tmp"):
        (new / s).mkdir(parents=True)
        (mail / "Archiv" / s).mkdir()
    (new / "new" / "1700000001.local2.test").write_bytes(
        lf(message("ar0", "archived\r\n")))
    # Server changes, through the CLI while the server runs.
    deliver(accounts, "alice", message("in3", "fourth\r\n"))
    accounts.ok("message", "flag", "alice", "Work/Projects", "1",
                "-\\Flagged", "+\\Answered")
    accounts.ok("message", "flag", "alice", uni, "1", "+\\Seen")
    accounts.ok("message", "flag", "alice", uni, "2", "+\\Deleted")
    accounts.ok("message", "expunge", "alice", uni)
    accounts.ok("mailbox", "create", "alice", "R&D Ω")
    deliver(accounts, "alice", message("ss0", "made remotely\r\n"),
            "--mailbox", "R&D Ω")

    out = offlineimap(rc, tls)
    if tls:
        assert '"15-Nov-2023 03:43:20 +0530"' in out, out
    second = {
        "INBOX": [("in0", "FS"), ("in1", "S"), ("in2", "R"), ("in3", "")],
        "Work/Projects": [("wp0", "Ra")],
        uni: [("u0", "S"), ("u2 local", "S")],
        "Archiv": [],
        "Archiv/Q&A Größe": [("ar0", "")],
        "R&D Ω": [("ss0", "")],
    }
    local = local_state(mail)
    assert summary(local) == second
    assert local == server_state(accounts)
    # What was uploaded is stored with CRLF, byte for byte.
    up = [uid for uid, _, s in rows(accounts, uni) if s == "u2 local"]
    assert show(accounts, uni, up[0]) == message("u2 local",
                                                 bulky("u2", 300))
    # Its INTERNALDATE, sent as "15-Nov-2023 03:43:20 +0530", is
    # 1700000000 in UTC.
    dates = [l.split("\t")[3] for l in accounts.ok(
        "message", "list", "alice", uni).splitlines()
        if l.split("\t")[-1] == "u2 local"]
    assert dates == ["2023-11-14T22:13:20Z"]

    # A third run changes nothing on either side.
    def snapshot():
        return (accounts.ok("mailbox", "list", "alice"),
                {b: rows(accounts, b) for b in second}, local_files(mail))
    before = snapshot()
    out = offlineimap(rc, tls)
    assert snapshot() == before
    for word in ("Copy message", "Deleting", "Adding flag",
                 "Removing flag", "Creating folder"):
        assert word not in out, out
