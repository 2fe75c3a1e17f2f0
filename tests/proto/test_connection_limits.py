# SPDX-License-Identifier: MIT
"""Connection limits of `commune serve` (--max-connections,
--max-connections-per-ip, --limit-loopback) with the real daemon and
real sockets, for IMAP (imap + imaps), POP3 (pop3 + pop3s) and LMTP.

A client over a limit gets its protocol's refusal (IMAP `* BYE
[UNAVAILABLE]`, RFC 5530; POP3 `-ERR [SYS/TEMP]`, RFC 3206; LMTP
`421 4.7.0`, RFC 5321 §3.8), inside TLS on imaps and pop3s, and then
EOF. A connection counts from accept to close, and the counts never
leak: after connections dropped in every odd way, a full quota of new
ones is accepted and one more is refused; the daemon's clean exit
(the `serve` fixture) also checks that every count went back to zero,
since the daemon panics at exit otherwise.

Other client addresses come from 127.0.0.0/8 (loopback only): a socket
bound to 127.0.0.2 is another client.
"""
import socket
import ssl
import struct
import subprocess
import time

import pytest

from proto.imap.imap_helpers import PW, deliver, message, unverified

TIMEOUT = 30
# How long the counts may take to come back after clients went away
# (sessions in a login-failure delay or with store work running end
# after their socket): the check retries within this, it never passes
# because of it.
SETTLE_SECS = 30

GREETING = {"imap": b"* OK ", "imaps": b"* OK ", "pop3": b"+OK ",
            "pop3s": b"+OK ", "lmtp": b"220 "}
FAMILY = {"imap": "imap", "imaps": "imap", "pop3": "pop3", "pop3s": "pop3",
          "lmtp": "lmtp"}
PER_IP = "Too many connections from your address, try again later\r\n"
SERVER = "Too many connections to this server, try again later\r\n"


def refusal(proto, per_ip, hostname=None):
    why = (PER_IP if per_ip else SERVER).encode()
    fam = FAMILY[proto]
    if fam == "imap":
        return b"* BYE [UNAVAILABLE] " + why
    if fam == "pop3":
        return b"-ERR [SYS/TEMP] " + why
    return b"421 4.7.0 " + hostname.encode() + b" " + why


def lmtp_hostname():
    return socket.gethostname() or "localhost"


class Conn:
    """One client socket (TLS from the start for imaps and pop3s) and
    the first line the server sent."""

    def __init__(self, srv, proto, source="127.0.0.1"):
        raw = socket.create_connection(("127.0.0.1", srv.ports[proto]),
                                       timeout=TIMEOUT,
                                       source_address=(source, 0))
        self.proto = proto
        self.sock = raw
        self.buf = b""
        if proto.endswith("s"):
            self.sock = unverified().wrap_socket(
                raw, server_hostname="localhost")
        self.first = None

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"closed; pending {self.buf!r}")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line + b"\r\n"

    def greet(self):
        self.first = self.line()
        return self.first

    def accepted(self):
        return self.first.startswith(GREETING[self.proto])

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def eof(self):
        """True when the server closes (after any data)."""
        try:
            while True:
                if not self.sock.recv(65536):
                    return True
        except (ConnectionResetError, ssl.SSLError):
            return True
        except socket.timeout:
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def reset(self):
        """Abortive close: RST instead of FIN."""
        rst(self.sock)


def rst(sock):
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass


def expect_refused(c, per_ip):
    """c got exactly the refusal and then EOF."""
    line = c.greet()
    assert line == refusal(c.proto, per_ip, lmtp_hostname()), line
    assert c.eof()
    c.close()


def greeted(srv, proto, source="127.0.0.1"):
    """A connection that got its greeting: retried while the server
    still counts connections that were just dropped (a leaked count
    never comes back, and fails here)."""
    deadline = time.monotonic() + SETTLE_SECS
    while True:
        c = Conn(srv, proto, source)
        c.greet()
        if c.accepted():
            return c
        c.close()
        assert time.monotonic() < deadline, f"{proto}: {c.first!r}"
        time.sleep(0.05)


def fill(srv, proto, n, source="127.0.0.1"):
    """n connections that all got the greeting (see greeted())."""
    return [greeted(srv, proto, source) for i in range(n)]


def close_all(conns):
    for c in conns:
        c.close()


def quota_is(srv, protos, n, source="127.0.0.1", per_ip=True,
             settle=SETTLE_SECS):
    """Exactly n connections from source are accepted (spread over the
    listeners of protos), and the next one is refused. Retries while
    fewer than n are accepted (closed sessions may still be ending),
    within settle seconds; more than n fails at once."""
    deadline = time.monotonic() + settle
    got = []
    for attempt in range(1000):
        assert time.monotonic() < deadline, \
            f"{protos}: only {len(got)} of {n} accepted from {source} " \
            f"after {settle} s: a count leaked"
        conns = []
        full = True
        for i in range(n):
            c = Conn(srv, protos[i % len(protos)], source)
            c.greet()
            if not c.accepted():
                assert c.first == refusal(c.proto, per_ip,
                                          lmtp_hostname()), c.first
                c.close()
                full = False
                break
            conns.append(c)
        got = conns
        if full:
            extra = Conn(srv, protos[n % len(protos)], source)
            expect_refused(extra, per_ip)
            close_all(conns)
            return
        close_all(conns)
        time.sleep(0.1)
    raise AssertionError(f"{protos}: never a full quota of {n}")


@pytest.fixture
def accts(commune):
    commune.ok("account", "create", "alice", "--password", PW)
    commune.ok("account", "create", "bob", "--password", PW,
               "--type", "mbox")
    deliver(commune, "alice", message("hello"))
    deliver(commune, "bob", message("bob's"))
    return commune


# ---- options ----

@pytest.mark.parametrize("args,needle", [
    (["--max-connections", "-1"], b"--max-connections wants"),
    (["--max-connections", "10x"], b"--max-connections wants"),
    (["--max-connections", "smtp=3"], b"--max-connections wants"),
    (["--max-connections", "imap="], b"--max-connections wants"),
    (["--max-connections", "20000000"], b"--max-connections wants"),
    (["--max-connections-per-ip", "pop3=x"],
     b"--max-connections-per-ip wants"),
    (["--max-connections-per-ip", ""], b"--max-connections-per-ip wants"),
])
def test_bad_options(commune, args, needle):
    p = subprocess.run([commune.bin, "serve", "--base", commune.base,
                        "--listen", "imap=127.0.0.1:0", *args],
                       capture_output=True, timeout=60)
    assert p.returncode == 2, p.stderr
    assert needle in p.stderr, p.stderr


def test_help_lists_options(commune):
    p = subprocess.run([commune.bin, "serve", "--help"],
                       capture_output=True, timeout=60)
    assert p.returncode == 0
    for opt in (b"--max-connections ", b"--max-connections-per-ip",
                b"--limit-loopback"):
        assert opt in p.stdout


# ---- the per-address limit ----

def test_per_ip_limit(serve, accts):
    srv = serve(["imap", "pop3", "lmtp"], "--allow-plaintext-auth",
                "--max-connections-per-ip", "3", "--limit-loopback")
    for proto in ("imap", "pop3", "lmtp"):
        held = fill(srv, proto, 3)
        expect_refused(Conn(srv, proto), per_ip=True)
        # another address is another client
        other = fill(srv, proto, 3, source="127.0.0.2")
        expect_refused(Conn(srv, proto, "127.0.0.2"), per_ip=True)
        # a session over the limit never started: the held ones work
        if proto == "imap":
            held[0].send("a LOGIN alice pw\r\n")
            assert held[0].line().startswith(b"a OK")
        # one gone: one more may come (once the server saw the close)
        held.pop().close()
        quota_is(srv, [proto], 1)
        close_all(held + other)
    # the server is still fine for everybody
    quota_is(srv, ["imap"], 3)
    quota_is(srv, ["pop3"], 3, source="127.0.0.3")
    assert "--max-connections-per-ip" in srv.log()


def test_limits_are_per_protocol(serve, accts):
    srv = serve(["imap", "pop3", "lmtp"], "--max-connections-per-ip", "2",
                "--limit-loopback", "--max-connections-per-ip", "lmtp=1")
    imap = fill(srv, "imap", 2)
    pop3 = fill(srv, "pop3", 2)
    lmtp = fill(srv, "lmtp", 1)
    expect_refused(Conn(srv, "imap"), per_ip=True)
    expect_refused(Conn(srv, "pop3"), per_ip=True)
    expect_refused(Conn(srv, "lmtp"), per_ip=True)
    close_all(imap + pop3 + lmtp)


def test_loopback_exempt_by_default(serve, accts):
    """Without --limit-loopback, loopback clients (the local MTA,
    proxies, bench/'s 10,000 IDLE clients) are not held to the
    per-address limit."""
    srv = serve(["imap", "lmtp"], "--max-connections-per-ip", "2")
    conns = fill(srv, "imap", 6) + fill(srv, "lmtp", 6) + \
        fill(srv, "imap", 3, source="127.0.0.9")
    close_all(conns)
    assert "loopback exempt" in srv.log()


# ---- the limit per protocol ----

def test_max_connections(serve, accts, tls_base):
    """imap and imaps share IMAP's limit, pop3 and pop3s POP3's; each
    client comes from its own address, so only the total counts. The
    refusal on imaps and pop3s comes inside TLS."""
    srv = serve(["imap", "imaps", "pop3", "pop3s", "lmtp"],
                "--max-connections", "4", "--max-connections", "lmtp=2")
    for protos, n in ((["imap", "imaps"], 4), (["pop3s", "pop3"], 4),
                      (["lmtp"], 2)):
        held = []
        for i in range(n):
            c = Conn(srv, protos[i % 2 if len(protos) > 1 else 0],
                     f"127.0.1.{i + 1}")
            c.greet()
            assert c.accepted(), c.first
            held.append(c)
        for proto in protos:
            expect_refused(Conn(srv, proto, "127.0.2.1"), per_ip=False)
        # the other protocols are not full
        other = "lmtp" if protos[0] != "lmtp" else "imap"
        c = Conn(srv, other, "127.0.3.1")
        c.greet()
        assert c.accepted(), c.first
        c.close()
        close_all(held)
        quota_is(srv, protos, n, source="127.0.4.1", per_ip=False)
    assert "(--max-connections)" in srv.log()


def test_counted_during_handshake_and_login_delay(serve, accts, tls_base):
    """A TLS handshake not yet done and a session waiting out its
    failed-login delay both hold their place."""
    srv = serve(["imap", "imaps"], "--max-connections-per-ip", "2",
                "--limit-loopback")
    hs = socket.create_connection(("127.0.0.1", srv.ports["imaps"]),
                                  timeout=TIMEOUT)
    bad = Conn(srv, "imap")
    bad.greet()
    bad.send("a STARTTLS\r\n")
    assert bad.line().startswith(b"a OK")
    tls = unverified().wrap_socket(bad.sock, server_hostname="localhost")
    bad.sock = tls
    bad.send("b LOGIN alice wrong\r\n")
    # hs is in its handshake, bad in its delay: both count
    expect_refused(Conn(srv, "imap"), per_ip=True)
    expect_refused(Conn(srv, "imaps"), per_ip=True)
    assert bad.line().startswith(b"b NO")
    # finish the handshake (a TLS client gone before it: see
    # test_tls_client_vanishes)
    hs = unverified().wrap_socket(hs, server_hostname="localhost")
    assert hs.recv(100).startswith(b"* OK")
    hs.close()
    bad.close()
    quota_is(srv, ["imaps", "imap"], 2)


# ---- nothing leaks ----

CLIENT_HELLO_START = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"


def imap_ways(srv):
    """Ways an IMAP client leaves; each a function of a greeted Conn."""
    def partial(c):
        c.send("a LOGIN alice pw\r\nb SELECT INB")
        c.reset()

    def mid_login_literal(c):
        c.send("a LOGIN {5}\r\n")
        assert c.line().startswith(b"+")
        c.send("ali")
        c.reset()

    def mid_append_literal(c):
        c.send("a LOGIN alice pw\r\n")
        assert c.line().startswith(b"a OK")
        c.send("b APPEND INBOX {1000}\r\n")
        assert c.line().startswith(b"+")
        c.send("x" * 100)
        c.close()

    def mid_starttls(c):
        c.send("a STARTTLS\r\n")
        assert c.line().startswith(b"a OK")
        c.send(CLIENT_HELLO_START)
        c.reset()

    def after_starttls(c):
        c.send("a STARTTLS\r\n")
        assert c.line().startswith(b"a OK")
        c.sock = unverified().wrap_socket(c.sock,
                                          server_hostname="localhost")
        c.reset()

    def logout(c):
        c.send("a LOGIN alice pw\r\nb LOGOUT\r\n")
        assert c.eof()
        c.close()

    def failed_login(c):
        c.send("a LOGIN alice wrong\r\n")
        c.close()

    def idle(c):
        c.send("a LOGIN alice pw\r\nb SELECT INBOX\r\nc IDLE\r\n")
        while not c.line().startswith(b"+"):
            pass
        c.reset()

    def job_running(c):
        c.send("a LOGIN alice pw\r\nb SELECT INBOX\r\n"
               "c FETCH 1:* (BODY[])\r\n")
        c.reset()

    def mid_sasl(c):
        c.send("a AUTHENTICATE PLAIN\r\n")
        assert c.line().startswith(b"+")
        c.close()

    def half_close(c):
        c.sock.shutdown(socket.SHUT_WR)
        assert c.eof()
        c.close()

    def errors(c):
        # the server gives up on a client that only sends junk
        for i in range(40):
            try:
                c.send(b"\x01junk\r\n")
            except OSError:
                break
        c.reset()

    return [partial, mid_login_literal, mid_append_literal, mid_starttls,
            after_starttls, logout, failed_login, idle, job_running,
            mid_sasl, half_close, errors]


def pop3_ways(srv):
    def partial(c):
        c.send("USER alice\r\nPA")
        c.reset()

    def mid_stls(c):
        c.send("STLS\r\n")
        assert c.line().startswith(b"+OK")
        c.send(CLIENT_HELLO_START)
        c.close()

    def failed_login(c):
        c.send("USER alice\r\nPASS wrong\r\n")
        assert c.line().startswith(b"+OK")
        c.close()

    def quit(c):
        c.send("USER bob\r\nPASS pw\r\nSTAT\r\nQUIT\r\n")
        assert c.eof()
        c.close()

    def retr_reset(c):
        c.send("USER bob\r\nPASS pw\r\nRETR 1\r\n")
        c.reset()

    return [partial, mid_stls, failed_login, quit, retr_reset]


def lmtp_ways(srv):
    def mid_data(c):
        c.send("LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<alice>\r\nDATA\r\n")
        while not c.line().startswith(b"354"):
            pass
        c.send("Subject: cut\r\n\r\nhalf a mess")
        c.close()

    def mid_bdat(c):
        c.send("LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<alice>\r\n"
               "BDAT 1000 LAST\r\nSubject: x\r\n")
        c.reset()

    def quit(c):
        c.send("QUIT\r\n")
        assert c.eof()
        c.close()

    def errors(c):
        for i in range(25):
            try:
                c.send("BOGUS\r\n")
            except OSError:
                break
        assert c.eof()
        c.close()

    return [mid_data, mid_bdat, quit, errors]


# The ways that also work over imaps and pop3s: the others are STARTTLS
# or leave replies unread (test_tls_client_vanishes).
TLS_WAYS = ("mid_login_literal", "mid_append_literal", "logout",
            "failed_login", "idle", "mid_sasl", "half_close", "quit")


def churn(srv, rounds):
    dropped = 0
    for r in range(rounds):
        for proto in ("imap", "pop3", "lmtp"):
            # before the greeting
            for how in ("rst", "fin"):
                s = socket.create_connection(
                    ("127.0.0.1", srv.ports[proto]), timeout=TIMEOUT)
                rst(s) if how == "rst" else s.close()
                dropped += 1
        for proto, ways in (("imap", imap_ways), ("pop3", pop3_ways),
                            ("lmtp", lmtp_ways), ("imaps", imap_ways),
                            ("pop3s", pop3_ways)):
            for way in ways(srv):
                if proto.endswith("s") and way.__name__ not in TLS_WAYS:
                    continue
                way(greeted(srv, proto))
                dropped += 1
    return dropped


def refused_oddly(srv, protos, n):
    """With the quota full, refused clients leave in odd ways too: RST
    at once, a TLS client mid-handshake, one that never reads."""
    held = [greeted(srv, protos[i % len(protos)]) for i in range(n)]
    for proto in protos:
        s = socket.create_connection(("127.0.0.1", srv.ports[proto]),
                                     timeout=TIMEOUT)
        rst(s)
        s = socket.create_connection(("127.0.0.1", srv.ports[proto]),
                                     timeout=TIMEOUT)
        if proto.endswith("s"):
            s.sendall(CLIENT_HELLO_START)
        else:
            s.sendall(b"a NOOP\r\n" * 100)
        s.close()
    close_all(held)


def test_counts_never_leak(serve, accts, tls_base):
    n = 5
    srv = serve(["imap", "imaps", "pop3", "pop3s", "lmtp"],
                "--allow-plaintext-auth", "--limit-loopback",
                "--max-connections-per-ip", str(n),
                "--max-connections", str(n + 3))
    quota_is(srv, ["imap", "imaps"], n)
    dropped = churn(srv, 6)
    for protos in (["imap", "imaps"], ["pop3", "pop3s"], ["lmtp"]):
        refused_oddly(srv, protos, n)
    assert dropped >= 200
    for protos in (["imap", "imaps"], ["pop3", "pop3s"], ["lmtp"]):
        # the per-address quota from 127.0.0.1 ...
        quota_is(srv, protos, n)
        # ... and the whole server's, from two addresses
        held = fill(srv, protos[0], n)
        more = fill(srv, protos[-1], 3, source="127.0.0.2")
        expect_refused(Conn(srv, protos[0], "127.0.0.3"), per_ip=False)
        close_all(held + more)
    # and the server still serves
    c = greeted(srv, "imap")
    c.send("a LOGIN alice pw\r\nb SELECT INBOX\r\nc LOGOUT\r\n")
    lines = []
    while not lines or not lines[-1].startswith(b"c OK"):
        lines.append(c.line())
    assert any(l.startswith(b"b OK") for l in lines), lines
    c.close()


def test_tls_client_vanishes(serve, accts, tls_base):
    """A TLS client gone without close_notify, before the handshake
    ends or with replies unsent, frees its place at once (libevent's
    OpenSSL bufferevent sends nothing after EOF; conn_try_free in
    imap-conn.c and pop3-conn.c), not at the idle timeout."""
    srv = serve(["imaps", "pop3s"], "--limit-loopback",
                "--max-connections-per-ip", "3", "--shutdown-timeout", "1")
    for proto in ("imaps", "pop3s"):
        # before the handshake, and in its middle
        s = socket.create_connection(("127.0.0.1", srv.ports[proto]),
                                     timeout=TIMEOUT)
        s.close()
        s = socket.create_connection(("127.0.0.1", srv.ports[proto]),
                                     timeout=TIMEOUT)
        s.sendall(CLIENT_HELLO_START)
        rst(s)
    # after it, with replies not yet read
    c = greeted(srv, "imaps")
    c.send("a LOGIN alice pw\r\nb SELECT INBOX\r\nc FETCH 1:* BODY[]\r\n")
    c.reset()
    quota_is(srv, ["imaps"], 3, settle=10)
    quota_is(srv, ["pop3s"], 3, settle=10)
