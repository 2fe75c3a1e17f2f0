# SPDX-License-Identifier: MIT
"""LMTP delivery (RFC 2033) through the real `commune serve`.

Drives the daemon with Python's smtplib.LMTP and with raw sockets (for
pipelining, exact bytes and hostile input) and reads the store back with
the `commune message` CLI.
"""
import signal
import smtplib
import socket
import threading
import time

import pytest

MAIN = "localhost"          # the store's default main domain
SECONDARY = "example.org"


# ---- helpers ----

class Raw:
    """A raw LMTP client: send bytes, read whole (multi-line) replies."""

    def __init__(self, server, timeout=30):
        self.sock = server.connect("lmtp", timeout=timeout)
        self.buf = b""
        self.greeting = self.reply()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"connection closed; pending {self.buf!r}")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode()

    def reply(self):
        """One reply: (code, [text lines])."""
        lines = []
        while True:
            line = self._line()
            lines.append(line[4:])
            if len(line) < 4 or line[3] != "-":
                return int(line[:3]), lines

    def replies(self, n):
        return [self.reply() for _ in range(n)]

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

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

    def close(self):
        self.sock.close()


def stuff(body):
    """Dot-stuffs a CRLF message body and appends the terminator."""
    if isinstance(body, str):
        body = body.encode()
    lines = body.split(b"\r\n")
    if lines and lines[-1] == b"":
        lines.pop()
    out = b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n"
                   for l in lines)
    return out + b".\r\n"


def message(subject, body="Hello.\r\n"):
    return (f"From: sender@example.net\r\nTo: rcpt@{MAIN}\r\n"
            f"Subject: {subject}\r\n\r\n{body}").encode()


def inbox(commune, account):
    """[(uid, subject)] of the account's INBOX."""
    out = commune.ok("message", "list", account, "INBOX")
    rows = []
    for line in out.splitlines():
        fields = line.split("\t")
        if fields and fields[0].isdigit():
            rows.append((int(fields[0]), fields[-1]))
    return rows


def show(commune, account, uid):
    p = commune.run("message", "show", account, "INBOX", uid, check=True)
    return p.stdout


def lmtp_session(server, mail_from, rcpts, data):
    """One transaction over a raw socket: per-recipient DATA replies."""
    c = Raw(server)
    assert c.cmd("LHLO test.example")[0] == 250
    assert c.cmd(f"MAIL FROM:<{mail_from}>")[0] == 250
    accepted = 0
    for r in rcpts:
        code, _ = c.cmd(f"RCPT TO:<{r}>")
        accepted += code == 250
    assert c.cmd("DATA")[0] == 354
    c.send(stuff(data))
    result = c.replies(accepted)
    assert c.cmd("QUIT")[0] == 221
    c.close()
    return result


@pytest.fixture
def accounts(commune):
    """alice (multi), bob (mbox), carol (mdir), dave@example.org."""
    commune.ok("account", "create", "alice", "--password", "pw")
    commune.ok("account", "create", "bob", "--password", "pw",
               "--type", "mbox")
    commune.ok("account", "create", "carol", "--password", "pw",
               "--type", "mdir")
    commune.ok("domain", "create", SECONDARY)
    commune.ok("account", "create", f"dave@{SECONDARY}", "--password", "pw")
    return commune


@pytest.fixture
def lmtp(serve, accounts):
    return serve(["lmtp"])


# ---- delivery ----

def test_lhlo_capabilities(lmtp):
    with smtplib.LMTP("127.0.0.1", lmtp.ports["lmtp"], timeout=30) as c:
        code, _ = c.ehlo("client.example")
        assert code == 250
        for ext in ("pipelining", "enhancedstatuscodes", "8bitmime",
                    "size", "chunking"):
            assert c.has_extn(ext), ext
        assert int(c.esmtp_features["size"]) > 0


@pytest.mark.parametrize("rcpt,account", [
    ("alice", "alice"),
    (f"alice@{MAIN}", "alice"),
    ("ALICE@LOCALHOST", "alice"),
    ("bob", "bob"),
    ("carol", "carol"),
    (f"dave@{SECONDARY}", f"dave@{SECONDARY}"),
])
def test_deliver(lmtp, accounts, rcpt, account):
    msg = message(f"to {rcpt}")
    with smtplib.LMTP("127.0.0.1", lmtp.ports["lmtp"], timeout=30) as c:
        refused = c.sendmail("sender@example.net", [rcpt], msg)
        assert refused == {}
    rows = inbox(accounts, account)
    assert [s for _, s in rows] == [f"to {rcpt}"]
    assert show(accounts, account, rows[0][0]) == msg


def test_unknown_user_among_others(lmtp, accounts):
    c = Raw(lmtp)
    c.cmd("LHLO x")
    assert c.cmd("MAIL FROM:<s@example.net>")[0] == 250
    assert c.cmd("RCPT TO:<alice>")[0] == 250
    code, text = c.cmd("RCPT TO:<nobody>")
    assert code == 550 and text[0].startswith("5.1.1")
    assert c.cmd(f"RCPT TO:<nobody@{SECONDARY}>")[0] == 550
    assert c.cmd("RCPT TO:<alice@no-such-domain.example>")[0] == 550
    assert c.cmd("RCPT TO:<../../etc>")[0] in (501, 550)
    assert c.cmd("RCPT TO:<bob>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(stuff(message("mixed")))
    replies = c.replies(2)
    assert [r[0] for r in replies] == [250, 250]
    assert "<alice>" in replies[0][1][0] and "<bob>" in replies[1][1][0]
    assert all(r[1][0].startswith("2.0.0") for r in replies)
    c.close()
    assert [s for _, s in inbox(accounts, "alice")] == ["mixed"]
    assert [s for _, s in inbox(accounts, "bob")] == ["mixed"]


def test_data_without_valid_recipient(lmtp):
    c = Raw(lmtp)
    c.cmd("LHLO x")
    c.cmd("MAIL FROM:<>")
    assert c.cmd("RCPT TO:<nobody>")[0] == 550
    assert c.cmd("DATA")[0] == 503
    assert c.cmd("RSET")[0] == 250
    assert c.cmd("NOOP")[0] == 250
    c.close()


def test_oversize(serve, accounts):
    srv = serve(["lmtp"], "--max-message-size", "1000")
    c = Raw(srv)
    code, lines = c.cmd("LHLO x")
    assert "SIZE 1000" in lines
    # Declared too large: refused at MAIL.
    code, text = c.cmd("MAIL FROM:<s@example.net> SIZE=5000")
    assert code == 552 and text[0].startswith("5.3.4")
    # Undeclared: read to the end, then 552 per recipient.
    assert c.cmd("MAIL FROM:<s@example.net> SIZE=500")[0] == 250
    assert c.cmd("RCPT TO:<alice>")[0] == 250
    assert c.cmd("RCPT TO:<bob>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(stuff(message("big", "x" * 70 + "\r\n") * 30))
    replies = c.replies(2)
    assert [r[0] for r in replies] == [552, 552]
    assert all(r[1][0].startswith("5.3.4") for r in replies)
    # The session is in sync and works on.
    assert c.cmd("NOOP")[0] == 250
    assert c.cmd("MAIL FROM:<s@example.net>")[0] == 250
    assert c.cmd("RCPT TO:<alice>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(stuff(message("small")))
    assert c.reply()[0] == 250
    c.close()
    assert [s for _, s in inbox(accounts, "alice")] == ["small"]
    assert inbox(accounts, "bob") == []


def test_pipelining(lmtp, accounts):
    """Every command in one write; replies come back in order."""
    c = Raw(lmtp)
    body = message("piped")
    c.send(b"LHLO x\r\nMAIL FROM:<s@example.net>\r\nRCPT TO:<alice>\r\n"
           b"RCPT TO:<nobody>\r\nRCPT TO:<carol>\r\nDATA\r\n" + stuff(body) +
           b"MAIL FROM:<>\r\nRCPT TO:<bob>\r\nDATA\r\n" + stuff(body) +
           b"NOOP\r\nQUIT\r\n")
    codes = [c.reply()[0] for _ in range(13)]
    assert codes == [250, 250, 250, 550, 250, 354, 250, 250,
                     250, 250, 354, 250, 250]
    assert c.reply()[0] == 221
    assert c.closed()
    for user in ("alice", "carol", "bob"):
        assert [s for _, s in inbox(accounts, user)] == ["piped"]


def test_dot_stuffing_exact(lmtp, accounts):
    body = (b"From: s@example.net\r\nSubject: dots\r\n\r\n"
            b".\r\n..\r\n...\r\n.hidden\r\n .space\r\nx.\r\n"
            b"\r\n.\r\n\r\n" + bytes(range(128, 256)) + b"\r\nlast\r\n")
    c = Raw(lmtp)
    c.cmd("LHLO x")
    c.cmd("MAIL FROM:<s@example.net> BODY=8BITMIME")
    c.cmd("RCPT TO:<alice>")
    c.cmd("RCPT TO:<bob>")
    c.cmd("RCPT TO:<carol>")
    assert c.cmd("DATA")[0] == 354
    c.send(stuff(body))
    assert [r[0] for r in c.replies(3)] == [250, 250, 250]
    c.close()
    for user in ("alice", "bob", "carol"):
        rows = inbox(accounts, user)
        assert len(rows) == 1
        assert show(accounts, user, rows[0][0]) == body


def test_bare_lf_normalised(lmtp, accounts):
    c = Raw(lmtp)
    c.send(b"LHLO x\nMAIL FROM:<s@example.net>\nRCPT TO:<alice>\nDATA\n")
    assert [c.reply()[0] for _ in range(4)] == [250, 250, 250, 354]
    c.send(b"Subject: lf\n\nline1\n..line2\n.\n")
    assert c.reply()[0] == 250
    c.close()
    rows = inbox(accounts, "alice")
    assert show(accounts, "alice", rows[0][0]) == \
        b"Subject: lf\r\n\r\nline1\r\n.line2\r\n"


def test_byte_trickle(lmtp, accounts):
    """The whole session one byte per send: same result."""
    c = Raw(lmtp)
    c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    body = message("trickle", ".a\r\nb\r\n")
    data = (b"LHLO x\r\nMAIL FROM:<s@example.net>\r\nRCPT TO:<alice>\r\n"
            b"DATA\r\n" + stuff(body) + b"QUIT\r\n")
    for i in range(len(data)):
        c.send(data[i:i + 1])
    assert [c.reply()[0] for _ in range(6)] == [250, 250, 250, 354, 250, 221]
    c.close()
    rows = inbox(accounts, "alice")
    assert show(accounts, "alice", rows[0][0]) == body


def test_bdat(lmtp, accounts):
    body = message("chunked", ".dot\r\n" + "y" * 3000 + "\r\n")
    c = Raw(lmtp)
    c.cmd("LHLO x")
    c.cmd("MAIL FROM:<s@example.net>")
    c.cmd("RCPT TO:<alice>")
    c.cmd("RCPT TO:<carol>")
    c.send(b"BDAT 100\r\n" + body[:100] +
           b"BDAT %d LAST\r\n" % (len(body) - 100) + body[100:])
    assert c.reply()[0] == 250
    assert [r[0] for r in c.replies(2)] == [250, 250]
    # BDAT without recipients: the chunk is still read.
    c.cmd("MAIL FROM:<>")
    c.send(b"BDAT 6 LAST\r\nNOOP\r\n")
    assert c.reply()[0] == 503
    assert c.cmd("RSET")[0] == 250
    c.close()
    for user in ("alice", "carol"):
        rows = inbox(accounts, user)
        assert show(accounts, user, rows[0][0]) == body


def test_bdat_too_large(serve, accounts):
    srv = serve(["lmtp"], "--max-message-size", "100")
    c = Raw(srv)
    c.cmd("LHLO x")
    c.cmd("MAIL FROM:<s@example.net>")
    c.cmd("RCPT TO:<alice>")
    c.send(b"BDAT 80\r\n" + b"a" * 80 + b"BDAT 80\r\n" + b"b" * 80 +
           b"BDAT 10 LAST\r\n" + b"c" * 10)
    assert c.reply()[0] == 250
    assert c.reply()[0] == 552
    assert c.reply()[0] == 552
    assert c.cmd("NOOP")[0] == 250
    c.close()
    assert inbox(accounts, "alice") == []


# ---- bad input ----

def test_bad_commands(lmtp, accounts):
    c = Raw(lmtp)
    assert c.greeting[0] == 220
    assert c.cmd("MAIL FROM:<a@b>")[0] == 503       # before LHLO
    assert c.cmd("HELO x")[0] == 500
    assert c.cmd("EHLO x")[0] == 500
    assert c.cmd("FOO bar")[0] == 500
    assert c.cmd("STARTTLS")[0] == 502
    assert c.cmd("LHLO")[0] == 501
    assert c.cmd("LHLO x")[0] == 250
    assert c.cmd("RCPT TO:<alice>")[0] == 503        # before MAIL
    assert c.cmd("DATA")[0] == 503
    assert c.cmd("MAIL FROM:bad")[0] == 501
    assert c.cmd("MAIL FROM:<a@b> FOO=1")[0] == 555
    assert c.cmd("MAIL FROM:<a@b>")[0] == 250
    assert c.cmd("MAIL FROM:<a@b>")[0] == 503        # nested
    assert c.cmd("RCPT TO:<>")[0] == 501
    assert c.cmd("RCPT TO:<a b@c>")[0] == 501
    assert c.cmd("RCPT TO:<alice> NOTIFY=NEVER")[0] == 555
    assert c.cmd("VRFY alice")[0] == 252
    assert c.cmd("HELP")[0] == 214
    c.send(b"NO\x00OP\r\n")
    assert c.reply()[0] == 500
    assert c.cmd("RCPT TO:<alice>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(stuff(message("after errors")))
    assert c.reply()[0] == 250
    assert c.cmd("QUIT")[0] == 221
    assert c.closed()
    assert [s for _, s in inbox(accounts, "alice")] == ["after errors"]


def test_overlong_line(lmtp):
    c = Raw(lmtp)
    c.send(b"NOOP " + b"x" * 100000 + b"\r\n")
    code, text = c.reply()
    assert code == 500 and text[0].startswith("5.5.2")
    assert c.cmd("NOOP")[0] == 250
    c.send(b"RCPT TO:<" + b"a" * 3000 + b">\r\n")
    assert c.reply()[0] == 500
    assert c.cmd("NOOP")[0] == 250
    c.close()


def test_too_many_errors(lmtp):
    c = Raw(lmtp)
    c.send(b"BAD\r\n" * 25)
    codes = [c.reply()[0] for _ in range(20)]
    assert codes == [500] * 20
    code, _ = c.reply()
    assert code == 421
    assert c.closed()


def test_disconnects_are_harmless(lmtp, accounts):
    # Mid-command, mid-DATA, mid-BDAT, right after DATA's end.
    for tail in (b"MAIL FR", b"DATA\r\nSubject: x\r\n\r\npartial",
                 b"BDAT 100\r\nabc", b"DATA\r\n" + stuff(message("gone"))):
        c = Raw(lmtp)
        c.send(b"LHLO x\r\nMAIL FROM:<s@x>\r\nRCPT TO:<alice>\r\n" + tail)
        c.sock.shutdown(socket.SHUT_RDWR)
        c.close()
    with smtplib.LMTP("127.0.0.1", lmtp.ports["lmtp"], timeout=30) as c:
        assert c.sendmail("s@x", ["bob"], message("still up")) == {}
    assert [s for _, s in inbox(accounts, "bob")] == ["still up"]


def test_half_close(lmtp, accounts):
    """A client that shuts down its sending side still gets every reply."""
    c = Raw(lmtp)
    c.send(b"LHLO x\r\nMAIL FROM:<s@x>\r\nRCPT TO:<alice>\r\nDATA\r\n" +
           stuff(message("half")) + b"QUIT\r\n")
    c.sock.shutdown(socket.SHUT_WR)
    assert [c.reply()[0] for _ in range(6)] == [250, 250, 250, 354, 250, 221]
    c.close()
    assert [s for _, s in inbox(accounts, "alice")] == ["half"]


def test_idle_timeout(serve, accounts):
    srv = serve(["lmtp"], "--idle-timeout", "1")
    c = Raw(srv)
    c.cmd("LHLO x")
    time.sleep(1.5)
    code, text = c.reply()
    assert code == 421 and text[0].startswith("4.4.2")
    assert c.closed()


# ---- volume and concurrency ----

def test_many_recipients(lmtp, accounts):
    c = Raw(lmtp)
    c.cmd("LHLO x")
    c.cmd("MAIL FROM:<s@example.net>")
    n = 120
    c.send(b"".join(b"RCPT TO:<%s>\r\n" % (b"alice", b"bob", b"carol")[i % 3]
                    for i in range(n)))
    assert [c.reply()[0] for _ in range(n)] == [250] * n
    assert c.cmd("DATA")[0] == 354
    c.send(stuff(message("many")))
    replies = c.replies(n)
    assert [r[0] for r in replies] == [250] * n
    c.close()
    for user in ("alice", "bob", "carol"):
        assert len(inbox(accounts, user)) == n // 3


def test_recipient_limit(lmtp, accounts):
    c = Raw(lmtp)
    c.cmd("LHLO x")
    c.cmd("MAIL FROM:<s@example.net>")
    c.send(b"RCPT TO:<alice>\r\n" * 1001)
    codes = [c.reply()[0] for _ in range(1001)]
    assert codes[:1000] == [250] * 1000
    assert codes[1000] == 452
    assert c.cmd("RSET")[0] == 250
    c.close()
    assert inbox(accounts, "alice") == []


def test_concurrent_connections(lmtp, accounts):
    threads, per_thread = 8, 10
    errors = []

    def worker(t):
        try:
            with smtplib.LMTP("127.0.0.1", lmtp.ports["lmtp"],
                              timeout=60) as c:
                for i in range(per_thread):
                    user = ("alice", "bob", "carol")[(t + i) % 3]
                    refused = c.sendmail("s@x", [user],
                                         message(f"t{t}-{i}"))
                    if refused:
                        errors.append(refused)
        except Exception as e:  # reported below
            errors.append(repr(e))

    ts = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    assert not errors
    subjects = []
    for user in ("alice", "bob", "carol"):
        subjects += [s for _, s in inbox(accounts, user)]
    assert sorted(subjects) == sorted(f"t{t}-{i}" for t in range(threads)
                                      for i in range(per_thread))


def test_sigterm_during_delivery(serve, accounts):
    """Every message acknowledged before SIGTERM is in the store."""
    srv = serve(["lmtp"])
    acked = []
    lock = threading.Lock()
    stop = threading.Event()

    def worker(t):
        i = 0
        try:
            with smtplib.LMTP("127.0.0.1", srv.ports["lmtp"],
                              timeout=60) as c:
                while not stop.is_set() and i < 500:
                    subject = f"s{t}-{i}"
                    if c.sendmail("s@x", ["alice"], message(subject)) == {}:
                        with lock:
                            acked.append(subject)
                    i += 1
        except (smtplib.SMTPException, OSError):
            pass        # the server went away: not acknowledged

    ts = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
    for t in ts:
        t.start()
    deadline = time.monotonic() + 30
    while len(acked) < 20 and time.monotonic() < deadline:
        time.sleep(0.01)
    srv.send_signal(signal.SIGTERM)
    code = srv.stop(sig=None)
    stop.set()
    for t in ts:
        t.join(60)
    assert code == 0, srv.log()
    assert len(acked) >= 20
    stored = [s for _, s in inbox(accounts, "alice")]
    missing = set(acked) - set(stored)
    assert not missing
    assert len(stored) == len(set(stored))


def test_pipelined_flood_without_reading(lmtp):
    """A client that sends far more than it reads gets every reply once it
    reads; the server bounds what it queues meanwhile."""
    c = Raw(lmtp)
    n = 50000
    sender = threading.Thread(target=c.send, args=(b"NOOP\r\n" * n,))
    sender.start()
    time.sleep(1)
    codes = [c.reply()[0] for _ in range(n)]
    sender.join(60)
    assert codes == [250] * n
    assert c.cmd("QUIT")[0] == 221
    c.close()
