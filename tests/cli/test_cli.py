# SPDX-License-Identifier: MIT
"""Tests of the `commune` administrator's CLI (issue 2): every command,
exit statuses, bad names refused with nothing modified, and the import /
export / reindex / check round trips. Runs the real binary ($COMMUNE_BIN)
through the `commune` fixture of tests/conftest.py, which appends
`--base BASE` at the end of every command line.
"""
import email.utils
import glob
import hashlib
import mailbox
import os
import re
import struct
import subprocess
import time

import pytest

# Not `from conftest import ...`: several conftest.py files exist and
# which one Python finds under that name depends on collection order.
COMMUNE_BIN = os.environ.get(
    "COMMUNE_BIN",
    os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "build", "commune"))

EXIT_FAIL = 1
EXIT_USAGE = 2
EXIT_TEMPFAIL = 75


# ---------------------------------------------------------------- helpers

def snapshot(base):
    """Every path under base with its type, size and content hash: what
    a refused command must leave exactly as it was."""
    out = {}
    for root, dirs, files in os.walk(base):
        for d in dirs:
            p = os.path.join(root, d)
            out[os.path.relpath(p, base)] = "dir"
        for f in files:
            p = os.path.join(root, f)
            with open(p, "rb") as fh:
                digest = hashlib.sha256(fh.read()).hexdigest()
            out[os.path.relpath(p, base)] = (os.path.getsize(p), digest)
    return out


def msg(subject="hello", body="body\n", extra=""):
    """A message as the store keeps it: CRLF line ends (the CLI stores
    bare LFs as CRLF, as LMTP and IMAP do)."""
    return crlf(f"From: a@example.org\nTo: b@example.org\n"
                f"Subject: {subject}\n{extra}\n{body}".encode())


def crlf(data):
    """data with every bare LF made CRLF (src/lib/crlf.c)."""
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") \
        if b"\r" not in data else re.sub(rb"(?<!\r)\n", b"\r\n", data)


def deliver(commune, account, data, *args):
    p = commune.run("deliver", account, *args, input=data)
    assert p.returncode == 0, p.stderr
    return int(p.stdout.decode().strip())


def listing(commune, account, box):
    """`message list` as dicts: uid, flags (a set), size, date, subject."""
    out = []
    for line in commune.ok("message", "list", account, box).splitlines():
        uid, flags, size, date, subject = line.split("\t")
        assert flags.startswith("(") and flags.endswith(")")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", date)
        out.append({"uid": int(uid), "flags": set(flags[1:-1].split()),
                    "size": int(size), "date": date, "subject": subject})
    return out


def boxes(commune, account):
    """`mailbox list` as {name: [format, class, messages, unseen, bytes]}."""
    out = {}
    for line in commune.ok("mailbox", "list", account).splitlines():
        cols = line.split("\t")
        assert len(cols) == 6, line
        out[cols[0]] = cols[1:]
    return out


@pytest.fixture
def john(commune):
    commune.ok("account", "create", "john", "--password", "secret")
    return "john"


# ------------------------------------------------------------------ help

FAMILIES = {
    "domain": ["create", "delete", "list", "main"],
    "account": ["create", "list", "delete", "rename", "password", "show"],
    "mailbox": ["create", "list", "rename", "delete", "class", "subscribe",
                "unsubscribe", "subscriptions", "acl"],
    "message": ["list", "show", "flag", "copy", "move", "expunge"],
    "deliver": [None], "import": [None], "export": [None], "check": [None],
    "reindex": [None],
}


def test_help(commune, base):
    p = commune.run("--help")
    assert p.returncode == 0 and b"usage" in p.stdout and p.stderr == b""
    for family, verbs in FAMILIES.items():
        p = commune.run(family, "--help")
        assert p.returncode == 0, family
        assert f"commune {family}".encode() in p.stdout
        for verb in verbs:
            if verb is None:
                continue
            p = commune.run(family, verb, "--help")
            assert p.returncode == 0, (family, verb)
            assert p.stdout.startswith(
                f"usage: commune {family} {verb}".encode())
        assert commune.run("help", family).returncode == 0
    # Help anywhere on the line, even with arguments.
    p = commune.run("message", "flag", "john", "INBOX", "1", "-h")
    assert p.returncode == 0 and b"+FLAG" in p.stdout
    # Help never touches the base directory.
    assert snapshot(base) == {}


def test_usage_errors(commune, base):
    for args in [(), ("bogus",), ("account",), ("account", "bogus"),
                 ("account", "create"), ("account", "create", "a", "b"),
                 ("account", "create", "a", "--bogus"),
                 ("account", "create", "a", "--format", "mbox"),
                 ("account", "create", "a", "--type"),
                 ("account", "create", "a", "--type", "x"),
                 ("account", "create", "a", "--type", "mbox",
                  "--type", "mdir"),
                 ("message", "show", "a", "INBOX", "0"),
                 ("message", "show", "a", "INBOX", "x1"),
                 ("message", "show", "a", "INBOX", "4294967296"),
                 ("message", "flag", "a", "INBOX", "1", "Seen"),
                 ("export", "a", "INBOX", "p", "--force=yes")]:
        p = commune.run(*args)
        assert p.returncode == EXIT_USAGE, (args, p.stderr)
        assert p.stdout == b"", args
        assert p.stderr.startswith(b"commune: ") or \
            p.stderr.startswith(b"usage:"), args
    assert snapshot(base) == {}


def test_base_option_anywhere(commune, base, tmp_path):
    other = tmp_path / "other"
    # conftest appends "--base BASE"; an earlier --base is overridden.
    commune.ok("--base", str(other), "account", "create", "a")
    assert os.path.isdir(base / "Accounts" / "a.macnt")
    assert not other.exists()
    # --base=DIR, before the command, no fixture.
    p = subprocess.run([COMMUNE_BIN, f"--base={other}", "account", "create",
                        "b"], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert os.path.isdir(other / "Accounts" / "b.macnt")
    # $COMMUNE_BASE when no --base.
    env = dict(os.environ, COMMUNE_BASE=str(other))
    p = subprocess.run([COMMUNE_BIN, "account", "list"], capture_output=True,
                       env=env, timeout=60)
    assert p.returncode == 0 and p.stdout == b"b\n"
    # ./var by default.
    env.pop("COMMUNE_BASE")
    p = subprocess.run([COMMUNE_BIN, "account", "create", "c"], cwd=tmp_path,
                       capture_output=True, env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    assert os.path.isdir(tmp_path / "var" / "Accounts" / "c.macnt")
    # "--" ends options: "--x" is then an argument (an invalid name).
    p = commune.run("account", "create", "--", "--x")
    assert p.returncode == EXIT_FAIL
    assert b"invalid account name" in p.stderr


# --------------------------------------------------------------- domains

def test_domains(commune):
    assert commune.ok("domain", "list") == ""
    assert commune.ok("domain", "main") == "localhost\n"
    commune.ok("domain", "create", "example.org")
    commune.ok("domain", "create", "b.example")
    assert commune.ok("domain", "list") == "b.example\nexample.org\n"
    p = commune.run("domain", "create", "example.org")
    assert p.returncode == EXIT_FAIL and p.stderr.startswith(b"commune: ")
    for bad in ["../x", "/etc", "a..b", "-a.org", "a b", "x" * 300, ""]:
        p = commune.run("domain", "create", bad)
        assert p.returncode == EXIT_FAIL, bad
    commune.ok("account", "create", "u@example.org")
    p = commune.run("domain", "delete", "example.org")
    assert p.returncode == EXIT_FAIL
    commune.ok("account", "delete", "u@example.org")
    commune.ok("domain", "delete", "example.org")
    assert commune.ok("domain", "list") == "b.example\n"
    assert commune.run("domain", "delete", "nowhere.org").returncode == \
        EXIT_FAIL


def test_domain_alias(commune):
    commune.ok("account", "create", "bob@localhost")
    assert commune.ok("account", "list") == "bob\n"
    p = commune.run("account", "create", "bob")
    assert p.returncode == EXIT_FAIL and b"exists" in p.stderr
    assert "Name: bob\n" in commune.ok("account", "show", "bob@localhost")
    assert "Name: bob\n" in commune.ok("account", "show", "BOB")
    uid = deliver(commune, "bob@LOCALHOST", msg())
    assert [m["uid"] for m in listing(commune, "bob", "INBOX")] == [uid]
    # A new main domain name: the same accounts answer to it.
    commune.ok("domain", "main", "mail.example.com")
    assert commune.ok("domain", "main") == "mail.example.com\n"
    assert "Name: bob\n" in commune.ok("account", "show",
                                       "bob@mail.example.com")
    assert commune.run("account", "show", "bob@localhost").returncode == \
        EXIT_FAIL


# -------------------------------------------------------------- accounts

def test_accounts(commune, base):
    commune.ok("account", "create", "john", "--password", "s3cret-pw")
    commune.ok("account", "create", "mary", "--type", "mbox")
    commune.ok("account", "create", "sam", "--type", "mdir")
    commune.ok("domain", "create", "example.org")
    commune.ok("account", "create", "ann@example.org")
    assert commune.ok("account", "list") == "john\nmary\nsam\n"
    assert commune.ok("account", "list", "example.org") == \
        "ann@example.org\n"
    assert commune.ok("account", "list", "localhost") == "john\nmary\nsam\n"
    assert commune.run("account", "list", "nowhere.org").returncode == \
        EXIT_FAIL

    show = commune.ok("account", "show", "john")
    assert "Name: john\n" in show and "Type: multi\n" in show
    assert "Mailboxes: 1\n" in show and "Settings:\n" in show
    assert "s3cret-pw" not in show and "(hidden)" in show
    assert not re.search(r"\$(y|6|5|2b)\$", show)
    assert "Type: mbox\n" in commune.ok("account", "show", "mary")
    assert "Type: mdir\n" in commune.ok("account", "show", "sam")
    assert "Domain: example.org\n" in commune.ok("account", "show",
                                                 "ann@example.org")

    assert commune.run("account", "create", "john").returncode == EXIT_FAIL
    assert commune.run("account", "show", "nobody").returncode == EXIT_FAIL
    assert commune.run("account", "delete", "nobody").returncode == EXIT_FAIL

    # Password from the command line and from stdin; never in the files.
    commune.ok("account", "password", "john", "other-pw")
    commune.ok("account", "password", "john", "-", input="stdin-pw\n")
    commune.ok("account", "create", "kim", "--password", "-",
               input="kim-pw\n")
    for path, (kind) in snapshot(base).items():
        if kind == "dir":
            continue
        data = open(base / path, "rb").read()
        for secret in [b"s3cret-pw", b"other-pw", b"stdin-pw", b"kim-pw"]:
            assert secret not in data, path
    assert commune.run("account", "password", "nobody", "x").returncode == \
        EXIT_FAIL

    # Rename, also across domains; the mail goes along.
    uid = deliver(commune, "john", msg("keep me"))
    commune.ok("account", "rename", "john", "jack")
    assert commune.run("account", "show", "john").returncode == EXIT_FAIL
    assert listing(commune, "jack", "INBOX")[0]["uid"] == uid
    commune.ok("account", "rename", "jack", "jack@example.org")
    assert commune.ok("account", "list", "example.org") == \
        "ann@example.org\njack@example.org\n"
    assert listing(commune, "jack@example.org", "INBOX")[0]["subject"] == \
        "keep me"
    assert commune.run("account", "rename", "mary", "sam").returncode == \
        EXIT_FAIL
    assert commune.run("account", "rename", "nobody", "x").returncode == \
        EXIT_FAIL

    commune.ok("account", "delete", "jack@example.org")
    commune.ok("account", "delete", "mary")
    assert commune.ok("account", "list") == "kim\nsam\n"
    assert not glob.glob(str(base / "Accounts" / "mary*"))


BAD_ACCOUNT_NAMES = ["../x", "/etc", "a/../b", "a/b", "a\x01b", "a\tb",
                     "x" * 300, "~other", ".hidden", "a b", "", "a@",
                     "a@../x", "a@nowhere.org", "-x"]
BAD_MAILBOX_NAMES = ["../x", "/etc", "a/../b", "a//b", "a/", "a\x01b",
                     "a\x7fb", "x" * 600, "/".join(["d"] * 40),
                     "~other/x", "..", ".", "", "x.mbox", "a/x.mdir"]


def test_bad_names_change_nothing(commune, base, tmp_path, john):
    deliver(commune, john, msg())
    commune.ok("mailbox", "create", john, "Work")
    commune.ok("mailbox", "subscribe", john, "Work")
    mbox_file = tmp_path / "in.mbox"
    box = mailbox.mbox(str(mbox_file))
    box.add(mailbox.mboxMessage(msg()))
    box.close()
    before = snapshot(base)
    for bad in BAD_ACCOUNT_NAMES:
        for args in [("account", "create", bad),
                     ("account", "rename", john, bad),
                     ("account", "delete", bad),
                     ("account", "password", bad, "x"),
                     ("account", "show", bad),
                     ("mailbox", "create", bad, "x"),
                     ("deliver", bad),
                     ("import", bad, "INBOX", str(mbox_file))]:
            p = commune.run(*args, input=msg())
            assert p.returncode == EXIT_FAIL, (args, p.stderr)
            assert p.stderr.startswith(b"commune: "), args
            assert snapshot(base) == before, args
    for bad in BAD_MAILBOX_NAMES:
        for args in [("mailbox", "create", john, bad),
                     ("mailbox", "rename", john, "Work", bad),
                     ("mailbox", "rename", john, bad, "New"),
                     ("mailbox", "delete", john, bad),
                     ("mailbox", "class", john, bad, "IPF.Task"),
                     ("mailbox", "subscribe", john, bad),
                     ("mailbox", "unsubscribe", john, bad),
                     ("message", "list", john, bad),
                     ("message", "copy", john, "INBOX", "1", bad),
                     ("message", "move", john, "INBOX", "1", bad),
                     ("deliver", john, "--mailbox", bad),
                     ("import", john, bad, str(mbox_file)),
                     ("export", john, bad, str(tmp_path / "out.mbox"))]:
            if bad.startswith("~") and args[1] in ("subscribe",
                                                   "unsubscribe"):
                continue    # other users' mailboxes may be subscribed
            p = commune.run(*args, input=msg())
            assert p.returncode == EXIT_FAIL, (args, p.stderr)
            assert p.stderr.startswith(b"commune: "), args
            assert snapshot(base) == before, args
    assert not os.path.exists(tmp_path / "out.mbox")
    # Error texts never echo control characters.
    p = commune.run("mailbox", "create", john, "a\x1b[2Jb")
    assert p.returncode == EXIT_FAIL and b"\x1b" not in p.stderr


# ------------------------------------------------------------- mailboxes

def test_mailboxes(commune, john):
    commune.ok("mailbox", "create", john, "Work/Projects", "--format",
               "mdir")
    commune.ok("mailbox", "create", john, "Calendar", "--class",
               "IPF.Appointment")
    commune.ok("mailbox", "create", john, "Sent", "--format", "mbox")
    got = boxes(commune, john)
    assert list(got) == ["INBOX", "Calendar", "Sent", "Work",
                         "Work/Projects"]
    assert got["INBOX"] == ["mbox", "-", "0", "0", "0"]
    assert got["Calendar"] == ["mbox", "IPF.Appointment", "0", "0", "0"]
    assert got["Work"] == ["-", "-", "-", "-", "-"]
    assert got["Work/Projects"] == ["mdir", "-", "0", "0", "0"]
    assert commune.run("mailbox", "create", john, "Sent").returncode == \
        EXIT_FAIL
    assert commune.run("mailbox", "create", john, "X", "--format",
                       "maildir").returncode == EXIT_USAGE

    # Counts: messages, unseen, bytes.
    a = msg("one")
    b = msg("two", body="longer body\n")
    deliver(commune, john, a, "--mailbox", "Work/Projects")
    deliver(commune, john, b, "--mailbox", "Work/Projects", "--flags",
            "\\Seen")
    assert boxes(commune, john)["Work/Projects"] == \
        ["mdir", "-", "2", "1", str(len(a) + len(b))]

    # Class.
    assert commune.ok("mailbox", "class", john, "Calendar") == \
        "IPF.Appointment\n"
    commune.ok("mailbox", "class", john, "Sent", "IPF.Task")
    assert commune.ok("mailbox", "class", john, "Sent") == "IPF.Task\n"
    commune.ok("mailbox", "class", john, "Sent", "mail")
    assert commune.ok("mailbox", "class", john, "Sent") == "-\n"
    assert commune.run("mailbox", "class", john, "Nope").returncode == \
        EXIT_FAIL

    # Rename with children; delete keeps children.
    commune.ok("mailbox", "create", john, "Work")
    commune.ok("mailbox", "rename", john, "Work", "Job")
    got = boxes(commune, john)
    assert "Work" not in got and "Work/Projects" not in got
    assert got["Job/Projects"][2] == "2"
    commune.ok("mailbox", "delete", john, "Job")
    got = boxes(commune, john)
    assert "Job/Projects" in got
    assert got.get("Job", ["-"])[0] == "-"
    assert commune.run("mailbox", "delete", john, "Nope").returncode == \
        EXIT_FAIL
    assert commune.run("mailbox", "rename", john, "Sent",
                       "Calendar").returncode == EXIT_FAIL

    # Subscriptions: names need not exist.
    commune.ok("mailbox", "subscribe", john, "Sent")
    commune.ok("mailbox", "subscribe", john, "Later/Box")
    assert commune.ok("mailbox", "subscriptions", john) == \
        "Later/Box\nSent\n"
    commune.ok("mailbox", "unsubscribe", john, "Sent")
    assert commune.ok("mailbox", "subscriptions", john) == "Later/Box\n"


def test_inbox_rules(commune, john):
    uid = deliver(commune, john, msg("old inbox"))
    p = commune.run("mailbox", "delete", john, "INBOX")
    assert p.returncode == EXIT_FAIL and p.stderr.startswith(b"commune: ")
    p = commune.run("mailbox", "delete", john, "inbox")
    assert p.returncode == EXIT_FAIL
    commune.ok("mailbox", "rename", john, "INBOX", "Archive")
    got = boxes(commune, john)
    assert got["INBOX"][2] == "0" and got["Archive"][2] == "1"
    assert listing(commune, john, "INBOX") == []
    assert listing(commune, john, "Archive")[0]["uid"] == uid
    assert listing(commune, john, "Archive")[0]["subject"] == "old inbox"
    deliver(commune, john, msg("new inbox"))
    assert [m["subject"] for m in listing(commune, john, "inbox")] == \
        ["new inbox"]


@pytest.mark.parametrize("kind", ["mbox", "mdir"])
def test_single_mailbox_account(commune, base, kind):
    commune.ok("account", "create", "solo", "--type", kind)
    before = snapshot(base)
    p = commune.run("mailbox", "create", "solo", "Other")
    assert p.returncode == EXIT_FAIL
    assert b"INBOX" in p.stderr or b"single" in p.stderr
    assert snapshot(base) == before
    assert commune.run("mailbox", "rename", "solo", "INBOX",
                       "Old").returncode == EXIT_FAIL
    assert snapshot(base) == before
    assert boxes(commune, "solo") == {"INBOX": [kind, "-", "0", "0", "0"]}
    uid = deliver(commune, "solo", msg("solo mail"))
    assert commune.run("message", "show", "solo", "INBOX",
                       str(uid)).stdout == msg("solo mail")


# -------------------------------------------------------------- messages

BINARY = (b"From: a@b\r\nSubject: bin\r\n\r\n" + bytes(range(256)) +
          b"\x00\x00 NUL bytes\r\nFrom start of line\n>From quoted\n"
          b"\r\nno final newline")


@pytest.mark.parametrize("fmt", ["mbox", "mdir"])
def test_deliver_show_byte_exact(commune, john, fmt):
    """Every byte kept (NULs, "From " lines, no final line end), except
    that bare LFs are stored as CRLF, so that the size is what IMAP's
    RFC822.SIZE and POP3's LIST report and send."""
    commune.ok("mailbox", "create", john, "Box", "--format", fmt)
    samples = [BINARY, msg(), b"X: y\n\n", b"no header at all",
               b"From x\n\nFrom y\n", b"lone\rCR\r\n"]
    uids = [deliver(commune, john, s, "--mailbox", "Box") for s in samples]
    assert uids == sorted(uids) and len(set(uids)) == len(uids)
    for uid, data in zip(uids, samples):
        p = commune.run("message", "show", john, "Box", str(uid))
        assert p.returncode == 0 and p.stdout == crlf(data)
    sizes = [m["size"] for m in listing(commune, john, "Box")]
    assert sizes == [len(crlf(s)) for s in samples]
    p = commune.run("message", "show", john, "Box", "999")
    assert p.returncode == EXIT_FAIL and p.stdout == b""


def test_deliver_options(commune, base, john):
    uid = deliver(commune, john, msg(), "--flags",
                  "\\Seen,\\flagged $Label1 work", "--from", "x@y.org")
    m = listing(commune, john, "INBOX")[0]
    assert m["uid"] == uid
    assert m["flags"] == {"\\Seen", "\\Flagged", "$Label1", "work"}
    before = snapshot(base)
    for flags in ["\\Recent", "\\Bogus", "bad(kw", "x" * 70]:
        p = commune.run("deliver", john, "--flags", flags, input=msg())
        assert p.returncode == EXIT_USAGE, flags
    assert commune.run("deliver", "nobody", input=msg()).returncode == \
        EXIT_FAIL
    assert commune.run("deliver", john, "--mailbox", "Nope",
                       input=msg()).returncode == EXIT_FAIL
    assert snapshot(base) == before


def test_deliver_too_large(commune, base, john):
    before = snapshot(base)
    big = b"Subject: big\n\n" + b"x" * (64 * 1024 * 1024)
    p = commune.run("deliver", john, input=big)
    assert p.returncode == EXIT_FAIL and b"larger" in p.stderr
    assert snapshot(base) == before


def test_deliver_io_error_is_tempfail(commune, base, john):
    """An I/O failure exits 75 (retry) and leaves no message behind."""
    tempfails = 0
    for spec in ["fsync:1", "write:1:ENOSPC", "rename:1", "open:1:EIO"]:
        count = len(listing(commune, john, "INBOX"))
        p = commune.run("deliver", john, input=msg(),
                        env={"COMMUNE_VFS_FAIL": spec})
        if p.returncode == 0:
            # The path did not need that call: then the message is there.
            assert len(listing(commune, john, "INBOX")) == count + 1
            continue
        tempfails += 1
        assert p.returncode == EXIT_TEMPFAIL, (spec, p.stderr)
        assert p.stdout == b""
        assert len(listing(commune, john, "INBOX")) == count, spec
    assert tempfails > 0


def test_message_list_subjects(commune, john):
    subjects = [
        (b"plain", "plain"),
        (b"=?UTF-8?B?w6lsw6h2ZQ==?=", "\u00e9l\u00e8ve"),
        (b"=?iso-8859-1?q?caf=E9?= au lait", "caf\u00e9 au lait"),
        (b"a\r\n folded\r\n\tline", "a folded\tline".replace("\t", "?")),
        (b"=?UTF-8?Q?bell=07?=", "bell?"),
        (b"tab\there", "tab?here"),
        (b"raw \xe9 latin1", "raw \ufffd latin1"),
    ]
    for raw, _ in subjects:
        deliver(commune, john, b"Subject: " + raw + b"\r\n\r\nx\r\n")
    deliver(commune, john, b"From: nobody\n\nno subject\n")
    got = listing(commune, john, "INBOX")
    assert [m["subject"] for m in got] == [s for _, s in subjects] + [""]
    assert all(m["flags"] == set() for m in got)


def test_message_list_header_cache(commune, base, john):
    """`message list` takes subjects from the header cache beside the
    mailbox (NAME.mbox.cache); a damaged, truncated, foreign or missing
    cache never gives a wrong subject, and is rewritten."""
    for i in range(20):
        deliver(commune, john, msg(f"first-{i}"))
    cache = base / "Accounts" / "john.macnt" / "INBOX.mbox.cache"
    want = [f"first-{i}" for i in range(20)]
    # delivery wrote each message's record: the listing reads no message
    # and adds nothing
    data = cache.read_bytes()
    assert b"first-19" in data and b"To:" in data and b"body" not in data
    assert [m["subject"] for m in listing(commune, john, "INBOX")] == want
    assert cache.read_bytes() == data
    # served from the cache: a subject changed in the file behind the
    # store's back (never done in real life: messages do not change)
    # does not show
    mbox = cache.with_name("INBOX.mbox")
    mbox.write_bytes(mbox.read_bytes().replace(b"first-3\n", b"FIRST-3\n"))
    assert [m["subject"] for m in listing(commune, john, "INBOX")] == want
    mbox.write_bytes(mbox.read_bytes().replace(b"FIRST-3\n", b"first-3\n"))
    # damage: a flipped byte in a record, a torn tail, garbage, nothing
    for bad in (data[:200] + bytes([data[200] ^ 0x55]) + data[201:],
                data[:-7], b"garbage" * 50, b""):
        cache.write_bytes(bad)
        got = [m["subject"] for m in listing(commune, john, "INBOX")]
        assert got == want
    assert b"first-19" in cache.read_bytes()
    # new messages are added to it
    deliver(commune, john, msg("later"))
    assert listing(commune, john, "INBOX")[-1]["subject"] == "later"
    assert b"later" in cache.read_bytes()
    # a cache of an older mailbox of the same name is not believed
    old = cache.read_bytes()
    commune.ok("mailbox", "create", john, "Box")
    deliver(commune, john, msg("in-box"), "--mailbox", "Box")
    listing(commune, john, "Box")
    box_cache = cache.with_name("Box.mbox.cache")
    assert box_cache.exists()
    commune.ok("mailbox", "delete", john, "Box")
    assert not box_cache.exists()
    commune.ok("mailbox", "create", john, "Box")
    deliver(commune, john, msg("new-box"), "--mailbox", "Box")
    box_cache.write_bytes(old)      # UID 1 of another UIDVALIDITY
    assert [m["subject"] for m in listing(commune, john, "Box")] == \
        ["new-box"]
    # it follows a rename
    commune.ok("mailbox", "rename", john, "Box", "Other")
    assert not box_cache.exists()
    assert cache.with_name("Other.mbox.cache").exists()
    assert [m["subject"] for m in listing(commune, john, "Other")] == \
        ["new-box"]
    assert commune.run("check", john).returncode == 0


def test_message_list_header_cache_mdir_and_expunge(commune, base):
    """.mdir too; expunged messages' records go when they outnumber the
    live ones by far."""
    commune.ok("account", "create", "mary", "--password", "pw",
               "--type", "mdir")
    uids = [deliver(commune, "mary", msg(f"m-{i}")) for i in range(40)]
    assert [m["subject"] for m in listing(commune, "mary", "INBOX")] == \
        [f"m-{i}" for i in range(40)]
    cache = base / "Accounts" / "mary.mdir.cache"
    assert b"m-39" in cache.read_bytes()
    for uid in uids[:39]:
        commune.ok("message", "flag", "mary", "INBOX", str(uid),
                   "+\\Deleted")
    commune.ok("message", "expunge", "mary", "INBOX")
    assert [m["subject"] for m in listing(commune, "mary", "INBOX")] == \
        ["m-39"]
    commune.ok("account", "delete", "mary")
    assert not cache.exists()


def test_message_dates(commune, tmp_path, john):
    box = mailbox.mbox(str(tmp_path / "d.mbox"))
    m = mailbox.mboxMessage(msg("dated"))
    m.set_from("MAILER-DAEMON", time.gmtime(1000000000))
    box.add(m)
    box.close()
    commune.ok("import", john, "INBOX", str(tmp_path / "d.mbox"))
    assert listing(commune, john, "INBOX")[0]["date"] == \
        "2001-09-09T01:46:40Z"


def test_flags(commune, base, john):
    uid = str(deliver(commune, john, msg()))
    commune.ok("message", "flag", john, "INBOX", uid, "+\\Seen", "+\\flagged",
               "+$Label1", "+Work")
    assert listing(commune, john, "INBOX")[0]["flags"] == \
        {"\\Seen", "\\Flagged", "$Label1", "Work"}
    # Adds and removes together, case-insensitive names.
    commune.ok("message", "flag", john, "INBOX", uid, "-\\SEEN", "-work",
               "+\\Answered", "+\\Draft", "+\\Deleted")
    assert listing(commune, john, "INBOX")[0]["flags"] == \
        {"\\Flagged", "$Label1", "\\Answered", "\\Draft", "\\Deleted"}
    # Removing an unknown keyword is a no-op.
    commune.ok("message", "flag", john, "INBOX", uid, "-NeverSeen")
    before = snapshot(base)
    for bad in [["+\\Recent"], ["+\\Bogus"], ["Seen"], ["+"], ["+a(b"],
                ["+" + "k" * 65], ["+\\Seen", "-\\seen"], ["+a", "-A"],
                ["+a]b"], ["+a b"], ["+\u00e9"]]:
        p = commune.run("message", "flag", john, "INBOX", uid, *bad)
        assert p.returncode == EXIT_USAGE, bad
    assert commune.run("message", "flag", john, "INBOX", "999",
                       "+\\Seen").returncode == EXIT_FAIL
    assert commune.run("message", "flag", john, "Nope", uid,
                       "+\\Seen").returncode == EXIT_FAIL
    assert snapshot(base) == before


@pytest.mark.parametrize("fmt", ["mbox", "mdir"])
def test_copy_move_expunge(commune, base, john, fmt):
    commune.ok("mailbox", "create", john, "Other", "--format", fmt)
    a = deliver(commune, john, msg("a"), "--flags", "\\Seen $Label1")
    b = deliver(commune, john, msg("b"))
    c = deliver(commune, john, msg("c"))

    new = int(commune.ok("message", "copy", john, "INBOX", str(a), "Other"))
    got = listing(commune, john, "Other")
    assert [m["uid"] for m in got] == [new]
    assert got[0]["flags"] == {"\\Seen", "$Label1"}
    assert got[0]["date"] == listing(commune, john, "INBOX")[0]["date"]
    assert commune.run("message", "show", john, "Other",
                       str(new)).stdout == msg("a")
    assert len(listing(commune, john, "INBOX")) == 3

    moved = int(commune.ok("message", "move", john, "INBOX", str(b),
                           "Other"))
    assert moved > new
    assert [m["uid"] for m in listing(commune, john, "INBOX")] == [a, c]
    assert [m["subject"] for m in listing(commune, john, "Other")] == \
        ["a", "b"]
    # into the mailbox it is in: a new UID, nothing lost
    again = int(commune.ok("message", "move", john, "Other", str(moved),
                           "Other"))
    assert again > moved
    assert [(m["uid"], m["subject"]) for m in
            listing(commune, john, "Other")] == [(new, "a"), (again, "b")]
    assert commune.run("message", "show", john, "Other",
                       str(again)).stdout == msg("b")

    before = snapshot(base)
    for args in [("copy", john, "INBOX", "999", "Other"),
                 ("copy", john, "INBOX", str(a), "Nope"),
                 ("move", john, "INBOX", str(a), "Nope"),
                 ("copy", john, "Nope", str(a), "Other")]:
        assert commune.run("message", *args).returncode == EXIT_FAIL, args
    assert snapshot(base) == before

    commune.ok("message", "flag", john, "INBOX", str(c), "+\\Deleted")
    assert commune.ok("message", "expunge", john, "INBOX") == f"{c}\n"
    assert [m["uid"] for m in listing(commune, john, "INBOX")] == [a]
    assert commune.ok("message", "expunge", john, "INBOX") == ""
    # UIDs are never reused.
    assert deliver(commune, john, msg("d")) > c


# ------------------------------------------------------- import / export

PY_FLAGS = [("", set()), ("R", {"\\Seen"}), ("RA", {"\\Seen", "\\Answered"}),
            ("F", {"\\Flagged"}), ("RD", {"\\Seen", "\\Deleted"}),
            ("ROFA", {"\\Seen", "\\Flagged", "\\Answered"})]


def python_mbox(path):
    """An mbox written by Python's mailbox module, one message per
    PY_FLAGS entry; returns the bodies."""
    box = mailbox.mbox(str(path))
    bodies = []
    for i, (flags, _) in enumerate(PY_FLAGS):
        body = f"message {i}\nFrom inside the body\n>From quoted\n\nend\n"
        m = mailbox.mboxMessage(msg(f"subject {i}", body=body))
        m.set_from("sender@example.org", time.gmtime(1600000000 + i * 3600))
        m.set_flags(flags)
        box.add(m)
        bodies.append(body)
    box.close()
    return bodies


def big_mbox(path, count):
    """count seen messages in the layout mailbox.mbox writes (written
    directly: the module is slow for thousands)."""
    with open(path, "wb") as f:
        for i in range(count):
            f.write(b"From sender@example.org Sun Sep 13 12:26:40 2020\n" +
                    msg(f"subject {i}", body=f"message {i}\n",
                        extra="Status: RO\n") + b"\n")


def body_of(data):
    return data.split(b"\n\n", 1)[1]


def test_import_export_python_mbox(commune, tmp_path, john):
    src = tmp_path / "in.mbox"
    python_mbox(src)
    out = commune.ok("import", john, "Imported", str(src))
    assert "6 messages" in out
    got = listing(commune, john, "Imported")
    assert [m["flags"] for m in got] == [f for _, f in PY_FLAGS]
    assert [m["subject"] for m in got] == [f"subject {i}" for i in
                                          range(len(PY_FLAGS))]
    assert [m["date"] for m in got] == [
        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1600000000 + i * 3600))
        for i in range(len(PY_FLAGS))]
    # Status and X-Status are gone from the stored message; the rest is
    # as Python wrote it (mboxo: Python escaped "From " in the body and
    # our mboxrd reading takes one '>' away again), with CRLF line ends.
    shown = commune.run("message", "show", john, "Imported",
                        str(got[1]["uid"])).stdout
    assert b"Status:" not in shown
    assert b"\r\nFrom inside the body\r\n" in shown
    assert b"\n" not in shown.replace(b"\r\n", b"")

    dst = tmp_path / "out.mbox"
    commune.ok("export", john, "Imported", str(dst))
    exported = mailbox.mbox(str(dst))
    keys = sorted(exported.keys())
    assert len(keys) == len(PY_FLAGS)
    original = mailbox.mbox(str(src))
    for key, okey, (flags, _) in zip(keys, sorted(original.keys()),
                                     PY_FLAGS):
        e, o = exported[key], original[okey]
        assert set(e.get_flags()) - {"O"} == set(flags) - {"O"}
        assert e["Subject"] == o["Subject"]
        assert e.get_payload() == o.get_payload().replace(
            ">From inside", "From inside") or \
            e.get_payload() == o.get_payload()
    # What we export, we import back identically.
    commune.ok("import", john, "Again", str(dst))
    again = listing(commune, john, "Again")
    assert [(m["flags"], m["date"], m["size"], m["subject"]) for m in again] \
        == [(m["flags"], m["date"], m["size"], m["subject"]) for m in got]
    for m1, m2 in zip(got, again):
        assert commune.run("message", "show", john, "Imported",
                           str(m1["uid"])).stdout == \
            commune.run("message", "show", john, "Again",
                        str(m2["uid"])).stdout


def test_export_keywords_and_from_quoting(commune, tmp_path, john):
    data = b"Subject: q\n\nFrom a\n>From b\n>>From c\nFrom: not a header\n"
    deliver(commune, john, data, "--flags", "\\Seen \\Draft $Label1 work")
    dst = tmp_path / "out.mbox"
    commune.ok("export", john, "INBOX", str(dst))
    text = dst.read_bytes()
    assert text.startswith(b"From MAILER-DAEMON ")
    assert b"\n>From a\n>>From b\n>>>From c\nFrom: not a header\n" in text
    assert b"Status: RO\n" in text and b"X-Status: T\n" in text
    assert b"X-Keywords: $Label1 work\n" in text
    commune.ok("import", john, "Back", str(dst))
    m = listing(commune, john, "Back")[0]
    assert m["flags"] == {"\\Seen", "\\Draft", "$Label1", "work"}
    assert commune.run("message", "show", john, "Back",
                       str(m["uid"])).stdout == crlf(data)


def test_import_maildir_python(commune, tmp_path, john):
    md = mailbox.Maildir(str(tmp_path / "Maildir"))
    cases = [("", "new", set()), ("S", "cur", {"\\Seen"}),
             ("RS", "cur", {"\\Seen", "\\Answered"}),
             ("FT", "cur", {"\\Flagged", "\\Deleted"}),
             ("DP", "cur", {"\\Draft", "$Forwarded"})]
    for i, (flags, sub, _) in enumerate(cases):
        m = mailbox.MaildirMessage(msg(f"md {i}", body=f"body {i}\n"))
        m.set_subdir(sub)
        m.set_flags(flags)
        m.set_date(1500000000 + i * 60)
        md.add(m)
        time.sleep(0.002)
    md.close()
    commune.ok("import", john, "FromMaildir", str(tmp_path / "Maildir"),
               "--format", "mdir")
    assert boxes(commune, john)["FromMaildir"][0] == "mdir"
    got = listing(commune, john, "FromMaildir")
    assert [m["subject"] for m in got] == [f"md {i}" for i in
                                          range(len(cases))]
    assert [m["flags"] for m in got] == [f for _, _, f in cases]
    assert [m["date"] for m in got] == [
        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1500000000 + i * 60))
        for i in range(len(cases))]
    for i, m in enumerate(got):
        assert commune.run("message", "show", john, "FromMaildir",
                           str(m["uid"])).stdout == \
            msg(f"md {i}", body=f"body {i}\n")
    # Export and compare bodies with what Python wrote.
    dst = tmp_path / "md.mbox"
    commune.ok("export", john, "FromMaildir", str(dst))
    exported = mailbox.mbox(str(dst))
    assert [exported[k].get_payload() for k in sorted(exported.keys())] == \
        [f"body {i}\n" for i in range(len(cases))]


def test_import_maildir_dovecot_keywords(commune, tmp_path, john):
    md = tmp_path / "md"
    for sub in ["cur", "new", "tmp"]:
        (md / sub).mkdir(parents=True)
    (md / "dovecot-keywords").write_text("0 $Label1\n1 work\n3 never\n")
    files = [("cur/1600000001.M1P1.host:2,Sab", {"\\Seen", "$Label1",
                                                 "work"}),
             ("cur/1600000002.M1P1.host:2,bz", {"work"}),
             ("new/1600000003.M1P1.host", set()),
             ("tmp/1600000004.M1P1.host", None),
             ("cur/.hidden:2,S", None)]
    for i, (name, _) in enumerate(files):
        (md / name).write_bytes(msg(f"k{i}"))
        os.utime(md / name, (1600000000 + i, 1600000000 + i))
    commune.ok("import", john, "K", str(md))
    got = listing(commune, john, "K")
    assert [m["flags"] for m in got] == [f for _, f in files if f is not None]
    assert [m["subject"] for m in got] == ["k0", "k1", "k2"]


def test_import_interrupted_takes_everything_back(commune, tmp_path, john):
    import signal
    src = tmp_path / "big.mbox"
    big_mbox(src, 20000)
    commune.ok("mailbox", "create", john, "Target")
    for delay in [0.2, 0.5, 1.0]:
        proc = subprocess.Popen([COMMUNE_BIN, "import", john, "Target",
                                 str(src), "--base", commune.base],
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
        count = len(listing(commune, john, "Target"))
        if proc.returncode == 0:
            assert count == 20000
            return
        assert count == 0, proc.returncode
        if proc.returncode == -signal.SIGINT:
            continue        # killed before main() caught signals
        assert proc.returncode == EXIT_FAIL, err
        assert b"interrupted" in err


def test_import_big_mbox_in_batches(commune, tmp_path, john):
    src = tmp_path / "big.mbox"
    big_mbox(src, 2500)
    p = commune.run("import", john, "Big", str(src))
    assert p.returncode == 0, p.stderr
    assert b"\r" not in p.stderr        # no progress bar on a pipe
    got = listing(commune, john, "Big")
    assert len(got) == 2500
    assert [m["uid"] for m in got] == sorted(m["uid"] for m in got)
    assert all(m["flags"] == {"\\Seen"} for m in got)


def test_progress_bar_only_on_a_terminal(commune, tmp_path, john):
    import pty
    import select
    src = tmp_path / "p.mbox"
    big_mbox(src, 50)
    master, slave = pty.openpty()
    try:
        p = subprocess.run([COMMUNE_BIN, "import", john, "P", str(src),
                            "--base", commune.base], stdout=subprocess.PIPE,
                           stderr=slave, stdin=subprocess.DEVNULL,
                           timeout=60)
        os.close(slave)
        slave = None
        out = b""
        for _ in range(100):
            ready, _, _ = select.select([master], [], [], 1)
            if not ready:
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    finally:
        if slave is not None:
            os.close(slave)
        os.close(master)
    assert p.returncode == 0
    assert b"\rimport [" in out and b"50/50" in out, out
    assert b"\r" not in p.stdout
    p = commune.run("export", john, "P", str(tmp_path / "e.mbox"))
    assert p.returncode == 0 and p.stderr == b""


def test_import_errors_change_nothing(commune, base, tmp_path, john):
    deliver(commune, john, msg())
    not_mbox = tmp_path / "notes.txt"
    not_mbox.write_bytes(b"Subject: x\n\nnot an mbox\n")
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    before = snapshot(base)
    for path in [not_mbox, empty_dir, tmp_path / "missing"]:
        for box in ["INBOX", "NewBox"]:
            p = commune.run("import", john, box, str(path))
            assert p.returncode == EXIT_FAIL, (path, p.stderr)
            assert snapshot(base) == before, path
    # An empty mbox imports nothing.
    (tmp_path / "empty.mbox").write_bytes(b"")
    assert "0 messages" in commune.ok("import", john, "INBOX",
                                      str(tmp_path / "empty.mbox"))


def test_import_failure_takes_everything_back(commune, base, tmp_path,
                                              john):
    """A store failure in a later batch removes the earlier batches."""
    src = tmp_path / "big.mbox"
    big_mbox(src, 1500)
    commune.ok("mailbox", "create", john, "Target")
    deliver(commune, john, msg("already here"), "--mailbox", "Target")
    before = listing(commune, john, "Target")
    failed = 0
    for n in range(1, 40):
        env = {"COMMUNE_VFS_FAIL": f"fsync:{n}"}
        p = commune.run("import", john, "Target", str(src), env=env)
        if p.returncode == 0:
            break
        failed += 1
        assert p.returncode in (EXIT_FAIL, EXIT_TEMPFAIL), p.stderr
        assert b"could not take back" not in p.stderr
        assert listing(commune, john, "Target") == before, n
    assert failed > 1


def test_import_failure_removes_created_mailbox(commune, base, tmp_path,
                                                john):
    """A mailbox the failed import created goes away again: whether the
    store fails while creating it or while appending to it."""
    src = tmp_path / "big.mbox"
    big_mbox(src, 1500)
    failed = 0
    for n in range(1, 40):
        before = snapshot(base)
        p = commune.run("import", john, "Fresh", str(src),
                        env={"COMMUNE_VFS_FAIL": f"fsync:{n}"})
        if p.returncode == 0:
            break
        failed += 1
        assert p.returncode in (EXIT_FAIL, EXIT_TEMPFAIL), p.stderr
        assert "Fresh" not in boxes(commune, john), n
        assert sorted(k for k in snapshot(base) if "Fresh" in k) == [], n
        del before
    assert failed > 1
    assert len(listing(commune, john, "Fresh")) == 1500


def test_export_atomic(commune, tmp_path, john):
    deliver(commune, john, msg())
    dst = tmp_path / "out.mbox"
    dst.write_bytes(b"precious")
    p = commune.run("export", john, "INBOX", str(dst))
    assert p.returncode == EXIT_FAIL and b"exists" in p.stderr
    assert dst.read_bytes() == b"precious"
    commune.ok("export", john, "INBOX", str(dst), "--force")
    assert dst.read_bytes().startswith(b"From ")
    # A failed write leaves no file and no temp file.
    dst2 = tmp_path / "out2.mbox"
    for spec in ["write:1:ENOSPC", "fsync:1", "link:1"]:
        p = commune.run("export", john, "INBOX", str(dst2),
                        env={"COMMUNE_VFS_FAIL": spec})
        assert p.returncode != 0, spec
        assert sorted(os.listdir(tmp_path)) == ["base", "out.mbox"], spec
    # "-" is standard output.
    p = commune.run("export", john, "INBOX", "-")
    assert p.returncode == 0 and p.stdout.startswith(b"From MAILER-DAEMON ")
    assert commune.run("export", john, "Nope", str(dst2)).returncode == \
        EXIT_FAIL


# ----------------------------------------------------- index and check

def state(commune, account, names):
    return {n: listing(commune, account, n) for n in names}


def test_reindex_after_index_loss(commune, base, john):
    commune.ok("mailbox", "create", john, "Dir", "--format", "mdir")
    for box in ["INBOX", "Dir"]:
        for i in range(5):
            deliver(commune, john, msg(f"{box} {i}"), "--mailbox", box)
        commune.ok("message", "flag", john, box, "2", "+\\Seen", "+$Label1")
        commune.ok("message", "flag", john, box, "3", "+\\Flagged",
                   "+Work")
        commune.ok("message", "flag", john, box, "4", "+\\Deleted")
        commune.ok("message", "expunge", john, box)
    before = state(commune, john, ["INBOX", "Dir"])
    idx = [p for p in glob.glob(str(base / "**" / "*"), recursive=True)
           if p.endswith(".idx") or ".idx." in os.path.basename(p)]
    assert idx, "no index files found"
    for p in idx:
        os.unlink(p)
    assert state(commune, john, ["INBOX", "Dir"]) == before
    for p in glob.glob(str(base / "**" / "*.idx"), recursive=True):
        os.unlink(p)
    commune.ok("reindex", john)
    assert state(commune, john, ["INBOX", "Dir"]) == before
    commune.ok("reindex", john, "Dir")
    assert state(commune, john, ["INBOX", "Dir"]) == before
    # UIDs are not reused after the index loss.
    assert deliver(commune, john, msg()) == 6
    assert commune.run("reindex", "nobody").returncode == EXIT_FAIL


def test_check(commune, base, john):
    commune.ok("mailbox", "create", john, "Dir", "--format", "mdir")
    for i in range(3):
        deliver(commune, john, msg(f"m {i}"))
        deliver(commune, john, msg(f"d {i}"), "--mailbox", "Dir")
    out = commune.ok("check", john)
    assert "INBOX: ok" in out and "Dir: ok" in out
    assert commune.ok("check", john, "Dir") == "Dir: ok\n"

    inbox = base / "Accounts" / "john.macnt" / "INBOX.mbox"
    data = inbox.read_bytes()
    seps = [m.start() for m in re.finditer(rb"(?m)^From ", data)]
    assert len(seps) == 3
    garbled = data[:seps[1]] + b"Frxm" + data[seps[1] + 4:]
    inbox.write_bytes(garbled)
    p = commune.run("check", john)
    assert p.returncode == EXIT_FAIL, p.stdout
    assert b"INBOX: " in p.stdout and b"INBOX: ok" not in p.stdout
    assert b"Dir: ok" in p.stdout
    # check changes nothing.
    assert inbox.read_bytes() == garbled


# ------------------------------------------- failed commands change nothing

# Counters in account.info (NAME.info) that only ever grow. A command
# may save them before a step that then fails: UIDNEXT before expunging
# the highest UID (a failed move's copies are expunged again, and their
# UIDs must stay used), UIDNEXT and HIGHESTMODSEQ when an index is
# rebuilt (every command here runs on a copied base, so on new inodes),
# LastUIDValidity when a mailbox was created and taken back. UIDs and
# UIDVALIDITYs must only never be reused, so that growth is no change.
INFO_COUNTER = re.compile(
    rb"^(\s*)(UIDNext|HighestModSeq|LastUIDValidity) = (\d+);$", re.M)


class InfoView:
    """account.info without its counters, and the counters in order."""

    def __init__(self, data):
        self.counters = [int(m.group(3))
                         for m in INFO_COUNTER.finditer(data)]
        self.text = INFO_COUNTER.sub(rb"\1\2 = N;", data)

    def grown_from(self, old):
        return (self.text == old.text and
                len(self.counters) == len(old.counters) and
                all(new >= was for new, was in
                    zip(self.counters, old.counters)))


def exp_records(data):
    """The (UID, MODSEQ) records of an expunge history (NAME.exp, see
    docs/storage-format.md): what a failed command must not change. Its
    header (the horizon) may be written by any open, like an index."""
    recs = set()
    for off in range(32, len(data) - 15, 16):
        uid, _crc, modseq = struct.unpack_from("<IIQ", data, off)
        recs.add((uid, modseq))
    return frozenset(recs)


def durable_snapshot(base):
    """snapshot() without the caches (index and header cache files may be
    rebuilt by any command, failed or not), with account.info as an
    InfoView."""
    out = {}
    for k, v in snapshot(base).items():
        if k.endswith(".idx") or k.endswith(".cache"):
            continue
        if k.endswith(".info") and v != "dir":
            v = InfoView((base / k).read_bytes())
        if k.endswith(".exp"):
            v = exp_records((base / k).read_bytes())
            if not v:
                continue        # an empty history is no history
        out[k] = v
    return out


def durable_unchanged(before, after):
    """Whether after is before, but for account.info counters that grew."""
    if before.keys() != after.keys():
        return False
    for k, v in before.items():
        if isinstance(v, InfoView):
            if not after[k].grown_from(v):
                return False
        elif after[k] != v:
            return False
    return True


FAULT_COMMANDS = [
    ("domain", "create", "example.org"),
    ("account", "create", "kim", "--password", "pw"),
    ("account", "create", "solo@example.org", "--type", "mdir"),
    ("account", "password", "kim", "pw2"),
    ("mailbox", "create", "john", "Box", "--format", "mdir"),
    ("mailbox", "create", "john", "Work/Deep"),
    ("deliver", "john", "--mailbox", "Box", "--flags", "\\Seen $Label1"),
    ("deliver", "john", "--flags", "$Label2"),
    ("message", "flag", "john", "INBOX", "1", "+\\Flagged", "-\\Seen",
     "+Work"),
    ("message", "copy", "john", "INBOX", "1", "Box"),
    ("message", "move", "john", "INBOX", "2", "Box"),
    ("message", "flag", "john", "Box", "1", "+\\Deleted"),
    ("message", "expunge", "john", "Box"),
    ("mailbox", "class", "john", "Box", "IPF.Task"),
    ("mailbox", "subscribe", "john", "Box"),
    ("mailbox", "rename", "john", "Work", "Job"),
    ("mailbox", "rename", "john", "INBOX", "Old"),
    ("mailbox", "delete", "john", "Old"),
    ("import", "john", "Imported", "MBOX"),
    ("account", "rename", "kim", "kim@example.org"),
    ("account", "delete", "kim@example.org"),
]


def fault_failures(commune, base, tmp_path, op):
    """Runs FAULT_COMMANDS in order; each is made to fail at its 1st,
    2nd, ... file operation `op`, every attempt from the same starting
    state, until it succeeds without the failure having been injected (a
    success at an injected failure it tolerates, such as an index write,
    goes on to the next operation). Returns the (command, n, stderr) of
    failed attempts that left the base directory changed."""
    import shutil
    src = tmp_path / "in.mbox"
    big_mbox(src, 3)
    report = tmp_path / "vfs-report"
    deliver(commune, "john", msg("one"), "--flags", "\\Seen")
    deliver(commune, "john", msg("two"))
    saved = tmp_path / "saved"
    bad = []
    for cmd in FAULT_COMMANDS:
        cmd = [str(src) if a == "MBOX" else a for a in cmd]
        shutil.copytree(base, saved, symlinks=True)
        before = durable_snapshot(base)
        for n in range(1, 120):
            p = commune.run(*cmd, input=msg("faulty"),
                            env={"COMMUNE_VFS_FAIL": f"{op}:{n}",
                                 "COMMUNE_VFS_REPORT": str(report)})
            if p.returncode == 0:
                calls = int(report.read_text().split()[1])
                if calls < n:
                    break
            else:
                assert p.returncode in (EXIT_FAIL, EXIT_TEMPFAIL), \
                    (cmd, n, p.stderr)
                if not durable_unchanged(before, durable_snapshot(base)):
                    bad.append((" ".join(cmd[:2]), n, p.stderr))
            shutil.rmtree(base)
            shutil.copytree(saved, base, symlinks=True)
        else:
            pytest.fail(f"{cmd} never succeeded")
        shutil.rmtree(saved)
    return bad


# Store operations that, made to fail at some file operation, still leave
# a change behind (reported to the store's owner; remove an entry once
# fixed). None are known; a new entry here is a regression.
KNOWN_STORE_NOT_ATOMIC = set()


@pytest.mark.parametrize("op", ["any", "fsync", "unlink"])
def test_failed_commands_change_nothing(commune, base, tmp_path, john, op):
    bad = fault_failures(commune, base, tmp_path, op)
    unknown = [b for b in bad if b[0] not in KNOWN_STORE_NOT_ATOMIC]
    assert unknown == []
