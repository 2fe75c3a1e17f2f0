# SPDX-License-Identifier: MIT
"""Several sessions on one mailbox: changes made by one session, by LMTP
delivery and by the CLI reach another at its next command (EXISTS,
EXPUNGE, FETCH FLAGS) and during IDLE within a fraction of a second;
no EXPUNGE during FETCH, STORE or SEARCH; concurrent appenders agree."""
import smtplib
import threading
import time

from imap_helpers import Raw, client, deliver, message


def session(imap):
    c = Raw(imap)
    c.login()
    c.cmd("s", "SELECT INBOX")
    return c


def test_flags_and_expunge_seen_at_next_command(imap, accounts):
    for i in range(3):
        deliver(accounts, "alice", message(f"m{i}"))
    a, b = session(imap), session(imap)
    a.cmd("1", "STORE 2 +FLAGS (\\Flagged)")
    assert b.cmd("2", "NOOP") == ["* 2 FETCH (FLAGS (\\Flagged))",
                                  "2 OK NOOP completed."]
    a.cmd("3", "STORE 1 +FLAGS (\\Deleted)")
    a.cmd("4", "EXPUNGE")
    # No EXPUNGE during FETCH: the message keeps its number.
    lines = b.cmd("5", "FETCH 1:3 (UID)")
    assert not any("EXPUNGE" in l for l in lines), lines
    assert "* 3 FETCH (UID 3)" in lines
    lines = b.cmd("6", "SEARCH ALL")
    assert not any("EXPUNGE" in l for l in lines)
    # ... and it comes at the next NOOP.
    assert b.cmd("7", "NOOP") == ["* 1 EXPUNGE", "7 OK NOOP completed."]
    assert b.cmd("8", "FETCH 1:* (UID)") == [
        "* 1 FETCH (UID 2)", "* 2 FETCH (UID 3)", "8 OK FETCH completed."]


def idle_until(c, want, timeout=5.0):
    """Lines received during IDLE until one equals want."""
    c.sock.settimeout(timeout)
    lines = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = c.line()
        lines.append(line)
        if line == want:
            return lines
    raise AssertionError(f"{want!r} not seen: {lines}")


def test_idle_sees_other_sessions_lmtp_and_cli(imap, accounts):
    deliver(accounts, "alice", message("first"))
    a, b = session(imap), session(imap)
    b.send("i IDLE\r\n")
    assert b.line() == "+ idling"
    start = time.monotonic()
    a.cmd("1", "STORE 1 +FLAGS (\\Answered)")
    idle_until(b, "* 1 FETCH (FLAGS (\\Answered))")
    assert time.monotonic() - start < 1.0
    # LMTP delivery
    start = time.monotonic()
    with smtplib.LMTP("127.0.0.1", imap.ports["lmtp"], timeout=30) as l:
        l.sendmail("x@example.net", ["alice"], message("by lmtp"))
    idle_until(b, "* 2 EXISTS")
    assert time.monotonic() - start < 1.0
    # the CLI
    deliver(accounts, "alice", message("by cli"))
    idle_until(b, "* 3 EXISTS")
    assert "* 3 EXISTS" in a.cmd("0", "NOOP")
    a.cmd("2", "STORE 2 +FLAGS (\\Deleted)")
    a.cmd("3", "EXPUNGE")
    idle_until(b, "* 2 EXPUNGE")
    b.send("DONE\r\n")
    assert b.until_tagged("i")[-1] == "i OK IDLE terminated."
    assert b.cmd("n", "NOOP") == ["n OK NOOP completed."]


def test_idle_bad_continuation_and_logout(imap):
    c = session(imap)
    c.send("i IDLE\r\n")
    assert c.line() == "+ idling"
    c.send("NOPE\r\n")
    assert c.until_tagged("i") == ["i BAD Expected DONE."]
    assert c.cmd("l", "LOGOUT")[-1] == "l OK Logout completed."


def test_concurrent_appenders_agree(imap):
    errors = []

    def worker(n):
        try:
            m = client(imap)
            for i in range(10):
                typ, _ = m.append("INBOX", None, None,
                                  message(f"w{n}-{i}"))
                assert typ == "OK"
            m.logout()
        except Exception as e:      # reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    watcher = session(imap)
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    lines = watcher.cmd("n", "NOOP")
    assert "* 40 EXISTS" in lines
    lines = watcher.cmd("f", "FETCH 1:* (UID)")
    uids = [int(l.split()[4].rstrip(")")) for l in lines[:-1]]
    assert uids == sorted(uids) and len(set(uids)) == 40


def test_selected_mailbox_deleted_elsewhere(imap, accounts):
    accounts.ok("mailbox", "create", "alice", "Box")
    a = Raw(imap)
    a.login()
    a.cmd("s", "SELECT Box")
    b = Raw(imap)
    b.login()
    assert b.cmd("d", "DELETE Box") == ["d OK DELETE completed."]
    a.send("n NOOP\r\n")
    assert a.line() == "* BYE Selected mailbox was deleted, have to " \
                       "disconnect."
    assert a.closed()
    # Deleted and created again: a new UIDVALIDITY, the same end.
    b.cmd("c", "CREATE Box")
    a2 = Raw(imap)
    a2.login()
    a2.cmd("s", "SELECT Box")
    a2.send("i IDLE\r\n")
    assert a2.line() == "+ idling"
    b.cmd("d2", "DELETE Box")
    b.cmd("c2", "CREATE Box")
    assert a2.line().startswith("* BYE Selected mailbox was deleted")
    assert a2.closed()
