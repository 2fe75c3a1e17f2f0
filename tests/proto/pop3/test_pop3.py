# SPDX-License-Identifier: MIT
"""POP3 (RFC 1939, 2449, 2595, 3206, 5034) through the real `commune serve`.

Drives the daemon with Python's poplib, with raw sockets (pipelining,
exact bytes, hostile input, SCRAM-SHA-256) and with Debian's fetchmail
and curl, and reads the store back with the `commune` CLI.
"""
import base64
import hashlib
import hmac
import os
import poplib
import re
import signal
import smtplib
import socket
import ssl
import subprocess
import time

import pytest

MAIN = "localhost"
SECONDARY = "example.org"
PW = "pw"
TIMEOUT = 30
AUTH_DELAY = 0.9        # AUTH_FAILURE_DELAY_MSECS, with some slack


# ---- helpers ----

def message(subject, body="Hello.\r\n"):
    if isinstance(body, str):
        body = body.encode()
    return (f"From: sender@example.net\r\nTo: rcpt@{MAIN}\r\n"
            f"Subject: {subject}\r\n\r\n").encode() + body


def deliver(commune, account, data, *args):
    p = commune.run("deliver", account, *args, input=data)
    assert p.returncode == 0, p.stderr
    return int(p.stdout.decode().strip())


def listing(commune, account, box="INBOX"):
    """[(uid, flags, subject)] of a mailbox."""
    rows = []
    for line in commune.ok("message", "list", account, box).splitlines():
        f = line.split("\t")
        if f and f[0].isdigit():
            rows.append((int(f[0]), f[1], f[-1]))
    return rows


def unstuff(lines):
    """The message bytes of a multi-line response's lines."""
    return b"".join((l[1:] if l.startswith(b".") else l) + b"\r\n"
                    for l in lines)


class Raw:
    """A raw POP3 client: send bytes, read status lines and multi-line
    responses exactly."""

    def __init__(self, server, proto="pop3", timeout=TIMEOUT, sock=None):
        self.sock = sock or server.connect(proto, timeout=timeout)
        self.buf = b""
        self.greeting = self.line()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"connection closed; pending {self.buf!r}")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("latin-1")

    def multi(self):
        """The lines of a multi-line body (after its status line), as
        sent (still stuffed), without the terminator."""
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(1 << 20)
                if not chunk:
                    raise EOFError("closed inside a multi-line response")
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            if line == b".":
                return lines
            lines.append(line)

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.line()

    def cmd_multi(self, line):
        status = self.cmd(line)
        assert status.startswith("+OK"), f"{line}: {status}"
        return status, self.multi()

    def retr(self, n):
        return unstuff(self.cmd_multi(f"RETR {n}")[1])

    def login(self, user, password=PW):
        assert self.cmd(f"USER {user}").startswith("+OK")
        return self.cmd(f"PASS {password}")

    def closed(self, timeout=10):
        """True when the server closes the connection (after any data)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (ConnectionResetError, socket.timeout):
            return False
        except ssl.SSLError:
            return True

    def starttls(self):
        assert self.cmd("STLS").startswith("+OK")
        assert self.buf == b""
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.sock = ctx.wrap_socket(self.sock)

    def close(self):
        self.sock.close()


def client(srv, user="alice", password=PW):
    """A logged-in poplib client."""
    p = poplib.POP3("127.0.0.1", srv.ports["pop3"], timeout=TIMEOUT)
    p.user(user)
    p.pass_(password)
    return p


def login_soon(srv, user="alice", timeout=10):
    """A Raw session logged in as user, retrying while a dropped earlier
    session still holds the mailbox ([IN-USE] until its end-of-session
    job has run)."""
    deadline = time.monotonic() + timeout
    while True:
        c = Raw(srv)
        r = c.login(user)
        if r.startswith("+OK"):
            return c
        c.close()
        assert r.startswith("-ERR [IN-USE]") and \
            time.monotonic() < deadline, r
        time.sleep(0.05)


def unverified():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


# ---- fixtures ----

@pytest.fixture
def accounts(commune):
    """alice (multi), bob (mbox), carol (mdir), dave@example.org."""
    commune.ok("account", "create", "alice", "--password", PW)
    commune.ok("account", "create", "bob", "--password", PW,
               "--type", "mbox")
    commune.ok("account", "create", "carol", "--password", PW,
               "--type", "mdir")
    commune.ok("domain", "create", SECONDARY)
    commune.ok("account", "create", f"dave@{SECONDARY}", "--password", PW)
    return commune


@pytest.fixture
def pop3(serve, accounts):
    return serve(["pop3", "lmtp"], "--allow-plaintext-auth")


@pytest.fixture
def tls_pop3(serve, accounts, tls_base):
    """pop3 with STLS, pop3s, lmtp; plaintext logins only after TLS."""
    return serve(["pop3", "pop3s", "lmtp"])


ACCOUNTS = ["alice", "bob", "carol", f"dave@{SECONDARY}"]


# ---- greeting, CAPA ----

def test_greeting_and_capa(pop3):
    c = Raw(pop3)
    assert c.greeting.startswith("+OK")
    # No APOP timestamp: APOP is not offered.
    assert "<" not in c.greeting
    status, lines = c.cmd_multi("CAPA")
    caps = [l.decode() for l in lines]
    for cap in ("CAPA", "TOP", "UIDL", "USER", "RESP-CODES",
                "AUTH-RESP-CODE", "PIPELINING", "EXPIRE NEVER",
                "IMPLEMENTATION Commune",
                "SASL PLAIN LOGIN SCRAM-SHA-256"):
        assert cap in caps, cap
    # No certificate in this base: no STLS.
    assert "STLS" not in caps
    assert c.login("alice").startswith("+OK")
    caps2 = [l.decode() for l in c.cmd_multi("CAPA")[1]]
    assert "TOP" in caps2 and "UIDL" in caps2 and "STLS" not in caps2
    assert c.cmd("QUIT").startswith("+OK")
    assert c.closed()


def test_poplib_capa(pop3):
    p = poplib.POP3("127.0.0.1", pop3.ports["pop3"], timeout=TIMEOUT)
    caps = p.capa()
    assert "UIDL" in caps and "TOP" in caps and "SASL" in caps
    assert caps["SASL"] == ["PLAIN", "LOGIN", "SCRAM-SHA-256"]
    p.quit()


# ---- the transaction commands ----

@pytest.mark.parametrize("account", ACCOUNTS)
def test_stat_list_retr_quit(pop3, accounts, account):
    msgs = [message(f"m{i}", f"body {i}\r\n" * (i + 1)) for i in range(3)]
    for m in msgs:
        deliver(accounts, account, m)
    p = client(pop3, account)
    assert p.stat() == (3, sum(len(m) for m in msgs))
    resp, lines, _ = p.list()
    assert resp.startswith(b"+OK 3 messages")
    assert lines == [f"{i + 1} {len(m)}".encode()
                     for i, m in enumerate(msgs)]
    for i, m in enumerate(msgs):
        resp, lines, octets = p.retr(i + 1)
        assert resp == f"+OK {len(m)} octets".encode()
        assert b"\r\n".join(lines) + b"\r\n" == m
    assert p.noop().startswith(b"+OK")
    assert p.quit().startswith(b"+OK")
    # Nothing deleted; RETR marked \Seen.
    rows = listing(accounts, account)
    assert len(rows) == 3 and all("Seen" in f for _, f, _ in rows)


def test_list_uidl_single_and_errors(pop3, accounts):
    uids = [deliver(accounts, "alice", message(f"m{i}")) for i in range(3)]
    c = Raw(pop3)
    assert c.login("alice").startswith("+OK")
    assert c.cmd("LIST 2") == f"+OK 2 {len(message('m1'))}"
    uidl = c.cmd("UIDL 3")
    m = re.fullmatch(r"\+OK 3 (\d+)\.(\d+)", uidl)
    assert m and int(m.group(2)) == uids[2]
    status, lines = c.cmd_multi("UIDL")
    ids = [l.decode().split() for l in lines]
    assert [int(n) for n, _ in ids] == [1, 2, 3]
    assert [int(u.split(".")[1]) for _, u in ids] == uids
    assert len({u for _, u in ids}) == 3
    for bad in ("LIST 0", "LIST 4", "RETR 99", "TOP 4 1", "DELE 4",
                "UIDL 4294967295"):
        assert c.cmd(bad).startswith("-ERR There's no message"), bad
    assert c.cmd("RETR abc") == "-ERR Invalid number"
    assert c.cmd("LIST 1 2") == "-ERR Too many arguments"
    assert c.cmd("DELE 2").startswith("+OK")
    assert c.cmd("DELE 2").startswith("-ERR Message 2 is deleted")
    assert c.cmd("LIST 2").startswith("-ERR")
    assert c.cmd("RETR 2").startswith("-ERR")
    status, lines = c.cmd_multi("LIST")
    assert status.startswith("+OK 2 messages")
    assert [l.split()[0] for l in lines] == [b"1", b"3"]
    assert c.cmd("STAT") == f"+OK 2 {2 * len(message('m0'))}"
    assert c.cmd("RSET").startswith("+OK")
    assert c.cmd("STAT").startswith("+OK 3 ")
    assert c.cmd("QUIT").startswith("+OK")
    assert len(listing(accounts, "alice")) == 3


def test_top(pop3, accounts):
    body = "line 1\r\n.line 2\r\nline 3\r\n"
    deliver(accounts, "alice", message("top", body))
    c = Raw(pop3)
    c.login("alice")
    header = message("top", "")
    _, lines = c.cmd_multi("TOP 1 0")
    assert unstuff(lines) == header
    _, lines = c.cmd_multi("TOP 1 2")
    assert lines[-1] == b"..line 2"
    assert unstuff(lines) == header + b"line 1\r\n.line 2\r\n"
    _, lines = c.cmd_multi("TOP 1 100")
    assert unstuff(lines) == message("top", body)
    assert c.cmd("TOP 1") == "-ERR Missing argument"
    assert c.cmd("TOP 1 -1") == "-ERR Invalid number"
    c.cmd("QUIT")
    # TOP does not mark \Seen.
    assert "Seen" not in listing(accounts, "alice")[0][1]


def test_empty_mailbox(pop3):
    p = client(pop3, "bob")
    assert p.stat() == (0, 0)
    assert p.list()[1] == []
    assert p.uidl()[1] == []
    with pytest.raises(poplib.error_proto):
        p.retr(1)
    p.quit()


# ---- DELE, RSET, QUIT, dropped connections ----

@pytest.mark.parametrize("account", ["alice", "bob", "carol"])
def test_dele_quit_removes(pop3, accounts, account):
    uids = [deliver(accounts, account, message(f"m{i}")) for i in range(4)]
    p = client(pop3, account)
    p.dele(1)
    p.dele(3)
    assert p.stat()[0] == 2
    assert p.quit().startswith(b"+OK")
    assert [u for u, _, _ in listing(accounts, account)] == \
        [uids[1], uids[3]]


def test_dropped_connection_removes_nothing(pop3, accounts):
    for i in range(3):
        deliver(accounts, "alice", message(f"m{i}"))
    c = Raw(pop3)
    c.login("alice")
    assert c.cmd("DELE 1").startswith("+OK")
    assert c.cmd("DELE 2").startswith("+OK")
    c.retr(3)
    c.close()
    # The session ends in the server; a new one can log in then.
    c = login_soon(pop3)
    assert c.cmd("STAT").startswith("+OK 3 ")
    c.cmd("QUIT")
    rows = listing(accounts, "alice")
    assert len(rows) == 3
    # RETR before the drop still marked \Seen (like Dovecot).
    assert "Seen" in rows[2][1] and "Seen" not in rows[0][1]


def test_rset_forgets_dele_and_seen(pop3, accounts):
    for i in range(2):
        deliver(accounts, "alice", message(f"m{i}"))
    p = client(pop3)
    p.retr(1)
    p.dele(2)
    assert p.rset().startswith(b"+OK")
    p.quit()
    rows = listing(accounts, "alice")
    assert len(rows) == 2 and all("Seen" not in f for _, f, _ in rows)


def test_quit_removes_only_marked_uids(pop3, accounts):
    """UID EXPUNGE semantics: \\Deleted set by another client stays."""
    uids = [deliver(accounts, "alice", message(f"m{i}")) for i in range(3)]
    accounts.ok("message", "flag", "alice", "INBOX", uids[0], "+\\Deleted")
    p = client(pop3)
    p.dele(2)
    p.quit()
    rows = listing(accounts, "alice")
    assert [u for u, _, _ in rows] == [uids[0], uids[2]]
    assert "Deleted" in rows[0][1]


def test_quit_in_authorization(pop3):
    c = Raw(pop3)
    assert c.cmd("QUIT").startswith("+OK")
    assert c.closed()


# ---- UIDL stability ----

def test_uidl_stable_across_sessions_and_restart(serve, accounts):
    for i in range(3):
        deliver(accounts, "carol", message(f"m{i}"))
    srv = serve(["pop3"], "--allow-plaintext-auth")
    p = client(srv, "carol")
    first = p.uidl()[1]
    p.dele(2)
    p.quit()
    p = client(srv, "carol")
    second = p.uidl()[1]
    p.quit()
    assert second == [b"1 " + first[0].split()[1],
                      b"2 " + first[2].split()[1]]
    assert srv.stop() == 0
    deliver(accounts, "carol", message("new"))
    srv2 = serve(["pop3"], "--allow-plaintext-auth")
    p = client(srv2, "carol")
    third = p.uidl()[1]
    p.quit()
    assert third[:2] == second
    new_id = third[2].split()[1]
    # Never reused: the new message's id was never seen before.
    assert new_id not in [l.split()[1] for l in first]


# ---- exclusive access ----

def test_in_use(tls_pop3, accounts):
    deliver(accounts, "alice", message("m"))
    c1 = Raw(tls_pop3)
    c1.starttls()
    assert c1.login("alice").startswith("+OK")
    c2 = Raw(tls_pop3)
    c2.starttls()
    assert c2.login("alice").startswith("-ERR [IN-USE]")
    # Across the pop3s listener too; the session stays usable.
    ctx = unverified()
    s = ctx.wrap_socket(tls_pop3.connect("pop3s"))
    c3 = Raw(tls_pop3, sock=s)
    assert c3.login("alice").startswith("-ERR [IN-USE]")
    assert c3.login("bob").startswith("+OK")
    c3.cmd("QUIT")
    # Free as soon as QUIT has answered: a client may log in again at
    # once (fetchmail polling).
    assert c1.cmd("QUIT").startswith("+OK")
    assert c2.login("alice").startswith("+OK")
    c2.cmd("QUIT")
    for _ in range(20):
        c = Raw(tls_pop3)
        c.starttls()
        assert c.login("alice").startswith("+OK")
        assert c.cmd("QUIT").startswith("+OK")
        c.close()


# ---- logins ----

def test_wrong_password_and_unknown_user(pop3):
    c = Raw(pop3)
    t0 = time.monotonic()
    assert c.login("alice", "wrong") == "-ERR [AUTH] Authentication failed."
    assert time.monotonic() - t0 >= AUTH_DELAY
    # An unknown user looks the same.
    assert c.login("nobody", "wrong") == "-ERR [AUTH] Authentication failed."
    # Third failure: the server hangs up.
    assert c.login("alice", "wrong") == "-ERR [AUTH] Authentication failed."
    assert c.closed()


def test_login_forms(pop3, accounts):
    for user in ("ALICE", f"alice@{MAIN}", f"dave@{SECONDARY}"):
        c = Raw(pop3)
        assert c.login(user).startswith("+OK"), user
        c.cmd("QUIT")
        assert c.closed()
    c = Raw(pop3)
    assert c.cmd("PASS pw") == "-ERR No username given."
    assert c.cmd("STAT").startswith("-ERR Not logged in")
    assert c.cmd("USER").startswith("-ERR Missing argument")
    assert c.cmd("APOP alice 0123456789abcdef").startswith(
        "-ERR APOP is not supported")
    c.login("alice")
    for cmd in ("USER alice", "PASS pw", "AUTH PLAIN", "STLS", "APOP a b"):
        assert c.cmd(cmd) == "-ERR Already logged in.", cmd
    c.cmd("QUIT")


def scram_login(c, user, password=PW, ir=True):
    """SCRAM-SHA-256 (RFC 5802) over POP3 AUTH; returns the last reply."""
    cnonce = b64(os.urandom(18))
    first_bare = f"n={user},r={cnonce}"
    if ir:
        r = c.cmd(f"AUTH SCRAM-SHA-256 {b64('n,,' + first_bare)}")
    else:
        assert c.cmd("AUTH SCRAM-SHA-256") == "+ "
        r = c.cmd(b64("n,," + first_bare))
    assert r.startswith("+ "), r
    server_first = base64.b64decode(r[2:]).decode()
    attrs = dict(a.split("=", 1) for a in server_first.split(","))
    assert attrs["r"].startswith(cnonce)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(),
                                 base64.b64decode(attrs["s"]),
                                 int(attrs["i"]))
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")
    final_no_proof = f"c=biws,r={attrs['r']}"
    auth_msg = f"{first_bare},{server_first},{final_no_proof}".encode()
    sig = hmac.digest(stored_key, auth_msg, "sha256")
    proof = bytes(a ^ b for a, b in zip(client_key, sig))
    r = c.cmd(b64(f"{final_no_proof},p={b64(proof)}"))
    if not r.startswith("+ "):
        return r
    server_final = base64.b64decode(r[2:]).decode()
    expect = b64(hmac.digest(server_key, auth_msg, "sha256"))
    assert server_final == f"v={expect}"
    return c.cmd("")


def test_auth_scram(pop3):
    c = Raw(pop3)
    assert scram_login(c, "alice") == "+OK Logged in."
    assert c.cmd("STAT").startswith("+OK")
    c.cmd("QUIT")
    c = Raw(pop3)
    assert scram_login(c, "bob", ir=False) == "+OK Logged in."
    c.cmd("QUIT")
    c = Raw(pop3)
    assert scram_login(c, "alice", "wrong") == \
        "-ERR [AUTH] Authentication failed."
    assert scram_login(c, "nobody") == "-ERR [AUTH] Authentication failed."
    c.close()


def test_auth_plain_login(pop3):
    c = Raw(pop3)
    assert c.cmd(f"AUTH PLAIN {b64(chr(0) + 'alice' + chr(0) + PW)}") == \
        "+OK Logged in."
    c.cmd("QUIT")
    c = Raw(pop3)
    assert c.cmd("AUTH PLAIN") == "+ "
    assert c.cmd(b64("\0bob\0" + PW)) == "+OK Logged in."
    c.cmd("QUIT")
    c = Raw(pop3)
    assert c.cmd("AUTH LOGIN") == "+ " + b64("Username:")
    assert c.cmd(b64("carol")) == "+ " + b64("Password:")
    assert c.cmd(b64(PW)) == "+OK Logged in."
    c.cmd("QUIT")
    c = Raw(pop3)
    assert c.cmd(f"AUTH LOGIN {b64('carol')}") == "+ " + b64("Password:")
    assert c.cmd(b64("nope")) == "-ERR [AUTH] Authentication failed."
    c.close()


def test_auth_bad_input(pop3):
    c = Raw(pop3)
    status, lines = c.cmd_multi("AUTH")
    assert lines == [b"PLAIN", b"LOGIN", b"SCRAM-SHA-256"]
    assert c.cmd("AUTH CRAM-MD5") == \
        "-ERR Unsupported authentication mechanism."
    assert c.cmd("AUTH PLAIN") == "+ "
    assert c.cmd("*") == "-ERR Authentication cancelled."
    assert c.cmd("AUTH LOGIN") .startswith("+ ")
    assert c.cmd("not base64!!") == "-ERR [AUTH] Invalid SASL response."
    # A response line longer than the limit ends the exchange.
    assert c.cmd("AUTH PLAIN") == "+ "
    assert c.cmd("A" * 10000) == "-ERR Response too long."
    assert c.cmd(f"AUTH PLAIN {b64(chr(0) + 'alice' + chr(0) + PW)}") == \
        "+OK Logged in."
    c.cmd("QUIT")


# ---- bad input ----

def test_bad_input_session_goes_on(pop3, accounts):
    deliver(accounts, "alice", message("m"))
    c = Raw(pop3)
    assert c.cmd("XYZZY") == "-ERR Unknown command"
    assert c.cmd("") == "-ERR Unknown command"
    assert c.cmd("USER " + "a" * 300) == "-ERR Line too long"
    c.send(b"NOOP\0\r\n")
    assert c.line() == "-ERR NUL byte in command"
    c.send(b"STAT " + b"x" * 20000 + b"\r\n")
    assert c.line() == "-ERR Line too long"
    c.send("\u00e9\u00e8\r\n".encode())
    assert c.line() == "-ERR Unknown command"
    c.send(b"USER al\x01ice\r\n")
    assert c.line() == "-ERR Invalid user name."
    assert c.login("alice").startswith("+OK")
    assert c.cmd("LIST 1").startswith("+OK 1 ")
    assert c.cmd("QUIT").startswith("+OK")


def test_too_many_errors_close(pop3):
    c = Raw(pop3)
    for _ in range(9):
        assert c.cmd("BOGUS") == "-ERR Unknown command"
    assert c.cmd("BOGUS") == "-ERR Unknown command"
    assert c.line().startswith("-ERR Too many bad commands")
    assert c.closed()


def test_garbage_flood(pop3):
    """Megabytes without a line end: bounded memory, session survives
    until its errors run out; the server stays up."""
    c = Raw(pop3)
    chunk = b"x" * 65536
    for _ in range(64):
        c.send(chunk)
    c.send(b"\r\nNOOP\r\n")
    assert c.line() == "-ERR Line too long"
    assert c.line().startswith("-ERR Not logged in")
    c.close()
    c = Raw(pop3)
    assert c.cmd("CAPA").startswith("+OK")


# ---- pipelining ----

def test_pipelining(pop3, accounts):
    msgs = [message(f"p{i}", ".dot\r\n" * i) for i in range(5)]
    for m in msgs:
        deliver(accounts, "alice", m)
    c = Raw(pop3)
    batch = ["CAPA", "USER alice", f"PASS {PW}", "STAT", "LIST",
             "RETR 1", "TOP 2 1", "UIDL", "DELE 5", "RETR 5", "BOGUS",
             "RETR 4", "NOOP", "QUIT"]
    c.send("".join(l + "\r\n" for l in batch))
    assert c.line().startswith("+OK")
    c.multi()
    assert c.line() == "+OK"
    assert c.line() == "+OK Logged in."
    assert c.line() == f"+OK 5 {sum(map(len, msgs))}"
    assert c.line().startswith("+OK 5 messages")
    assert len(c.multi()) == 5
    assert c.line().startswith("+OK")
    assert unstuff(c.multi()) == msgs[0]
    assert c.line() == "+OK"
    assert unstuff(c.multi()) == message("p1", ".dot\r\n")
    assert c.line() == "+OK"
    assert len(c.multi()) == 5
    assert c.line().startswith("+OK")
    assert c.line().startswith("-ERR Message 5 is deleted")
    assert c.line() == "-ERR Unknown command"
    assert c.line() == f"+OK {len(msgs[3])} octets"
    assert unstuff(c.multi()) == msgs[3]
    assert c.line() == "+OK"
    assert c.line().startswith("+OK Logging out")
    assert c.closed()
    assert len(listing(accounts, "alice")) == 4


def test_client_not_reading(pop3, accounts):
    """A client that pipelines RETRs without reading: the server stops
    producing and goes on when the client reads."""
    big = message("big", ("y" * 998 + "\r\n") * 2000)
    deliver(accounts, "alice", big)
    c = Raw(pop3)
    c.login("alice")
    c.send("RETR 1\r\n" * 40 + "QUIT\r\n")
    time.sleep(1)
    for _ in range(40):
        assert c.line().startswith("+OK")
        assert unstuff(c.multi()) == big
    assert c.line().startswith("+OK")


# ---- exact bytes ----

DOTS = (b"Subject: dots\r\n\r\n.\r\n..\r\n...x\r\n. \r\nend.\r\n"
        b".\r\n")
BINARY = (b"Subject: bin\r\n\r\n" + bytes(range(1, 10)) +
          b"\x0b\x0c\x0e" + bytes(range(14, 256)) + b"\r\n\x00NUL\r\n"
          b"\xff\xfe.\r\n.\x00\r\n")
BARE_LF = b"Subject: lf\n\nline\n.dot\nlast"
CLEAN = message("clean", "just text\r\n" * 50)


@pytest.mark.parametrize("account", ["alice", "carol"])
def test_retr_exact_bytes(pop3, accounts, account):
    for m in (DOTS, BINARY, CLEAN, BARE_LF):
        deliver(accounts, account, m)
    c = Raw(pop3)
    c.login(account)
    for _ in range(2):  # the second time clean ones may use sendfile
        assert c.retr(1) == DOTS
        assert c.retr(2) == BINARY
        assert c.retr(3) == CLEAN
        # Bare LF goes out as CRLF, with the missing final line end.
        assert c.retr(4) == b"Subject: lf\r\n\r\nline\r\n.dot\r\nlast\r\n"
    c.cmd("QUIT")
    # Another session: the server-wide clean cache.
    c = Raw(pop3)
    c.login(account)
    assert c.retr(3) == CLEAN
    assert c.retr(1) == DOTS
    c.cmd("QUIT")


def test_retr_large_messages(pop3, accounts):
    stuffed = message("big1", b"".join(
        (b"." if i % 7 == 0 else b"") + b"%06d " % i + b"z" * 90 + b"\r\n"
        for i in range(60000)))
    clean = message("big2", b"".join(
        b"%06d " % i + b"q" * 120 + b"\r\n" for i in range(50000)))
    deliver(accounts, "alice", stuffed)
    deliver(accounts, "alice", clean)
    c = Raw(pop3)
    c.login("alice")
    for _ in range(2):
        assert c.retr(1) == stuffed
        assert c.retr(2) == clean
    _, lines = c.cmd_multi("TOP 1 3")
    assert len(lines) == 3 + 1 + 3
    c.cmd("QUIT")


def test_drop_during_retr(pop3, accounts):
    """A client gone in the middle of a large RETR: the session ends
    cleanly, nothing is removed, the next session works."""
    big = message("big", ("x" * 900 + "\r\n") * 20000)
    deliver(accounts, "alice", big)
    deliver(accounts, "alice", message("small"))
    for _ in range(3):
        c = Raw(pop3)
        assert c.login("alice").startswith("+OK")
        c.cmd("DELE 2")
        c.send("RETR 1\r\nRETR 1\r\n")
        c.sock.recv(1000)
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                          b"\x01\x00\x00\x00\x00\x00\x00\x00")
        c.close()
        c = login_soon(pop3)
        assert c.cmd("STAT").startswith("+OK 2 ")
        c.cmd("QUIT")
    assert len(listing(accounts, "alice")) == 2


def test_connection_churn(pop3, accounts):
    """Hundreds of connections opened and dropped at every stage: the
    server stays up and answers the next one."""
    deliver(accounts, "alice", message("m"))
    for i in range(150):
        s = pop3.connect("pop3", timeout=TIMEOUT)
        stage = i % 5
        if stage >= 1:
            s.recv(100)
        if stage == 2:
            s.sendall(b"USER alice\r\nPASS pw\r\nRETR 1\r\n")
        elif stage == 3:
            s.sendall(b"AUTH PLAIN\r\n")
        elif stage == 4:
            s.sendall(b"CAPA\r\nST")
        s.close()
    c = login_soon(pop3)
    assert c.cmd("STAT").startswith("+OK 1 ")
    c.cmd("QUIT")


# ---- concurrency with delivery and other clients ----

def test_lmtp_during_session(pop3, accounts):
    deliver(accounts, "alice", message("before"))
    p = client(pop3)
    assert p.stat()[0] == 1
    with smtplib.LMTP("127.0.0.1", pop3.ports["lmtp"],
                      timeout=TIMEOUT) as l:
        assert l.sendmail("s@example.net", ["alice"],
                          message("during")) == {}
    # The snapshot does not change.
    assert p.stat()[0] == 1
    assert len(p.uidl()[1]) == 1
    p.dele(1)
    p.quit()
    p = client(pop3)
    assert p.stat()[0] == 1
    assert b"Subject: during" in p.retr(1)[1]
    p.quit()


@pytest.mark.parametrize("account", ["alice", "carol"])
def test_expunge_by_another_client(pop3, accounts, account):
    uids = [deliver(accounts, account, message(f"m{i}")) for i in range(3)]
    c = Raw(pop3)
    c.login(account)
    accounts.ok("message", "flag", account, "INBOX", uids[1], "+\\Deleted")
    accounts.ok("message", "expunge", account, "INBOX")
    # Numbers stay; the gone message can or cannot be read, never
    # another one in its place.
    assert c.cmd("STAT").startswith("+OK 3 ")
    r = c.cmd("RETR 2")
    if r.startswith("+OK"):
        assert unstuff(c.multi()) == message("m1")
    else:
        assert r.startswith("-ERR")
    assert c.retr(3) == message("m2")
    assert c.cmd("DELE 2").startswith("+OK")
    assert c.cmd("DELE 1").startswith("+OK")
    assert c.cmd("QUIT").startswith("+OK")
    assert [u for u, _, _ in listing(accounts, account)] == [uids[2]]


def test_many_messages(pop3, accounts, tmp_path):
    n = 3000
    md = tmp_path / "md"
    for d in ("cur", "new", "tmp"):
        (md / d).mkdir(parents=True)
    for i in range(n):
        (md / "cur" / f"{1000000 + i}.x.host:2,").write_bytes(
            message(f"n{i}"))
    accounts.ok("import", "alice", "INBOX", md)
    c = Raw(pop3)
    c.login("alice")
    status, lines = c.cmd_multi("LIST")
    assert len(lines) == n
    status, lines = c.cmd_multi("UIDL")
    assert len(lines) == n and len({l.split()[1] for l in lines}) == n
    assert c.retr(n) == message(f"n{n - 1}")
    c.cmd("QUIT")


# ---- TLS ----

def test_stls_and_plaintext_refusal(tls_pop3, accounts):
    deliver(accounts, "alice", message("tls"))
    c = Raw(tls_pop3)
    caps = [l.decode() for l in c.cmd_multi("CAPA")[1]]
    assert "STLS" in caps and "USER" not in caps
    assert "SASL SCRAM-SHA-256" in caps
    assert c.cmd("USER alice").startswith("-ERR [AUTH] Plaintext")
    assert c.cmd(f"AUTH PLAIN {b64(chr(0) + 'alice' + chr(0) + PW)}"
                 ).startswith("-ERR [AUTH] Plaintext")
    # SCRAM never reveals the password: allowed before TLS.
    c2 = Raw(tls_pop3)
    assert scram_login(c2, "bob") == "+OK Logged in."
    c2.cmd("QUIT")
    c.starttls()
    caps = [l.decode() for l in c.cmd_multi("CAPA")[1]]
    assert "STLS" not in caps and "USER" in caps
    assert "SASL PLAIN LOGIN SCRAM-SHA-256" in caps
    assert c.cmd("STLS").startswith("-ERR")
    assert c.login("alice").startswith("+OK")
    assert c.retr(1) == message("tls")
    c.cmd("QUIT")


def test_stls_poplib(tls_pop3, accounts):
    deliver(accounts, "alice", message("tls"))
    p = poplib.POP3("127.0.0.1", tls_pop3.ports["pop3"], timeout=TIMEOUT)
    p.stls(context=unverified())
    p.user("alice")
    p.pass_(PW)
    assert p.stat()[0] == 1
    assert b"Subject: tls" in p.retr(1)[1]
    p.quit()


def test_stls_discards_pipelined_plaintext(tls_pop3):
    """RFC 2595 §3: commands sent in clear after STLS are not run."""
    c = Raw(tls_pop3)
    c.send("STLS\r\nXYZZ\r\n")
    assert c.line().startswith("+OK")
    c.sock = unverified().wrap_socket(c.sock)
    status, lines = c.cmd_multi("CAPA")
    assert status == "+OK Capability list follows"
    c.cmd("QUIT")


def test_pop3s(tls_pop3, accounts):
    deliver(accounts, "alice", BINARY)
    p = poplib.POP3_SSL("127.0.0.1", tls_pop3.ports["pop3s"],
                        context=unverified(), timeout=TIMEOUT)
    caps = p.capa()
    assert "STLS" not in caps and "USER" in caps
    p.user("alice")
    p.pass_(PW)
    resp, lines, _ = p.retr(1)
    assert b"\r\n".join(lines) + b"\r\n" == BINARY
    p.quit()


def test_tls_garbage_handshake(tls_pop3):
    s = tls_pop3.connect("pop3s")
    s.sendall(b"USER alice\r\nPASS pw\r\n")
    s.settimeout(10)
    try:
        data = s.recv(100)
    except ConnectionResetError:
        data = b""
    assert b"+OK" not in data
    s.close()
    p = poplib.POP3_SSL("127.0.0.1", tls_pop3.ports["pop3s"],
                        context=unverified(), timeout=TIMEOUT)
    p.quit()


def test_pop3s_needs_certificate(commune, accounts):
    p = subprocess.run([commune.bin, "serve", "--base", commune.base,
                        "--listen", "pop3s=127.0.0.1:0"],
                       capture_output=True, timeout=60)
    assert p.returncode == 1
    assert b"pop3s needs a TLS certificate" in p.stderr


def test_bad_certificate_option(commune, accounts, tmp_path):
    p = subprocess.run([commune.bin, "serve", "--base", commune.base,
                        "--listen", "pop3=127.0.0.1:0",
                        "--tls-cert", str(tmp_path / "none.crt"),
                        "--tls-key", str(tmp_path / "none.key")],
                       capture_output=True, timeout=60)
    assert p.returncode == 1 and b"TLS" in p.stderr
    p = subprocess.run([commune.bin, "serve", "--base", commune.base,
                        "--listen", "pop3=127.0.0.1:0",
                        "--tls-cert", "x.crt"],
                       capture_output=True, timeout=60)
    assert p.returncode == 2


def test_explicit_certificate_options(serve, accounts, certificate):
    srv = serve(["pop3s"], "--tls-cert", certificate / "server.crt",
                "--tls-key", certificate / "server.key")
    p = poplib.POP3_SSL("127.0.0.1", srv.ports["pop3s"],
                        context=unverified(), timeout=TIMEOUT)
    p.user("alice")
    p.pass_(PW)
    p.quit()


# ---- timeouts and shutdown ----

def test_idle_timeout(serve, accounts):
    srv = serve(["pop3"], "--allow-plaintext-auth", "--idle-timeout", "1")
    c = Raw(srv)
    c.login("alice")
    c.sock.settimeout(10)
    assert c.line() == "-ERR Disconnected for inactivity."
    assert c.closed()


def test_shutdown_with_open_session(serve, accounts):
    deliver(accounts, "alice", message("keep"))
    srv = serve(["pop3"], "--allow-plaintext-auth")
    c = Raw(srv)
    c.login("alice")
    assert c.cmd("DELE 1").startswith("+OK")
    srv.send_signal(signal.SIGTERM)
    c.sock.settimeout(20)
    assert c.line().startswith("-ERR [SYS/TEMP]")
    assert c.closed()
    assert srv.stop(sig=None) == 0
    # No QUIT: nothing removed.
    assert len(listing(accounts, "alice")) == 1


# ---- real clients ----

def fetchmail(tmp_path, port, keep, options=""):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    out = tmp_path / "fetched.mbox"
    rc = home / ".fetchmailrc"
    rc.write_text(
        f'poll 127.0.0.1 protocol pop3 port {port}\n'
        f'  user "alice" password "{PW}" is "tester" here\n'
        f'  {"keep" if keep else "nokeep"} fetchall {options}\n'
        f'  mda "/bin/sh -c \'cat >> {out}\'"\n')
    rc.chmod(0o600)
    env = dict(os.environ, HOME=str(home), FETCHMAILHOME=str(home))
    p = subprocess.run(["fetchmail", "-f", str(rc), "--nosyslog",
                        "-i", str(home / "ids"), "--pidfile",
                        str(home / "pid")],
                       capture_output=True, env=env, timeout=120)
    assert p.returncode in (0, 1), p.stderr.decode() + p.stdout.decode()
    return out.read_bytes() if out.exists() else b""


@pytest.mark.parametrize("keep", [True, False])
def test_fetchmail(pop3, accounts, tmp_path, keep):
    msgs = [message(f"fm{i}", f"text {i}\r\n.dotted\r\n") for i in range(3)]
    for m in msgs:
        deliver(accounts, "alice", m)
    # fetchmail 6.4 insists on STLS unless told there is no TLS.
    got = fetchmail(tmp_path, pop3.ports["pop3"], keep, "sslproto ''")
    for i in range(3):
        assert f"Subject: fm{i}".encode() in got
    assert got.count(b"\n.dotted") == 3
    assert b"\n..dotted" not in got
    rows = listing(accounts, "alice")
    assert len(rows) == (3 if keep else 0)


@pytest.mark.parametrize("listener,options", [
    ("pop3", "no sslcertck"),            # STLS (fetchmail's default)
    ("pop3s", "ssl no sslcertck"),
])
def test_fetchmail_tls(tls_pop3, accounts, tmp_path, listener, options):
    deliver(accounts, "alice", message("over tls"))
    got = fetchmail(tmp_path, tls_pop3.ports[listener], False, options)
    assert b"Subject: over tls" in got
    assert listing(accounts, "alice") == []


def curl(*args):
    p = subprocess.run(["curl", "-sS", "--max-time", "60", *args],
                       capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    return p.stdout


def test_curl(pop3, accounts):
    msgs = [message("c1", ".x\r\n"), message("c2")]
    for m in msgs:
        deliver(accounts, "alice", m)
    url = f"pop3://127.0.0.1:{pop3.ports['pop3']}"
    out = curl("-u", f"alice:{PW}", url + "/")
    assert out.split(b"\r\n")[:2] == [f"1 {len(msgs[0])}".encode(),
                                      f"2 {len(msgs[1])}".encode()]
    assert curl("-u", f"alice:{PW}", url + "/1") == msgs[0]
    assert curl("-u", f"alice:{PW}", url + "/2") == msgs[1]


def test_curl_tls(tls_pop3, accounts):
    deliver(accounts, "alice", message("curl tls"))
    out = curl("-k", "-u", f"alice:{PW}",
               f"pop3s://127.0.0.1:{tls_pop3.ports['pop3s']}/1")
    assert out == message("curl tls")
    out = curl("-k", "--ssl-reqd", "-u", f"alice:{PW}",
               f"pop3://127.0.0.1:{tls_pop3.ports['pop3']}/1")
    assert out == message("curl tls")
