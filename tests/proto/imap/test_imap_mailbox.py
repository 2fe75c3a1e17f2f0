# SPDX-License-Identifier: MIT
"""IMAP mailbox commands through the real `commune serve`: LIST, LSUB,
SUBSCRIBE, UNSUBSCRIBE, CREATE, DELETE, RENAME (INBOX too), STATUS,
SELECT, EXAMINE, CLOSE, UNSELECT, modified UTF-7 names, names that
would leave the account, single-mailbox accounts."""
import re

from imap_helpers import Raw, client, deliver, message


def names(m, pattern="*"):
    typ, data = m.list('""', pattern)
    assert typ == "OK"
    out = {}
    for line in data:
        if line is None:
            continue
        mo = re.match(rb'\(([^)]*)\) "/" (.*)$', line)
        out[mo.group(2).decode().strip('"')] = mo.group(1).decode()
    return out


def test_list_create_delete_rename(imap):
    m = client(imap)
    assert names(m) == {"INBOX": "\\HasNoChildren"}
    assert m.create("Work/Projects")[0] == "OK"
    assert m.create("Archive/")[0] == "OK"
    got = names(m)
    assert got["Work"] == "\\Noselect \\HasChildren"
    assert got["Work/Projects"] == "\\HasNoChildren"
    assert got["Archive"] == "\\HasNoChildren"
    assert names(m, "%") == {"INBOX": "\\HasNoChildren",
                             "Work": "\\Noselect \\HasChildren",
                             "Archive": "\\HasNoChildren"}
    assert set(names(m, "Work/%")) == {"Work/Projects"}
    assert set(names(m, "inbox")) == {"INBOX"}
    typ, data = m.list('"Work"', "%")
    assert typ == "OK" and b'"Work/Projects"' in data[0]
    typ, data = m.list('""', '""')
    assert data == [b'(\\Noselect) "/" ""']
    assert m.create("Archive")[1] == [b"[ALREADYEXISTS] Mailbox exists."]
    assert m.create("INBOX")[0] == "NO"
    assert m.rename("Work", "Play")[0] == "OK"
    assert set(names(m)) == {"INBOX", "Archive", "Play", "Play/Projects"}
    assert m.delete("Play/Projects")[0] == "OK"
    assert m.delete("Nope")[1][0].startswith(b"[NONEXISTENT]")
    assert m.delete("INBOX") == ("NO", [b"[CANNOT] INBOX cannot be deleted."])
    m.logout()


def test_rename_inbox_leaves_empty_inbox(imap, accounts):
    deliver(accounts, "alice", message("one"))
    m = client(imap)
    assert m.rename("INBOX", "Old")[0] == "OK"
    assert m.status("INBOX", "(MESSAGES)")[1] == [b'"INBOX" (MESSAGES 0)']
    assert m.status("Old", "(MESSAGES)")[1] == [b'"Old" (MESSAGES 1)']
    m.logout()


def test_modified_utf7_names(imap):
    m = client(imap)
    assert m.create("Caf&AOk-")[0] == "OK"
    assert m.create("&ZeVnLIqe-/&-amp")[0] == "OK"
    got = names(m)
    assert "Caf&AOk-" in got and "&ZeVnLIqe-/&-amp" in got
    # Invalid modified UTF-7 is refused, not stored.
    for bad in ("Caf&AOk", "&AGE-", "&AOk-&AOk-", "Caf\xe9"):
        c = Raw(imap)
        c.login()
        lines = c.cmd("a", f'CREATE "{bad}"')
        assert lines[-1].startswith("a NO [CANNOT] Invalid mailbox name"), \
            (bad, lines)
    m.logout()


def test_names_escaping_the_account(imap):
    c = Raw(imap)
    c.login()
    for bad in ("../x", "a/../../b", "/abs", "a//b", "..", "a/./b"):
        lines = c.cmd("a", f'CREATE "{bad}"')
        assert lines[-1].startswith("a NO"), (bad, lines)
        lines = c.cmd("b", f'SELECT "{bad}"')
        assert lines[-1].startswith("b NO"), (bad, lines)


def test_subscriptions(imap):
    m = client(imap)
    m.create("A")
    assert m.subscribe("A")[0] == "OK"
    assert m.subscribe("Nonexistent")[0] == "OK"
    typ, data = m.lsub('""', "*")
    assert sorted(data) == [b'() "/" "A"', b'() "/" "Nonexistent"']
    assert m.unsubscribe("Nonexistent")[0] == "OK"
    assert m.lsub('""', "*")[1] == [b'() "/" "A"']
    m.logout()


def test_status_and_select(imap, accounts):
    deliver(accounts, "alice", message("one"))
    deliver(accounts, "alice", message("two"))
    m = client(imap)
    typ, data = m.status("INBOX", "(MESSAGES UIDNEXT UIDVALIDITY UNSEEN "
                         "SIZE HIGHESTMODSEQ RECENT DELETED)")
    assert typ == "OK"
    mo = re.match(rb'"INBOX" \(MESSAGES 2 RECENT 0 UIDNEXT 3 UIDVALIDITY '
                  rb'(\d+) UNSEEN 2 DELETED 0 SIZE (\d+) HIGHESTMODSEQ '
                  rb'(\d+)\)', data[0])
    assert mo, data
    assert int(mo.group(2)) == len(message("one")) + len(message("two"))
    c = Raw(imap)
    c.login()
    assert c.cmd("x", "STATUS INBOX (BOGUS)")[-1].startswith("x BAD")
    lines = c.cmd("s", "SELECT INBOX")
    assert lines[0] == "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)"
    assert lines[1].startswith("* OK [PERMANENTFLAGS (")
    assert "* 2 EXISTS" in lines and "* 0 RECENT" in lines
    assert "* OK [UNSEEN 1] First unseen." in lines
    assert f"* OK [UIDVALIDITY {mo.group(1).decode()}] UIDs valid." in lines
    assert "* OK [UIDNEXT 3] Predicted next UID." in lines
    assert any(l.startswith("* OK [HIGHESTMODSEQ ") for l in lines)
    assert lines[-1] == "s OK [READ-WRITE] SELECT completed."
    lines = c.cmd("e", "EXAMINE INBOX")
    assert "* OK [PERMANENTFLAGS ()] Read-only mailbox." in lines
    assert lines[-1] == "e OK [READ-ONLY] EXAMINE completed."
    assert c.cmd("u", "UNSELECT") == ["u OK UNSELECT completed."]
    assert c.cmd("u2", "UNSELECT")[-1] == "u2 BAD No mailbox selected."
    c.cmd("s2", "SELECT INBOX")
    assert c.cmd("c", "CLOSE") == ["c OK CLOSE completed."]
    # A failed SELECT leaves no mailbox selected.
    c.cmd("s3", "SELECT INBOX")
    assert c.cmd("s4", "SELECT Nope")[-1].startswith("s4 NO [NONEXISTENT]")
    assert c.cmd("c2", "CLOSE")[-1] == "c2 BAD No mailbox selected."


def test_noop_reports_new_mail(imap, accounts):
    c = Raw(imap)
    c.login()
    c.cmd("s", "SELECT INBOX")
    deliver(accounts, "alice", message("new"))
    assert c.cmd("n", "NOOP") == ["* 1 EXISTS", "n OK NOOP completed."]


def test_single_mailbox_account(imap):
    m = client(imap, "bob")
    assert names(m) == {"INBOX": "\\HasNoChildren"}
    typ, data = m.create("Work")
    assert typ == "NO" and b"only INBOX" in data[0]
    assert m.select("INBOX")[0] == "OK"
    m.logout()


def test_single_mailbox_mdir_account(imap, accounts):
    deliver(accounts, "carol", message("one"))
    m = client(imap, "carol")
    assert m.create("Sub")[0] == "NO"
    assert m.select("INBOX") == ("OK", [b"1"])
    m.logout()


def test_list_extended_and_status(imap, accounts):
    deliver(accounts, "alice", message("one"))
    c = Raw(imap)
    c.login()
    caps = c.cmd("c", "CAPABILITY")[0].split()
    assert "LIST-EXTENDED" in caps and "LIST-STATUS" in caps
    for name in ("A", "B/C", "D"):
        c.cmd("m", f"CREATE {name}")
    c.cmd("s1", "SUBSCRIBE A")
    c.cmd("s2", "SUBSCRIBE B/C")
    c.cmd("s3", "SUBSCRIBE Gone")
    lines = c.cmd("a", 'LIST (SUBSCRIBED) "" "*"')
    assert lines == ['* LIST (\\Subscribed \\HasNoChildren) "/" "A"',
                     '* LIST (\\Subscribed \\HasNoChildren) "/" "B/C"',
                     '* LIST (\\Subscribed \\NonExistent) "/" "Gone"',
                     "a OK LIST completed."]
    lines = c.cmd("b", 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"')
    assert '* LIST (\\Noselect \\HasChildren) "/" "B" ("CHILDINFO" '\
           '("SUBSCRIBED"))' in lines
    assert '* LIST (\\Subscribed \\HasNoChildren) "/" "A"' in lines
    lines = c.cmd("d", 'LIST "" ("A" "D") RETURN (SUBSCRIBED CHILDREN)')
    assert lines == ['* LIST (\\HasNoChildren \\Subscribed) "/" "A"',
                     '* LIST (\\HasNoChildren) "/" "D"',
                     "d OK LIST completed."]
    lines = c.cmd("e", 'LIST "" "INBOX" RETURN (STATUS (MESSAGES UNSEEN))')
    assert lines == ['* LIST (\\HasNoChildren) "/" "INBOX"',
                     '* STATUS "INBOX" (MESSAGES 1 UNSEEN 1)',
                     "e OK LIST completed."]
    assert c.cmd("f", 'LIST (BOGUS) "" "*"')[-1].startswith("f BAD")
    assert c.cmd("g", 'LIST (RECURSIVEMATCH) "" "*"')[-1].startswith("g BAD")
    assert c.cmd("h", 'LIST "" "*" RETURN (BOGUS)')[-1].startswith("h BAD")
    assert c.cmd("i", 'LSUB "" "*"') == ['* LSUB () "/" "A"',
                                         '* LSUB () "/" "B/C"',
                                         '* LSUB () "/" "Gone"',
                                         "i OK LSUB completed."]


def test_enable_utf8_accept(imap):
    c = Raw(imap)
    c.login()
    assert "UTF8=ACCEPT" in c.cmd("c", "CAPABILITY")[0].split()
    assert c.cmd("e", "ENABLE UTF8=ACCEPT X-UNKNOWN") == [
        "* ENABLED UTF8=ACCEPT", "e OK ENABLE completed."]
    assert c.cmd("e2", "ENABLE UTF8=ACCEPT") == [
        "* ENABLED", "e2 OK ENABLE completed."]
    # RFC 8474 §4.1: the tagged OK carries the new MAILBOXID
    assert re.fullmatch(r"m OK \[MAILBOXID \(\w+\)\] CREATE completed\.",
                        c.cmd("m", 'CREATE "Café"')[-1])
    assert '* LIST (\\HasNoChildren) "/" "Café"' in c.cmd("l", 'LIST "" *')
    c.cmd("s", 'SELECT "Café"')
    assert c.cmd("x", "ENABLE UTF8=ACCEPT")[-1] == \
        "x BAD Not valid with a mailbox selected."
    # Another session without UTF8=ACCEPT sees modified UTF-7.
    m = client(imap)
    assert "Caf&AOk-" in names(m)
    m.logout()


def test_rename_or_delete_selected_mailbox(imap, accounts):
    deliver(accounts, "alice", message("one"))
    c = Raw(imap)
    c.login()
    c.cmd("c", "CREATE A/B")
    c.cmd("s", "SELECT A/B")
    assert c.cmd("r", "RENAME A Z") == ["r OK RENAME completed."]
    assert c.cmd("f", "FETCH 1 FLAGS") == ["f BAD No mailbox selected."]
    c.cmd("s2", "SELECT INBOX")
    assert c.cmd("r2", "RENAME INBOX Old") == ["r2 OK RENAME completed."]
    assert c.cmd("n", "NOOP") == ["n OK NOOP completed."]
    c.cmd("s3", "SELECT Old")
    assert c.cmd("d", "DELETE Old") == ["d OK DELETE completed."]
    assert c.cmd("f2", "FETCH 1 FLAGS") == ["f2 BAD No mailbox selected."]
    assert c.cmd("u", "UID") == ["u BAD No mailbox selected."]
    c.cmd("s4", "SELECT INBOX")
    assert c.cmd("u2", "UID")[-1] == "u2 BAD UID needs a command."
