# SPDX-License-Identifier: MIT
"""Hostile clients against one `commune serve` with lmtp, pop3 and imap.

Thousands of connections opened and dropped at every stage, slow-loris
partial commands held open while another client works, huge literals and
lines, NUL bytes, deep nesting, invalid UTF-8 / modified UTF-7 and
path-like mailbox names. Afterwards the server is up, answers normally,
`commune check` is clean, no file appeared outside the account, and its
resident memory (VmRSS) has not grown without bound. The `serve` fixture
then stops it and fails on any sanitizer report (leaks included).
Every loop is bounded in count, every socket in time.
"""
import os
import socket
import smtplib
import time

import pytest

from proto.imap.imap_helpers import Raw, deliver, message

PW = "pw"
TIMEOUT = 30
CHURN = 2000                  # connections opened and dropped
LORIS = 60                    # partial-command connections held open
RSS_GROWTH_MAX_KB = 200 * 1024


@pytest.fixture
def srv(serve, commune):
    commune.ok("account", "create", "alice", "--password", PW)
    commune.ok("account", "create", "bob", "--password", PW,
               "--type", "mbox")
    commune.ok("mailbox", "create", "alice", "Mdir", "--format", "mdir")
    deliver(commune, "alice", message("hello"))
    deliver(commune, "bob", message("bob's"))
    return serve(["lmtp", "pop3", "imap"], "--allow-plaintext-auth")


def rss_kb(srv):
    with open(f"/proc/{srv.proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def works(srv, commune, tag="ok"):
    """A normal client of each protocol succeeds."""
    with smtplib.LMTP("127.0.0.1", srv.ports["lmtp"], timeout=TIMEOUT) as c:
        c.ehlo("ok.example")
        c.sendmail("s@example.org", ["alice@localhost"],
                   message(f"works-{tag}"))
    r = Raw(srv)
    r.login()
    lines = r.cmd("A", "SELECT INBOX")
    assert lines[-1].startswith("A OK"), lines
    lines = r.cmd("B", "UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS "
                  "(SUBJECT)])")
    assert lines[-1].startswith("B OK"), lines
    assert any(f"works-{tag}" in l for l in lines), lines
    r.cmd("Z", "LOGOUT")
    s = srv.connect("pop3", timeout=TIMEOUT)
    f = s.makefile("rwb")
    assert f.readline().startswith(b"+OK")
    for cmd in (b"USER bob", b"PASS pw", b"STAT"):
        f.write(cmd + b"\r\n")
        f.flush()
        assert f.readline().startswith(b"+OK"), cmd
    f.write(b"QUIT\r\n")
    f.flush()
    f.readline()
    s.close()


def test_connection_churn(srv, commune):
    works(srv, commune, "warm")
    rss0 = rss_kb(srv)
    protos = ["lmtp", "pop3", "imap"]
    partial = {"lmtp": b"LHLO x\r\nMAIL FROM:<a@b>\r\nRC",
               "pop3": b"USER alice\r\nPA",
               "imap": b"a LOGIN alice pw\r\nb SELECT INB"}
    deadline = time.monotonic() + 240
    for i in range(CHURN):
        assert time.monotonic() < deadline, f"churn too slow at {i}"
        proto = protos[i % 3]
        s = srv.connect(proto, timeout=TIMEOUT)
        stage = (i // 3) % 4
        if stage >= 1:
            s.recv(200)
        if stage >= 2:
            s.sendall(partial[proto])
        if stage == 3:
            # abortive close: RST instead of FIN
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    works(srv, commune, "churn")
    assert srv.proc.poll() is None
    grown = rss_kb(srv) - rss0
    print(f"churn: {CHURN} connections, VmRSS {rss0} kB -> +{grown} kB")
    assert grown < RSS_GROWTH_MAX_KB, f"RSS grew {grown} kB"


def test_slow_loris(srv, commune):
    """Connections holding half a command do not stop others."""
    held = []
    try:
        partial = {"lmtp": b"LHLO slow\r\nMAIL FROM:<a@",
                   "pop3": b"USE",
                   "imap": b"s1 LOGIN alice pw\r\ns2 APPEND INBOX {100}\r\n"
                           b"Subject: par"}
        for i in range(LORIS):
            proto = ("lmtp", "pop3", "imap")[i % 3]
            s = srv.connect(proto, timeout=TIMEOUT)
            s.sendall(partial[proto])
            held.append(s)
        for i in range(3):
            works(srv, commune, f"loris{i}")
            for s in held[:: 7]:
                s.sendall(b"x")         # a byte now and then
    finally:
        for s in held:
            s.close()
    works(srv, commune, "after-loris")


def expect_refused(lines):
    assert lines[-1].split()[1] in ("NO", "BAD"), lines


def test_huge_literals_and_lines(srv, commune):
    rss0 = rss_kb(srv)
    r = Raw(srv)
    r.login()
    # literal larger than APPENDLIMIT: refused before the bytes come
    r.send("A1 APPEND INBOX {4000000000}\r\n")
    line = r.line()
    assert not line.startswith("+"), line
    assert line.split()[1] in ("NO", "BAD"), line
    # non-synchronising literal larger than the limit: refused, and the
    # server closes or skips; either way it stays up
    try:
        r.send("A2 APPEND INBOX {3000000000+}\r\n" + "x" * 65536)
        r.sock.settimeout(10)
        r.line()
    except (EOFError, OSError):
        pass
    r.sock.close()
    # a 4 MB line without CRLF in every protocol
    for proto in ("imap", "pop3", "lmtp"):
        s = srv.connect(proto, timeout=TIMEOUT)
        s.recv(200)
        try:
            for _ in range(64):
                s.sendall(b"A" * 65536)
            s.sendall(b"\r\n")
            s.settimeout(10)
            s.recv(200)
        except OSError:
            pass                # closed on us: fine
        s.close()
    # many literals in one command
    r = Raw(srv)
    r.login()
    r.send("A3 STATUS " + "{1+}\r\nx " * 2000 + "(MESSAGES)\r\n")
    r.sock.settimeout(10)
    try:
        expect_refused(r.until_tagged("A3"))
    except (EOFError, OSError):
        pass
    r.sock.close()
    works(srv, commune, "huge")
    assert rss_kb(srv) - rss0 < RSS_GROWTH_MAX_KB


def test_nul_and_nesting(srv, commune):
    r = Raw(srv)
    r.login()
    for i, cmd in enumerate([b"NOOP\x00", b"SELECT IN\x00BOX",
                             b"LIST \"\" \"\x00*\""]):
        r.send(f"N{i} ".encode() + cmd + b"\r\n")
        lines = r.until_tagged(f"N{i}")
        expect_refused(lines)
    r.cmd("S", "SELECT INBOX")
    lines = r.cmd("D", "FETCH 1 " + "(" * 5000 + ")" * 5000)
    expect_refused(lines)
    lines = r.cmd("E", "SEARCH " + "NOT " * 20000 + "ALL")
    assert lines[-1].split()[1] in ("OK", "NO", "BAD"), lines[-1]
    r.cmd("Z", "LOGOUT")
    for proto, cmd in (("lmtp", b"LHLO a\x00b\r\n"),
                       ("pop3", b"USER ali\x00ce\r\n")):
        s = srv.connect(proto, timeout=TIMEOUT)
        s.recv(200)
        s.sendall(cmd)
        reply = s.recv(200)
        assert reply[:1] in (b"5", b"-"), reply
        s.close()
    works(srv, commune, "nul")


BAD_NAMES = ["../x", "/etc", "~other/INBOX", "~bob/INBOX", "a/../../b",
             "..", ".", "/", "Mdir/../../bob", "x/./y", "&Jjo", "&-&",
             "&AGEAYgBj", "&2D3eAA-", "INBOX/&", "a\\b",
             "Accounts", "../../Accounts/bob.mbox"]


def test_hostile_mailbox_names(srv, commune, base):
    before = sorted(p for p in os.listdir(base / "Accounts"))
    r = Raw(srv)
    r.login()
    created = []
    for i, name in enumerate(BAD_NAMES):
        q = name.replace("\\", "\\\\").replace('"', '\\"')
        for verb in ("CREATE", "SELECT", "STATUS", "DELETE", "RENAME"):
            arg = {"STATUS": f'"{q}" (MESSAGES)',
                   "RENAME": f'INBOX "{q}"'}.get(verb, f'"{q}"')
            lines = r.cmd(f"C{i}{verb[:2]}", f"{verb} {arg}")
            ok = lines[-1].split()[1] == "OK"
            if ok and verb == "CREATE":
                created.append(name)
            if ok and verb == "SELECT":
                assert not name.startswith(("~", "/", "..")), (name, lines)
        # invalid UTF-8 as a literal
    for i, raw in enumerate([b"\xff\xfe", b"caf\xc3", b"\xc0\xaf..",
                             b"\xed\xa0\x80x"]):
        r.send(f"U{i} CREATE {{{len(raw)}+}}\r\n".encode() + raw + b"\r\n")
        lines = r.until_tagged(f"U{i}")
        expect_refused(lines)
    lines = r.cmd("L", 'LIST "" "*"')
    assert lines[-1].startswith("L OK"), lines
    # appends to ~bob or ../ never land in bob's mailbox
    r.send("P1 APPEND \"~bob/INBOX\" {5+}\r\nhello\r\n")
    expect_refused(r.until_tagged("P1"))
    r.cmd("Z", "LOGOUT")
    after = sorted(p for p in os.listdir(base / "Accounts"))
    assert after == before, (before, after, created)
    for name in os.listdir(base):
        assert name in ("Accounts", "Domains", "Settings"), name
    for acct in ("alice", "bob"):
        p = commune.run("check", acct)
        assert p.returncode == 0, (acct, p.stdout, p.stderr)
    assert "bob's" in commune.ok("message", "list", "bob", "INBOX")
    assert len(commune.ok("message", "list", "bob", "INBOX")
               .splitlines()) == 1
    works(srv, commune, "names")
