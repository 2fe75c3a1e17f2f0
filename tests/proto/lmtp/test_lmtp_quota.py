# SPDX-License-Identifier: MIT
"""LMTP delivery to accounts over quota, through the real `commune
serve`: a full account is refused at RCPT with 452 4.2.2 (RFC 3463:
mailbox full, temporary, so the MTA keeps the message), a message that
does not fit gets 452 4.2.2 after DATA for that recipient only, nothing
refused is stored, and raising the limit with `commune account quota`
while the server runs lets the retry in."""
import smtplib
import threading

import pytest

from test_lmtp import Raw, inbox, message, stuff


@pytest.fixture
def lmtp(serve, commune):
    commune.ok("account", "create", "alice", "--password", "pw")
    commune.ok("account", "create", "carol", "--password", "pw",
               "--type", "mdir")
    return serve(["lmtp"])


def test_full_account_refused_at_rcpt(lmtp, commune):
    commune.ok("account", "quota", "alice", "--messages", "1")
    with smtplib.LMTP("127.0.0.1", lmtp.ports["lmtp"], timeout=30) as c:
        assert c.sendmail("s@example.net", ["alice"], message("1")) == {}
    c = Raw(lmtp)
    assert c.cmd("LHLO test.example")[0] == 250
    assert c.cmd("MAIL FROM:<s@example.net>")[0] == 250
    code, text = c.cmd("RCPT TO:<alice>")
    assert code == 452 and text[0].startswith("4.2.2"), text
    assert c.cmd("RCPT TO:<carol>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(stuff(message("2")))
    assert c.reply()[0] == 250          # carol's only
    assert c.cmd("QUIT")[0] == 221
    c.close()
    assert [s for _, s in inbox(commune, "alice")] == ["1"]
    assert [s for _, s in inbox(commune, "carol")] == ["2"]


def test_message_too_big_for_quota(lmtp, commune):
    commune.ok("account", "quota", "alice", "--storage", "2K")
    commune.ok("account", "quota", "carol", "--storage", "2K")
    small = message("small")
    big = message("big", "x" * 5000 + "\r\n")
    c = Raw(lmtp)
    assert c.cmd("LHLO test.example")[0] == 250
    assert c.cmd("MAIL FROM:<s@example.net>")[0] == 250
    assert c.cmd("RCPT TO:<alice>")[0] == 250
    assert c.cmd("RCPT TO:<carol>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(stuff(big))
    for code, text in c.replies(2):
        assert code == 452 and text[0].startswith("4.2.2"), text
    # the session goes on; a message that fits is delivered
    assert c.cmd("MAIL FROM:<s@example.net>")[0] == 250
    assert c.cmd("RCPT TO:<alice>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(stuff(small))
    assert c.reply()[0] == 250
    assert c.cmd("QUIT")[0] == 221
    c.close()
    assert [s for _, s in inbox(commune, "alice")] == ["small"]
    assert inbox(commune, "carol") == []
    # the MTA's retry after the administrator raised the limit
    commune.ok("account", "quota", "alice", "--storage", "1M")
    with smtplib.LMTP("127.0.0.1", lmtp.ports["lmtp"], timeout=30) as s:
        assert s.sendmail("s@example.net", ["alice"], big) == {}
    assert [s for _, s in inbox(commune, "alice")] == ["small", "big"]


def test_concurrent_deliveries_never_pass_the_limit(lmtp, commune):
    """Parallel sessions race for the last places: the account lock
    serialises the checks, so exactly the limit is stored and every
    other recipient gets 452 4.2.2 (at RCPT or after DATA)."""
    limit, sessions, per_session = 7, 4, 5
    commune.ok("account", "quota", "alice", "--messages", str(limit))
    codes = []
    lock = threading.Lock()

    def session(k):
        for i in range(per_session):
            c = Raw(lmtp)
            assert c.cmd("LHLO t.example")[0] == 250
            assert c.cmd("MAIL FROM:<s@example.net>")[0] == 250
            code, text = c.cmd("RCPT TO:<alice>")
            if code == 250:
                assert c.cmd("DATA")[0] == 354
                c.send(stuff(message(f"s{k}-{i}")))
                code, text = c.reply()
            c.cmd("QUIT")
            c.close()
            with lock:
                codes.append((code, text[0][:5]))

    threads = [threading.Thread(target=session, args=(k,))
               for k in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
        assert not t.is_alive()
    assert len(codes) == sessions * per_session
    assert sum(1 for c, _ in codes if c == 250) == limit
    assert all(c == 250 or (c, t) == (452, "4.2.2") for c, t in codes)
    assert len(inbox(commune, "alice")) == limit
