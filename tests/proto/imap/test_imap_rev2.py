# SPDX-License-Identifier: MIT
"""IMAP4rev2 (RFC 9051) through the real `commune serve`: the
capability list, ENABLE IMAP4rev2 and every Appendix E difference a
session sees once it is enabled (no RECENT, LIST in SELECT, [CLOSED],
ESEARCH for SEARCH, OLDNAME after RENAME/CREATE, STATUS DELETED/SIZE,
BINARY, UID EXPUNGE, MOVE, "$"), LITERAL- and LITERAL+ literals over
4096 bytes, NAMESPACE, UNAUTHENTICATE (RFC 8437) and the response
codes of failing commands. A raw socket shows the exact bytes."""
import re

from imap_helpers import PW, Raw, deliver, message


def rev2(srv):
    c = Raw(srv)
    c.login()
    lines = c.cmd("e", "ENABLE IMAP4rev2")
    assert lines == ["* ENABLED IMAP4rev2", "e OK ENABLE completed."]
    return c


def test_capabilities(imap):
    c = Raw(imap)
    caps = c.cmd("c", "CAPABILITY")[0].split()
    for cap in ("IMAP4rev1", "IMAP4rev2", "LITERAL+", "LITERAL-",
                "UNAUTHENTICATE", "ESEARCH", "SEARCHRES", "MOVE",
                "UIDPLUS", "BINARY", "STATUS=SIZE", "NAMESPACE"):
        assert cap in caps, cap
    # ENABLE names each extension once, the first time only
    c.login()
    assert c.cmd("e", "ENABLE imap4rev2 IMAP4rev2")[0] == \
        "* ENABLED IMAP4rev2"
    assert c.cmd("f", "ENABLE IMAP4rev2")[0] == "* ENABLED"


def test_select_without_recent(imap, accounts):
    deliver(accounts, "alice", message("unseen"))
    c1 = Raw(imap)
    c1.login()
    old = c1.cmd("s", "SELECT INBOX")
    assert "* 0 RECENT" in old
    assert not any(x.startswith("* LIST") for x in old)
    c = rev2(imap)
    lines = c.cmd("s", "SELECT INBOX")
    assert not any("RECENT" in x for x in lines), lines
    # the UNSEEN code is gone from IMAP4rev2 (Appendix E); rev1 keeps it
    assert not any("[UNSEEN " in x for x in lines), lines
    assert "* OK [UNSEEN 1] First unseen." in old
    assert '* LIST () "/" "INBOX"' in lines or \
        '* LIST () "/" INBOX' in lines, lines
    assert "* 1 EXISTS" in lines
    assert any("[UIDVALIDITY " in x for x in lines)
    assert any("[UIDNEXT " in x for x in lines)
    assert any("[PERMANENTFLAGS " in x for x in lines)
    assert c.cmd("c", "CREATE Other")[-1].startswith("c OK")
    lines = c.cmd("t", "EXAMINE Other")
    assert lines[0] == "* OK [CLOSED] Previous mailbox closed."
    assert lines[-1].startswith("t OK [READ-ONLY]")
    # rev1 sessions get no CLOSED
    assert c1.cmd("c", "CREATE Other2")[-1].startswith("c OK")
    assert not any("CLOSED" in x for x in c1.cmd("t", "SELECT Other2"))


def test_search_answers_esearch(imap, accounts):
    for s in ("one", "two", "three"):
        deliver(accounts, "alice", message(s))
    c = rev2(imap)
    c.cmd("s", "SELECT INBOX")
    assert c.cmd("a", "SEARCH ALL") == [
        '* ESEARCH (TAG "a") ALL 1:3', "a OK SEARCH completed."]
    assert c.cmd("b", "UID SEARCH SUBJECT two")[0] == \
        '* ESEARCH (TAG "b") UID ALL 2'
    assert c.cmd("n", "SEARCH SUBJECT nothing")[0] == '* ESEARCH (TAG "n")'
    assert c.cmd("m", "SEARCH RETURN (MIN COUNT) ALL")[0] == \
        '* ESEARCH (TAG "m") MIN 1 COUNT 3'
    # "$": SAVE, then use it in FETCH and SEARCH (RFC 5182)
    assert c.cmd("v", "SEARCH RETURN (SAVE) SUBJECT t") == [
        "v OK SEARCH completed."]
    lines = c.cmd("f", "FETCH $ (UID)")
    assert lines[:-1] == ["* 2 FETCH (UID 2)", "* 3 FETCH (UID 3)"]
    assert c.cmd("g", "SEARCH $ SUBJECT three")[0] == \
        '* ESEARCH (TAG "g") ALL 3'
    # RFC 5182 §2.4: SAVE with MIN/MAX (no ALL, COUNT) keeps just those
    assert c.cmd("w", "SEARCH RETURN (SAVE MIN) ALL")[0] == \
        '* ESEARCH (TAG "w") MIN 1'
    assert c.cmd("x", "FETCH $ (UID)")[0] == "* 1 FETCH (UID 1)"
    c.cmd("y", "SEARCH RETURN (SAVE MIN MAX) ALL")
    lines = c.cmd("z", "FETCH $ (UID)")
    assert lines[:-1] == ["* 1 FETCH (UID 1)", "* 3 FETCH (UID 3)"]
    c.cmd("y", "SEARCH RETURN (SAVE MAX COUNT) ALL")
    assert len(c.cmd("z", "FETCH $ (UID)")) == 4
    # a rev1 session still gets SEARCH
    c1 = Raw(imap)
    c1.login()
    c1.cmd("s", "SELECT INBOX")
    assert c1.cmd("a", "SEARCH ALL")[0] == "* SEARCH 1 2 3"


def test_oldname_on_rename_and_create(imap):
    c = rev2(imap)
    assert c.cmd("c", "CREATE Work")[-1].endswith(" CREATE completed.")
    lines = c.cmd("r", "RENAME Work Jobs")
    assert lines == ['* LIST () "/" "Jobs" ("OLDNAME" ("Work"))',
                     "r OK RENAME completed."]
    lines = c.cmd("d", "CREATE Trips/")
    assert lines[0] == '* LIST () "/" "Trips" ("OLDNAME" ("Trips/"))'
    assert len(lines) == 2 and lines[1].startswith("d OK"), lines
    # IMAP4rev2 names are UTF-8 (RFC 9051 §5.1), as after UTF8=ACCEPT
    lines = c.cmd("u", 'RENAME Jobs "\u00e9t\u00e9"')
    assert lines[0] == \
        '* LIST () "/" "\u00e9t\u00e9" ("OLDNAME" ("Jobs"))', lines
    lines = c.cmd("l", 'LIST "" "*t*"')
    assert '* LIST (\\HasNoChildren) "/" "\u00e9t\u00e9"' in lines, lines
    # a rev1 session: no LIST, and the name in modified UTF-7
    c1 = Raw(imap)
    c1.login()
    assert c1.cmd("r", "RENAME Trips Voyages") == ["r OK RENAME completed."]
    lines = c1.cmd("l", 'LIST "" "*t*"')
    assert '* LIST (\\HasNoChildren) "/" "&AOk-t&AOk-"' in lines, lines


def test_list_attributes(imap):
    c = rev2(imap)
    for name in ("A", "A/B", "C"):
        assert c.cmd("c", f"CREATE {name}")[-1].startswith("c OK")
    c.cmd("s", "SUBSCRIBE Gone")
    lines = c.cmd("l", 'LIST "" "*"')
    assert '* LIST (\\HasChildren) "/" "A"' in lines, lines
    assert '* LIST (\\HasNoChildren) "/" "A/B"' in lines
    assert '* LIST (\\HasNoChildren) "/" "C"' in lines
    lines = c.cmd("m", 'LIST (SUBSCRIBED) "" "*"')
    assert '* LIST (\\Subscribed \\NonExistent) "/" "Gone"' in lines, lines


def test_status_deleted_size(imap, accounts):
    a, b = message("a"), message("bb")
    deliver(accounts, "alice", a)
    deliver(accounts, "alice", b)
    c = rev2(imap)
    c.cmd("s", "SELECT INBOX")
    c.cmd("t", "STORE 2 +FLAGS (\\Deleted)")
    lines = c.cmd("u", "STATUS INBOX (MESSAGES DELETED SIZE UNSEEN)")
    assert lines[0] == ('* STATUS "INBOX" (MESSAGES 2 UNSEEN 2 DELETED 1 '
                        f'SIZE {len(a) + len(b)})'), lines
    assert c.cmd("r", "STATUS INBOX (RECENT)")[-1].startswith("r BAD")
    # UID EXPUNGE and MOVE are always there
    lines = c.cmd("x", "UID EXPUNGE 1:2")
    assert lines == ["* 2 EXPUNGE", "x OK UID EXPUNGE completed."] or \
        lines[-1].startswith("x OK"), lines
    assert "* 2 EXPUNGE" in lines
    c.cmd("c", "CREATE Moved")
    lines = c.cmd("m", "MOVE 1 Moved")
    assert any(x.startswith("* OK [COPYUID ") for x in lines), lines
    assert "* 1 EXPUNGE" in lines
    assert lines[-1].startswith("m OK")


def test_fetch_binary_and_rfc822_items(imap, accounts):
    body = (b"MIME-Version: 1.0\r\nSubject: b\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n"
            b"SGVsbG8gd29ybGQ=\r\n")
    deliver(accounts, "alice", body)
    c = rev2(imap)
    c.cmd("s", "SELECT INBOX")
    c.send("f FETCH 1 (BINARY.PEEK[1] BINARY.SIZE[1])\r\n")
    assert c.line() == "* 1 FETCH (BINARY[1] {11}"
    lines = c.until_tagged("f")
    assert lines[0] == "Hello world BINARY.SIZE[1] 11)"
    # RFC822.SIZE is still in IMAP4rev2
    lines = c.cmd("g", "FETCH 1 RFC822.SIZE")
    assert lines[0] == f"* 1 FETCH (RFC822.SIZE {len(body)})"


def big_literal_append(c, tag, size, sync):
    msg = message("big", b"x" * size + b"\r\n")
    plus = "" if sync else "+"
    c.send(f"{tag} APPEND INBOX {{{len(msg)}{plus}}}\r\n")
    if sync:
        assert c.line().startswith("+ ")
    c.send(msg + b"\r\n")
    return c.until_tagged(tag)


def test_literals_over_4096(imap):
    """LITERAL+ is advertised too, so a non-synchronising literal of
    any size is fine in both modes (RFC 7888 §4, §5); no "+" goes out
    for it, and synchronising literals still get one."""
    for enable in (False, True):
        c = rev2(imap) if enable else Raw(imap)
        if not enable:
            c.login()
        lines = big_literal_append(c, "a", 10000, sync=False)
        assert lines[-1].startswith("a OK [APPENDUID "), lines
        assert not any(x.startswith("+") for x in lines)
        lines = big_literal_append(c, "b", 5000, sync=True)
        assert lines[-1].startswith("b OK [APPENDUID "), lines
        lines = big_literal_append(c, "s", 10, sync=False)
        assert lines[-1].startswith("s OK"), lines
        c.send("l LOGIN {5+}\r\nalice {2+}\r\npw\r\n")
        assert c.until_tagged("l")[-1].startswith("l BAD")
    c = Raw(imap)
    c.send("l LOGIN {5+}\r\nalice {2+}\r\npw\r\n")
    assert c.until_tagged("l")[-1].startswith("l OK")
    lines = c.cmd("s", "STATUS INBOX (MESSAGES)")
    assert lines[0] == '* STATUS "INBOX" (MESSAGES 6)'


def test_namespace(imap):
    c = rev2(imap)
    lines = c.cmd("n", "NAMESPACE")
    # RFC 2342 §5: personal "" and other users' "~" (ACL), both "/"
    assert lines == ['* NAMESPACE (("" "/")) (("~" "/")) NIL',
                     "n OK NAMESPACE completed."]


def test_unauthenticate(imap):
    c = rev2(imap)
    c.cmd("s", "SELECT INBOX")
    assert c.cmd("u", "UNAUTHENTICATE") == [
        "u OK UNAUTHENTICATE completed."]
    assert c.cmd("x", "SELECT INBOX")[-1].startswith("x BAD")
    assert c.cmd("y", "UNAUTHENTICATE")[-1].startswith("y BAD")
    caps = c.cmd("c", "CAPABILITY")[0]
    assert "AUTH=" in caps
    c.login("bob", PW)
    # ENABLE ended with the first login: RECENT is back
    lines = c.cmd("s", "SELECT INBOX")
    assert "* 0 RECENT" in lines
    assert c.cmd("u", "UNAUTHENTICATE extra")[-1].startswith("u BAD")


def test_response_codes(imap):
    c = rev2(imap)
    codes = {
        "CREATE INBOX": "ALREADYEXISTS",
        "SELECT Nope": "NONEXISTENT",
        "EXAMINE Nope": "NONEXISTENT",
        "DELETE Nope": "NONEXISTENT",
        "RENAME Nope Other": "NONEXISTENT",
        "STATUS Nope (MESSAGES)": "NONEXISTENT",
        "DELETE INBOX": "CANNOT",
    }
    c.cmd("p", "CREATE Exists")
    codes["CREATE Exists"] = "ALREADYEXISTS"
    codes["RENAME INBOX Exists"] = "ALREADYEXISTS"
    for i, (cmd, code) in enumerate(codes.items()):
        lines = c.cmd(f"t{i}", cmd)
        assert re.match(rf"t{i} NO \[{code}\] ", lines[-1]), (cmd, lines)
    # RFC 9051 §6.3.5: a parent without messages is not deleted
    c.cmd("q", "CREATE Parent/Child")
    lines = c.cmd("h", "DELETE Parent")
    assert lines[-1].startswith("h NO [HASCHILDREN] "), lines
    assert c.cmd("i", "DELETE Parent/Child")[-1].startswith("i OK")
    lines = c.cmd("a", "APPEND Nope {1+}\r\nx")
    assert lines[-1].startswith("a NO [TRYCREATE]"), lines
    c.cmd("s", "SELECT INBOX")
    lines = c.cmd("b", "SEARCH CHARSET X-NOPE-1 TEXT x")
    assert lines[-1].startswith("b NO [BADCHARSET"), lines
