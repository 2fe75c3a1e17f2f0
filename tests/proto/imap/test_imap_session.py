# SPDX-License-Identifier: MIT
"""IMAP session commands through the real `commune serve`: greeting,
CAPABILITY, NOOP, LOGOUT, ID, ENABLE, NAMESPACE, LOGIN, AUTHENTICATE
(PLAIN, LOGIN, SCRAM-SHA-256, SASL-IR), STARTTLS and imaps, the
plaintext-before-TLS rule, the failed-login delay, and hostile input
(over-long lines, huge literals, NUL bytes, bad syntax)."""
import base64
import hashlib
import hmac
import imaplib
import os
import time

from imap_helpers import (AUTH_DELAY, PW, TIMEOUT, Raw, client, unverified)


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


def test_greeting_capability_noop_logout(imap):
    c = Raw(imap)
    assert c.greeting.startswith("* OK [CAPABILITY IMAP4rev1 ")
    lines = c.cmd("a", "CAPABILITY")
    caps = lines[0].split()
    assert caps[:2] == ["*", "CAPABILITY"]
    for cap in ("IMAP4rev1", "LITERAL+", "SASL-IR", "ID", "ENABLE", "IDLE",
                "NAMESPACE", "UNSELECT", "CHILDREN", "AUTH=PLAIN",
                "AUTH=LOGIN", "AUTH=SCRAM-SHA-256"):
        assert cap in caps, cap
    # No certificate: no STARTTLS; plaintext allowed: no LOGINDISABLED.
    assert "STARTTLS" not in caps and "LOGINDISABLED" not in caps
    assert lines[-1] == "a OK Capability completed."
    assert c.cmd("b", "NOOP") == ["b OK NOOP completed."]
    assert c.cmd("c", "ID NIL")[-1] == "c OK ID completed."
    assert c.cmd("d", 'ID ("name" "test")')[0] == '* ID ("name" "Commune")'
    # Commands of later states are refused before login.
    assert c.cmd("e", "SELECT INBOX") == ["e BAD Not logged in."]
    assert c.cmd("f", "LOGOUT") == ["* BYE Logging out.",
                                    "f OK Logout completed."]
    assert c.closed()


def test_login_imaplib(imap):
    m = client(imap)
    assert m.state == "AUTH"
    typ, data = m.namespace()
    assert typ == "OK" and data == [b'(("" "/")) (("~" "/")) NIL']
    typ, data = m._simple_command("ENABLE", "CONDSTORE")
    assert typ == "OK"
    assert m.logout()[0] == "BYE"


def test_login_failures_are_slowed_and_limited(imap):
    c = Raw(imap)
    start = time.monotonic()
    lines = c.cmd("a", "LOGIN alice wrong")
    assert lines == ["a NO [AUTHENTICATIONFAILED] Authentication failed."]
    assert time.monotonic() - start >= AUTH_DELAY
    # Unknown users fail the same way.
    assert c.cmd("b", "LOGIN nobody wrong")[-1].startswith(
        "b NO [AUTHENTICATIONFAILED]")
    lines = c.cmd("c", "LOGIN alice wrong")
    assert lines[0].startswith("c NO")
    assert c.line() == "* BYE Too many failed logins."
    assert c.closed()


def test_login_literals_and_quoted(imap):
    c = Raw(imap)
    c.send("a LOGIN {5}\r\n")
    assert c.line().startswith("+ ")
    c.send("alice {2+}\r\npw\r\n")
    assert c.until_tagged("a")[-1].startswith("a OK [CAPABILITY")
    c2 = Raw(imap)
    assert c2.cmd("b", 'LOGIN "alice" "pw"')[-1].startswith("b OK")


def test_authenticate_plain_sasl_ir_and_continuation(imap):
    c = Raw(imap)
    lines = c.cmd("a", "AUTHENTICATE PLAIN " + b64(f"\0alice\0{PW}"))
    assert lines[-1].startswith("a OK [CAPABILITY"), lines
    c2 = Raw(imap)
    c2.send("b AUTHENTICATE PLAIN\r\n")
    assert c2.line() == "+ "
    c2.send(b64(f"\0alice\0{PW}") + "\r\n")
    assert c2.until_tagged("b")[-1].startswith("b OK")
    # Cancelled exchange.
    c3 = Raw(imap)
    c3.send("c AUTHENTICATE LOGIN\r\n")
    assert c3.line().startswith("+ ")
    c3.send("*\r\n")
    assert c3.until_tagged("c")[-1].startswith("c BAD")
    assert c3.cmd("d", "NOOP") == ["d OK NOOP completed."]
    # imaplib's AUTHENTICATE LOGIN
    m = imaplib.IMAP4("127.0.0.1", imap.ports["imap"], timeout=TIMEOUT)
    assert m.login_cram_md5 if False else True
    steps = iter([b"alice", PW.encode()])
    typ, _ = m.authenticate("LOGIN", lambda challenge: next(steps))
    assert typ == "OK"
    m.logout()


def _scram(c, user, password):
    """A SCRAM-SHA-256 exchange (RFC 5802, RFC 7677) hashing password
    (bytes) as given; returns the tagged line."""
    nonce = b64(os.urandom(18))
    first_bare = f"n={user},r={nonce}"
    c.send(f"a AUTHENTICATE SCRAM-SHA-256 {b64('n,,' + first_bare)}\r\n")
    line = c.line()
    assert line.startswith("+ ")
    server_first = base64.b64decode(line[2:]).decode()
    attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
    salted = hashlib.pbkdf2_hmac("sha256", password,
                                 base64.b64decode(attrs["s"]),
                                 int(attrs["i"]))
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored = hashlib.sha256(client_key).digest()
    without_proof = f"c=biws,r={attrs['r']}"
    auth_msg = f"{first_bare},{server_first},{without_proof}".encode()
    sig = hmac.new(stored, auth_msg, "sha256").digest()
    proof = bytes(a ^ b for a, b in zip(client_key, sig))
    c.send(b64(f"{without_proof},p={b64(proof)}") + "\r\n")
    line = c.line()
    if not line.startswith("+ "):
        return line
    assert base64.b64decode(line[2:]).startswith(b"v=")
    c.send("\r\n")
    return c.until_tagged("a")[-1]


def test_authenticate_scram(imap):
    assert _scram(Raw(imap), "alice", PW.encode()).startswith("a OK")
    assert _scram(Raw(imap), "alice", b"wrong").startswith("a NO")


def test_saslprep_passwords(imap, accounts):
    """Passwords are SASLprep'd (RFC 4013) when set and when checked:
    RFC 4013 §3's "I<SOFT HYPHEN>X", "IX" and "<ROMAN NUMERAL NINE>" are
    one password for LOGIN and PLAIN, and SCRAM clients, which hash the
    prepared form (RFC 5802 §2.2), get in with "IX". A password with a
    control character is refused by the CLI."""
    accounts.ok("account", "password", "alice", "I\u00adX")
    for pw in ("IX", "\u2168", "I\u00adX"):
        c = Raw(imap)
        c.send(f"p AUTHENTICATE PLAIN {b64(chr(0) + 'alice' + chr(0) + pw)}"
               "\r\n")
        assert c.until_tagged("p")[-1].startswith("p OK"), pw
    c = Raw(imap)
    data = "\u2168".encode()
    c.send(b"l LOGIN alice {%d+}\r\n" % len(data) + data + b"\r\n")
    assert c.until_tagged("l")[-1].startswith("l OK")
    assert _scram(Raw(imap), "alice", b"IX").startswith("a OK")
    assert _scram(Raw(imap), "alice", "I\u00adX".encode()).startswith("a NO")
    c = Raw(imap)
    c.send(f"p AUTHENTICATE PLAIN {b64(chr(0) + 'alice' + chr(0) + 'ix')}"
           "\r\n")
    assert c.until_tagged("p")[-1].startswith("p NO")
    res = accounts.run("account", "password", "alice", "a\u0007b")
    assert res.returncode != 0 and b"SASLprep" in res.stderr, res


def test_plaintext_refused_before_tls(tls_imap):
    c = Raw(tls_imap)
    caps = c.cmd("a", "CAPABILITY")[0].split()
    assert "STARTTLS" in caps and "LOGINDISABLED" in caps
    assert "AUTH=PLAIN" not in caps and "AUTH=SCRAM-SHA-256" in caps
    assert c.cmd("b", "LOGIN alice pw")[-1].startswith(
        "b NO [PRIVACYREQUIRED]")
    assert c.cmd("c", "AUTHENTICATE PLAIN " + b64("\0alice\0pw"))[-1] \
        .startswith("c NO [PRIVACYREQUIRED]")
    c.starttls()
    caps = c.cmd("d", "CAPABILITY")[0].split()
    assert "STARTTLS" not in caps and "LOGINDISABLED" not in caps
    assert "AUTH=PLAIN" in caps
    c.login()
    assert c.cmd("e", "STARTTLS")[-1].startswith("e BAD")


def test_starttls_discards_pipelined_plaintext(tls_imap):
    c = Raw(tls_imap)
    c.send("S STARTTLS\r\nX LOGIN alice pw\r\n")
    assert c.line() == "S OK Begin TLS negotiation now."
    c.sock = unverified().wrap_socket(c.sock)
    # The injected LOGIN never ran: still not authenticated.
    assert c.cmd("a", "SELECT INBOX") == ["a BAD Not logged in."]


def test_imaps_and_imaplib_starttls(tls_imap):
    m = imaplib.IMAP4_SSL("127.0.0.1", tls_imap.ports["imaps"],
                          ssl_context=unverified(), timeout=TIMEOUT)
    m.login("alice", PW)
    assert m.select("INBOX")[0] == "OK"
    m.logout()
    m = imaplib.IMAP4("127.0.0.1", tls_imap.ports["imap"], timeout=TIMEOUT)
    m.starttls(ssl_context=unverified())
    m.login("alice", PW)
    m.logout()


def test_bad_input_keeps_session_usable(imap):
    c = Raw(imap)
    c.login()
    assert c.cmd("a", "FROBNICATE") == ["a BAD Unknown command."]
    assert c.cmd("b", "LIST (") == ["b BAD Missing ')'"]
    c.send(b"c NOOP \0\r\n")
    assert c.until_tagged("c") == ["c BAD NUL byte in command"]
    # Over-long line, with a LITERAL+ at its end whose bytes are skipped.
    c.send(b"d LIST " + b"x" * 70000 + b" {5+}\r\nhello\r\n")
    assert c.until_tagged("d") == ["d BAD Command line too long"]
    # Huge synchronising literal: no "+", a NO instead.
    c.send("e APPEND INBOX {4000000000}\r\n")
    assert c.until_tagged("e") == ["e NO [TOOBIG] Literal too large"]
    c.send("f APPEND INBOX {4294967296}\r\n")
    assert c.until_tagged("f") == ["f BAD Literal size out of range"]
    c.send("g NOOP\r\n")
    assert c.until_tagged("g") == ["g OK NOOP completed."]
    c.send("\r\n")
    assert c.line() == "* BAD Empty command line"
    assert c.cmd("h", "NOOP") == ["h OK NOOP completed."]


def test_too_many_errors_close(imap):
    c = Raw(imap)
    for i in range(19):
        assert c.cmd(f"t{i}", "BOGUS")[-1].startswith(f"t{i} BAD")
    c.send("last BOGUS\r\n")
    assert c.line().startswith("last BAD")
    assert c.line() == "* BYE Too many invalid commands."
    assert c.closed()


def test_pipelined_commands_answered_in_order(imap):
    c = Raw(imap)
    c.send("a LOGIN alice pw\r\nb SELECT INBOX\r\nc NOOP\r\nd LIST \"\" *\r\n")
    lines = c.until_tagged("d")
    tags = [l.split()[0] for l in lines if not l.startswith("*")]
    assert tags == ["a", "b", "c", "d"]


def test_user_names_cannot_inject_log_lines(imap):
    c = Raw(imap)
    c.send(b"a LOGIN {23+}\r\nx\r\ncommune: forged line pw\r\n")
    assert c.until_tagged("a")[-1].startswith("a NO [AUTHENTICATIONFAILED]")
    log = imap.log()
    assert "login failed for x??commune: forged line" in log
    assert "\ncommune: forged line" not in log


def test_login_timeout(serve, accounts):
    """Before login the shorter --login-timeout applies (RFC 3501 §5.4's
    30 minutes are for authenticated sessions); after LOGIN the idle
    timeout; after UNAUTHENTICATE (RFC 8437) the login timeout again."""
    srv = serve(["imap"], "--allow-plaintext-auth", "--login-timeout", "1",
                "--idle-timeout", "120")
    idle = Raw(srv)
    authed = Raw(srv)
    authed.login()
    again = Raw(srv)
    again.login()
    assert again.cmd("u", "UNAUTHENTICATE")[-1].startswith("u OK")
    for name, c in (("idle", idle), ("again", again)):
        assert c.line() == "* BYE Disconnected for inactivity.", name
        assert c.closed()
    # twice the login timeout since its LOGIN, and still there
    time.sleep(2)
    assert authed.cmd("n", "NOOP") == ["n OK NOOP completed."]
    authed.close()
    res = accounts.run("serve", "--listen", "imap=127.0.0.1:0",
                       "--login-timeout", "0")
    assert res.returncode != 0 and b"--login-timeout" in res.stderr
