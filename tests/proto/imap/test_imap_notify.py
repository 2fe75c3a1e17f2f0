# SPDX-License-Identifier: MIT
"""NOTIFY (RFC 5465) against the real server: one session asks to be
told, others (IMAP sessions, LMTP, the CLI) change things, and the
right untagged responses arrive within a bounded time, between commands
and during IDLE; NOTIFY NONE ends it; bad requests get BAD/NO; too many
mailboxes get NOTIFICATIONOVERFLOW."""
import smtplib
import socket
import time

from imap_helpers import Raw, deliver, message

WAIT = 5.0      # seconds for a notification to arrive (they take ms)


def session(imap):
    c = Raw(imap)
    c.login()
    return c


def expect(c, want, timeout=WAIT):
    """Lines until one satisfies want (a string or a predicate)."""
    match = want if callable(want) else (lambda l: l == want)
    c.sock.settimeout(timeout)
    lines = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            line = c.line()
            lines.append(line)
            if match(line):
                return lines
    except socket.timeout:
        pass
    raise AssertionError(f"{want!r} not seen within {timeout} s: {lines}")


def quiet(c, seconds=1.5):
    """Nothing arrives for a while."""
    c.sock.settimeout(seconds)
    try:
        data = c.sock.recv(65536)
    except socket.timeout:
        return True
    raise AssertionError(f"unexpected {c.buf + data!r}")


def status_of(line, name):
    for prefix in (f"* STATUS {name} (", f'* STATUS "{name}" ('):
        if line.startswith(prefix):
            break
    else:
        return None
    items = line[len(prefix):-1].split()
    return dict(zip(items[::2], (int(v) for v in items[1::2])))


def test_capability_and_bad_requests(imap):
    c = session(imap)
    caps = c.cmd("c", "CAPABILITY")[0]
    assert " NOTIFY" in caps
    for text in ["NOTIFY", "NOTIFY SET", "NOTIFY FOO",
                 "NOTIFY SET (personal (MessageNew))",
                 "NOTIFY SET (personal (FlagChange))",
                 "NOTIFY SET (bogus (MessageNew MessageExpunge))",
                 "NOTIFY SET (personal (NoSuchEvent))",
                 "NOTIFY SET (subtree (MessageNew MessageExpunge))"]:
        lines = c.cmd("b", text)
        assert lines[-1].startswith("b BAD"), (text, lines)
    lines = c.cmd("m", "NOTIFY SET (personal (AnnotationChange))")
    assert lines[-1].startswith("m NO [BADEVENT ("), lines
    assert "MessageNew" in lines[-1] and "MailboxMetadataChange" in lines[-1]
    # limits: event groups per NOTIFY SET, names per filter
    groups = " ".join(f"(mailboxes m{i} (MessageNew MessageExpunge))"
                      for i in range(33))
    assert c.cmd("g", f"NOTIFY SET {groups}")[-1].startswith("g BAD")
    names = " ".join(f"m{i}" for i in range(65))
    assert c.cmd("h", f"NOTIFY SET (mailboxes ({names}) (MessageNew "
                 "MessageExpunge))")[-1].startswith("h BAD")
    # fetch attributes: selected mailbox only, no \Seen side effect
    for text in ["NOTIFY SET (personal (MessageNew (UID) MessageExpunge))",
                 "NOTIFY SET (selected (MessageNew (BODY[]) "
                 "MessageExpunge))",
                 "NOTIFY SET (selected (MessageNew (NOSUCH) "
                 "MessageExpunge))"]:
        assert c.cmd("f", text)[-1].startswith("f BAD"), text
    assert c.cmd("n", "NOTIFY NONE") == ["n OK NOTIFY completed."]
    # not before login
    raw = Raw(imap)
    assert raw.cmd("x", "NOTIFY NONE")[-1].startswith("x BAD")


def test_status_for_other_mailboxes_from_lmtp_cli_and_imap(imap, accounts):
    accounts.ok("mailbox", "create", "alice", "Work")
    a = session(imap)
    lines = a.cmd("1", "NOTIFY SET STATUS (personal (MessageNew "
                  "MessageExpunge FlagChange))")
    assert lines[-1] == "1 OK NOTIFY completed.", lines
    # SET STATUS: a STATUS for every mailbox at once (§3.1)
    assert status_of(lines[0], "INBOX")["MESSAGES"] == 0
    assert any(status_of(l, "Work") is not None for l in lines)
    # the CLI delivers: no command, no IDLE, still told
    start = time.monotonic()
    deliver(accounts, "alice", message("by cli"))
    lines = expect(a, lambda l: status_of(l, "INBOX") is not None)
    st = status_of(lines[-1], "INBOX")
    assert st["MESSAGES"] == 1 and st["UIDNEXT"] == 2 and st["UNSEEN"] == 1
    assert time.monotonic() - start < WAIT
    # LMTP
    with smtplib.LMTP("127.0.0.1", imap.ports["lmtp"], timeout=30) as l:
        l.sendmail("x@example.net", ["alice"], message("by lmtp"))
    lines = expect(a, lambda l: status_of(l, "INBOX") is not None)
    assert status_of(lines[-1], "INBOX")["MESSAGES"] == 2
    # another IMAP session: flags, then expunge
    b = session(imap)
    b.cmd("s", "SELECT INBOX")
    b.cmd("f", "STORE 1 +FLAGS (\\Seen)")
    lines = expect(a, lambda l: status_of(l, "INBOX") is not None)
    assert status_of(lines[-1], "INBOX")["UNSEEN"] == 1
    b.cmd("d", "STORE 2 +FLAGS (\\Deleted)")
    expect(a, lambda l: status_of(l, "INBOX") is not None)
    b.cmd("e", "EXPUNGE")
    lines = expect(a, lambda l: status_of(l, "INBOX") is not None and
                   status_of(l, "INBOX")["MESSAGES"] == 1)
    # a mailbox that is not INBOX
    b.cmd("w", "APPEND Work {5+}\r\nhi\r\n\r\n")
    lines = expect(a, lambda l: status_of(l, "Work") is not None)
    assert status_of(lines[-1], "Work")["MESSAGES"] == 1
    # commands still work, and are answered in order
    assert a.cmd("n", "NOOP")[-1] == "n OK NOOP completed."
    # NOTIFY NONE: no more
    assert a.cmd("z", "NOTIFY NONE") == ["z OK NOTIFY completed."]
    deliver(accounts, "alice", message("unheard"))
    quiet(a)


def test_filters_choose_mailboxes(imap, accounts):
    for name in ["Lists", "Lists/a", "Lists/b", "Other"]:
        accounts.ok("mailbox", "create", "alice", name)
    a = session(imap)
    assert a.cmd("1", "NOTIFY SET (subtree Lists (MessageNew "
                 "MessageExpunge)) (mailboxes Other NONE)")[-1] == (
        "1 OK NOTIFY completed.")
    b = session(imap)
    b.cmd("2", "APPEND Other {5+}\r\nhi\r\n\r\n")
    b.cmd("3", "APPEND INBOX {5+}\r\nhi\r\n\r\n")
    b.cmd("4", "APPEND Lists/b {5+}\r\nhi\r\n\r\n")
    lines = expect(a, lambda l: l.startswith("* STATUS"))
    assert status_of(lines[-1], "Lists/b") is not None, lines
    quiet(a)
    # subscribed and inboxes
    assert a.cmd("5", "NOTIFY SET (subscribed (MessageNew "
                 "MessageExpunge)) (inboxes (MessageNew MessageExpunge))"
                 )[-1] == "5 OK NOTIFY completed."
    b.cmd("6", "SUBSCRIBE Lists/a")
    time.sleep(1.5)     # one list check picks up the subscription
    b.cmd("7", "APPEND Lists/a {5+}\r\nhi\r\n\r\n")
    lines = expect(a, lambda l: l.startswith("* STATUS"))
    assert status_of(lines[-1], "Lists/a") is not None, lines
    deliver(accounts, "alice", message("inbox"))
    lines = expect(a, lambda l: l.startswith("* STATUS"))
    assert status_of(lines[-1], "INBOX")["MESSAGES"] == 2


def test_selected_mailbox_events_without_idle(imap, accounts):
    deliver(accounts, "alice", message("one"))
    a = session(imap)
    a.cmd("s", "SELECT INBOX")
    assert a.cmd("1", "NOTIFY SET (selected (MessageNew MessageExpunge "
                 "FlagChange))")[-1] == "1 OK NOTIFY completed."
    deliver(accounts, "alice", message("two"))
    expect(a, "* 2 EXISTS")
    b = session(imap)
    b.cmd("s", "SELECT INBOX")
    b.cmd("f", "STORE 1 +FLAGS (\\Flagged)")
    expect(a, lambda l: l.startswith("* 1 FETCH (FLAGS (\\Flagged"))
    b.cmd("d", "STORE 1 +FLAGS (\\Deleted)")
    b.cmd("e", "EXPUNGE")
    expect(a, "* 1 EXPUNGE")
    assert a.cmd("n", "NOOP") == ["n OK NOOP completed."]


def test_selected_delayed_keeps_expunges_for_commands(imap, accounts):
    for i in range(2):
        deliver(accounts, "alice", message(f"m{i}"))
    a = session(imap)
    a.cmd("s", "SELECT INBOX")
    assert a.cmd("1", "NOTIFY SET (selected-delayed (MessageNew "
                 "MessageExpunge))")[-1] == "1 OK NOTIFY completed."
    b = session(imap)
    b.cmd("s", "SELECT INBOX")
    b.cmd("d", "STORE 1 +FLAGS (\\Deleted)")
    b.cmd("e", "EXPUNGE")
    deliver(accounts, "alice", message("new"))
    lines = expect(a, "* 3 EXISTS")
    assert not any("EXPUNGE" in l for l in lines), lines
    # the EXPUNGE waits for a command that may send it
    assert a.cmd("n", "NOOP") == ["* 1 EXPUNGE", "n OK NOOP completed."]


def test_mailbox_names_and_subscriptions(imap, accounts):
    a = session(imap)
    assert a.cmd("1", "NOTIFY SET (personal (MailboxName "
                 "SubscriptionChange))")[-1] == "1 OK NOTIFY completed."
    b = session(imap)
    b.cmd("c", "CREATE Projects")
    expect(a, '* LIST () "/" "Projects"')
    b.cmd("s", "SUBSCRIBE Projects")
    expect(a, '* LIST (\\Subscribed) "/" "Projects"')
    b.cmd("r", "RENAME Projects Archive")
    expect(a, '* LIST () "/" "Archive" ("OLDNAME" ("Projects"))')
    accounts.ok("mailbox", "delete", "alice", "Archive")
    expect(a, '* LIST (\\NonExistent) "/" "Archive"')
    b.cmd("u", "UNSUBSCRIBE Projects")
    expect(a, '* LIST () "/" "Projects"')


def test_events_during_idle(imap, accounts):
    accounts.ok("mailbox", "create", "alice", "Work")
    a = session(imap)
    a.cmd("s", "SELECT INBOX")
    assert a.cmd("1", "NOTIFY SET (selected (MessageNew MessageExpunge)) "
                 "(personal (MessageNew MessageExpunge MailboxName))"
                 )[-1] == "1 OK NOTIFY completed."
    a.send("i IDLE\r\n")
    expect(a, "+ idling")
    b = session(imap)
    b.cmd("w", "APPEND Work {5+}\r\nhi\r\n\r\n")
    lines = expect(a, lambda l: l.startswith("* STATUS"))
    assert status_of(lines[-1], "Work")["MESSAGES"] == 1
    deliver(accounts, "alice", message("inbox"))
    expect(a, "* 1 EXISTS")
    b.cmd("c", "CREATE New")
    expect(a, '* LIST () "/" "New"')
    a.send("DONE\r\n")
    expect(a, "i OK IDLE terminated.")
    # between commands again
    b.cmd("x", "APPEND Work {5+}\r\nhi\r\n\r\n")
    lines = expect(a, lambda l: l.startswith("* STATUS"))
    assert status_of(lines[-1], "Work")["MESSAGES"] == 2


def test_too_many_mailboxes(imap, accounts):
    a = session(imap)
    a.send("".join(f"c{i} CREATE box{i:03d}\r\n" for i in range(100)))
    for i in range(100):
        assert a.until_tagged(f"c{i}")[-1].startswith(f"c{i} OK")
    # INBOX + 100 > IMAP_NOTIFY_MAILBOXES_MAX
    lines = a.cmd("1", "NOTIFY SET (personal (MessageNew MessageExpunge))")
    assert lines[-1].startswith("1 NO [LIMIT]"), lines
    assert a.cmd("2", "NOTIFY SET (subtree box (MessageNew "
                 "MessageExpunge)) (mailboxes (box000 box001) (MessageNew "
                 "MessageExpunge MailboxName))")[-1] == (
        "2 OK NOTIFY completed.")
    assert a.cmd("3", "DELETE box099")[-1].startswith("3 OK")
    assert a.cmd("4", "NOTIFY SET (personal (MessageNew "
                 "MessageExpunge))")[-1] == "4 OK NOTIFY completed."
    # the set grows past the limit: overflow, and NOTIFY is off
    b = session(imap)
    b.cmd("c", "CREATE more")
    expect(a, lambda l: l.startswith("* OK [NOTIFICATIONOVERFLOW]"),
           timeout=WAIT)
    deliver(accounts, "alice", message("unheard"))
    quiet(a)
    assert a.cmd("n", "NOOP") == ["n OK NOOP completed."]


def test_metadata_changes(imap, accounts):
    accounts.ok("mailbox", "create", "alice", "Work")
    a = session(imap)
    assert a.cmd("1", "NOTIFY SET (mailboxes Work (MailboxMetadataChange "
                 "ServerMetadataChange))")[-1] == "1 OK NOTIFY completed."
    b = session(imap)
    assert b.cmd("s", 'SETMETADATA Work (/private/comment "mine")')[-1] == (
        "s OK SETMETADATA completed.")
    expect(a, '* METADATA "Work" /private/comment')
    b.cmd("t", 'SETMETADATA Work (/private/comment "changed" '
          '/shared/comment "x")')
    expect(a, '* METADATA "Work" /private/comment /shared/comment')
    b.cmd("u", 'SETMETADATA Work (/shared/comment NIL)')
    expect(a, '* METADATA "Work" /shared/comment')
    b.cmd("v", 'SETMETADATA "" (/shared/comment "server")')
    expect(a, '* METADATA "" /shared/comment')
    # INBOX is not in the filter
    b.cmd("w", 'SETMETADATA INBOX (/private/comment "no")')
    quiet(a)


def test_unauthenticate_ends_notify(imap, accounts):
    a = session(imap)
    assert a.cmd("1", "NOTIFY SET (inboxes (MessageNew MessageExpunge))"
                 )[-1] == "1 OK NOTIFY completed."
    deliver(accounts, "alice", message("heard"))
    expect(a, lambda l: status_of(l, "INBOX") is not None)
    assert a.cmd("2", "UNAUTHENTICATE")[-1].startswith("2 OK")
    a.login()
    deliver(accounts, "alice", message("unheard"))
    quiet(a)
    assert a.cmd("n", "NOOP") == ["n OK NOOP completed."]


def _status_items(lines, name):
    return [status_of(l, name) for l in lines
            if status_of(l, name) is not None]


def test_status_notifications_like_dovecot(imap, accounts):
    """The same NOTIFY dialogue against Debian's Dovecot: the same
    STATUS items with the same counts (RFC 5465 §5.1-§5.3)."""
    from dovecot_oracle import Dovecot, USER, PASSWORD
    d = Dovecot().start()
    try:
        pairs = []
        for a_sock, b_sock, login in (
                (imap.connect("imap"), imap.connect("imap"),
                 "LOGIN alice pw"),
                (d.connect(), d.connect(), f"LOGIN {USER} {PASSWORD}")):
            a, b = Raw(None, sock=a_sock), Raw(None, sock=b_sock)
            for c in (a, b):
                assert c.cmd("l", login)[-1].startswith("l OK")
            assert b.cmd("c", "CREATE Work")[-1].startswith("c OK")
            a.cmd("e", "ENABLE CONDSTORE")
            first = a.cmd("1", "NOTIFY SET STATUS (personal (MessageNew "
                          "MessageExpunge FlagChange))")
            assert first[-1].startswith("1 OK"), first
            got = [_status_items(first, "Work")]
            b.cmd("2", "APPEND Work (\\Seen) {5+}\r\nhi\r\n\r\n")
            got.append(_status_items(
                expect(a, lambda l: status_of(l, "Work") is not None),
                "Work"))
            b.cmd("3", "APPEND Work {5+}\r\nho\r\n\r\n")
            got.append(_status_items(
                expect(a, lambda l: status_of(l, "Work") is not None),
                "Work"))
            b.cmd("s", "SELECT Work")
            b.cmd("4", "STORE 1 +FLAGS (\\Deleted)")
            b.cmd("5", "EXPUNGE")
            got.append(_status_items(
                expect(a, lambda l: status_of(l, "Work") is not None and
                       status_of(l, "Work")["MESSAGES"] == 1), "Work")[-1:])
            pairs.append(got)
            for c in (a, b):
                c.close()
        ours, theirs = pairs
        # Dovecot adds UIDVALIDITY only to its first report of a
        # mailbox; we always do. The rest is the same.
        assert len(ours) == len(theirs)
        for mine, dove in zip(ours, theirs):
            assert len(mine) == len(dove) == 1, (ours, theirs)
            s, t = mine[0], dove[0]
            assert set(t) - {"UIDVALIDITY"} <= set(s) <= set(t) | {
                "UIDVALIDITY"}, (ours, theirs)
            for key in ("MESSAGES", "UIDNEXT", "UNSEEN"):
                assert s[key] == t[key], (ours, theirs)
    finally:
        d.stop()


def test_selected_watch_follows_select(imap, accounts):
    accounts.ok("mailbox", "create", "alice", "Work")
    a = session(imap)
    a.cmd("s", "SELECT INBOX")
    assert a.cmd("1", "NOTIFY SET (selected (MessageNew MessageExpunge))"
                 )[-1] == "1 OK NOTIFY completed."
    assert a.cmd("w", "SELECT Work")[-1].startswith("w OK")
    deliver(accounts, "alice", message("inbox: not selected any more"))
    quiet(a)
    b = session(imap)
    b.cmd("x", "APPEND Work {5+}\r\nhi\r\n\r\n")
    expect(a, "* 1 EXISTS")
    assert a.cmd("c", "CLOSE")[-1].startswith("c OK")
    b.cmd("y", "APPEND Work {5+}\r\nhi\r\n\r\n")
    quiet(a)


def test_shared_watches_outlive_one_session(imap, accounts):
    """Sessions watching the same mailbox share one inotify watch; one
    leaving (NOTIFY NONE, LOGOUT) must not blind the other."""
    ask = "NOTIFY SET (inboxes (MessageNew MessageExpunge))"
    a, b, c = session(imap), session(imap), session(imap)
    for s in (a, b, c):
        assert s.cmd("1", ask)[-1] == "1 OK NOTIFY completed."
    assert b.cmd("2", "NOTIFY NONE") == ["2 OK NOTIFY completed."]
    c.cmd("3", "LOGOUT")
    c.close()
    for n in (1, 2):
        deliver(accounts, "alice", message(f"m{n}"))
        lines = expect(a, lambda l: status_of(l, "INBOX") is not None)
        assert status_of(lines[-1], "INBOX")["MESSAGES"] == n
    quiet(b, 0.5)


def test_busy_mailbox_does_not_starve_commands(imap, accounts):
    a = session(imap)
    assert a.cmd("1", "NOTIFY SET (personal (MessageNew MessageExpunge "
                 "FlagChange))")[-1] == "1 OK NOTIFY completed."
    b = session(imap)
    # 300 appends in one burst keep the watch firing
    b.send("".join(f"a{i} APPEND INBOX {{5+}}\r\nm{i:03d}\r\n"
                   for i in range(300)))
    for i in range(20):
        start = time.monotonic()
        assert a.cmd(f"n{i}", "NOOP")[-1] == f"n{i} OK NOOP completed."
        assert time.monotonic() - start < 2.0
    for i in range(300):
        assert b.until_tagged(f"a{i}")[-1].startswith(f"a{i} OK")
    lines = expect(a, lambda l: status_of(l, "INBOX") is not None and
                   status_of(l, "INBOX")["MESSAGES"] == 300, timeout=10)
    assert lines


def test_message_new_fetch_attributes(imap, accounts):
    """RFC 5465 §5.1: MessageNew (fetch-att ...) sends the new
    messages' FETCH right after their EXISTS, between commands and
    during IDLE, without setting \\Seen."""
    a = session(imap)
    a.cmd("s", "SELECT INBOX")
    assert a.cmd("1", "NOTIFY SET (selected (MessageNew (UID FLAGS "
                 "BODY.PEEK[HEADER.FIELDS (Subject)]) MessageExpunge))"
                 )[-1] == "1 OK NOTIFY completed."
    deliver(accounts, "alice", message("first"))
    lines = expect(a, lambda l: l.startswith("* 1 FETCH"))
    assert "* 1 EXISTS" in lines
    assert lines[-1] == ("* 1 FETCH (UID 1 FLAGS () BODY[HEADER.FIELDS "
                         "(SUBJECT)] {18}"), lines
    assert a.line() == "Subject: first"
    assert a.line() == ""
    assert a.line() == ")"
    a.send("i IDLE\r\n")
    expect(a, "+ idling")
    deliver(accounts, "alice", message("second"))
    lines = expect(a, lambda l: l.startswith("* 2 FETCH"))
    assert "* 2 EXISTS" in lines and "UID 2 FLAGS ()" in lines[-1]
    assert a.line() == "Subject: second"
    a.line()
    assert a.line() == ")"
    a.send("DONE\r\n")
    expect(a, "i OK IDLE terminated.")
    assert a.cmd("f", "FETCH 1:2 FLAGS") == [
        "* 1 FETCH (FLAGS ())", "* 2 FETCH (FLAGS ())",
        "f OK FETCH completed."]
    # appended by another session, then a NOOP: the FETCH comes with
    # the EXISTS, whether the check or the NOOP's own sync finds it
    b = session(imap)
    msg = b"Subject: third\r\n\r\nbody\r\n"
    b.send(f"a APPEND INBOX {{{len(msg)}+}}\r\n".encode() + msg + b"\r\n")
    assert b.until_tagged("a")[-1].startswith("a OK")
    a.send("n NOOP\r\n")
    lines = expect(a, "n OK NOOP completed.")
    assert "* 3 EXISTS" in lines
    fetch = [l for l in lines if l.startswith("* 3 FETCH")]
    assert fetch and fetch[0].startswith(
        "* 3 FETCH (UID 3 FLAGS () BODY[HEADER.FIELDS (SUBJECT)]"), lines
