# SPDX-License-Identifier: MIT
"""SPECIAL-USE and CREATE-SPECIAL-USE (RFC 6154) against the real
`commune serve`: attributes in LIST, the SPECIAL-USE selection and
return options with LIST-EXTENDED, CREATE ... (USE (...)), [USEATTR],
defaults by name, persistence across sessions and RENAME, DELETE."""

import re

from imap_helpers import Raw, client


def caps(c):
    return c.cmd("c", "CAPABILITY")[0].split()


def test_capabilities(imap):
    c = Raw(imap)
    c.login()
    assert "SPECIAL-USE" in caps(c)
    assert "CREATE-SPECIAL-USE" in caps(c)


def no_id(line):
    """line without the MAILBOXID code of CREATE (RFC 8474 §4.1)"""
    return re.sub(r" \[MAILBOXID \(\w+\)\]", "", line)


def test_defaults_by_name(imap):
    c = Raw(imap)
    c.login()
    for name in ("Sent", "Drafts", "Trash", "Junk", "Archive", "Work",
                 "Work/Sent"):
        assert no_id(c.cmd("m", f'CREATE "{name}"')[-1]) == \
            "m OK CREATE completed."
    lines = c.cmd("a", 'LIST "" "*"')
    assert lines == [
        '* LIST (\\HasNoChildren) "/" "INBOX"',
        '* LIST (\\HasNoChildren) "/" "Archive"',
        '* LIST (\\HasNoChildren \\Drafts) "/" "Drafts"',
        '* LIST (\\HasNoChildren \\Junk) "/" "Junk"',
        '* LIST (\\HasNoChildren \\Sent) "/" "Sent"',
        '* LIST (\\HasNoChildren \\Trash) "/" "Trash"',
        '* LIST (\\HasChildren) "/" "Work"',
        '* LIST (\\HasNoChildren) "/" "Work/Sent"',
        "a OK LIST completed."]
    # the selection option returns only mailboxes with attributes
    lines = c.cmd("b", 'LIST (SPECIAL-USE) "" "*"')
    assert [l.split('"/" ')[1] for l in lines[:-1]] == [
        '"Drafts"', '"Junk"', '"Sent"', '"Trash"']
    assert lines[-1] == "b OK LIST completed."
    # LSUB shows them too, as Dovecot does
    c.cmd("s", "SUBSCRIBE Sent")
    c.cmd("s2", "SUBSCRIBE Work")
    assert c.cmd("l", 'LSUB "" "*"') == ['* LSUB (\\Sent) "/" "Sent"',
                                          '* LSUB () "/" "Work"',
                                          "l OK LSUB completed."]


def test_create_use(imap, accounts):
    c = Raw(imap)
    c.login()
    lines = c.cmd("a", 'CREATE "Sent Mail" (USE (\\Sent))')
    assert [no_id(x) for x in lines] == ["a OK CREATE completed."]
    lines = c.cmd("b", 'CREATE "Stuff/Old" (USE (\\Archive \\Junk))')
    assert [no_id(x) for x in lines] == ["b OK CREATE completed."]
    # virtual and unknown attributes: NO [USEATTR], nothing created
    for i, attr in enumerate(("\\All", "\\Flagged", "\\Important",
                              "Sent")):
        lines = c.cmd(f"n{i}", f'CREATE "X{i}" (USE ({attr}))')
        assert lines[-1].startswith(f"n{i} NO [USEATTR]"), lines
    assert c.cmd("bad1", 'CREATE "Y" (FOO (\\Sent))')[-1].startswith(
        "bad1 BAD")
    assert c.cmd("bad2", 'CREATE "Y" (USE \\Sent)')[-1].startswith(
        "bad2 BAD")
    assert c.cmd("bad3", 'CREATE "Y" USE')[-1].startswith("bad3 BAD")
    lines = c.cmd("l", 'LIST "" "*"')
    assert '* LIST (\\HasNoChildren \\Sent) "/" "Sent Mail"' in lines
    assert '* LIST (\\HasNoChildren \\Archive \\Junk) "/" "Stuff/Old"' \
        in lines
    assert not any('"X' in l or '"Y"' in l for l in lines), lines
    # an existing name is refused even with USE
    assert c.cmd("e", 'CREATE "Sent Mail" (USE (\\Drafts))')[-1]\
        .startswith("e NO [ALREADYEXISTS]")
    # the store has the attributes: another session, after a rename
    assert c.cmd("r", 'RENAME "Sent Mail" "Outgoing"')[-1] == \
        "r OK RENAME completed."
    m = client(imap)
    typ, data = m.list('""', "*")
    assert typ == "OK"
    assert b'(\\HasNoChildren \\Sent) "/" "Outgoing"' in data, data
    m.logout()
    # DELETE takes them with the mailbox; a new one starts without
    c.cmd("d", 'DELETE "Outgoing"')
    c.cmd("m", 'CREATE "Outgoing"')
    assert '* LIST (\\HasNoChildren) "/" "Outgoing"' in \
        c.cmd("l2", 'LIST "" "Outgoing"')


def test_list_extended_interplay(imap):
    c = Raw(imap)
    c.login()
    c.cmd("m1", "CREATE Drafts")
    c.cmd("m2", "CREATE Drafts/Old")
    c.cmd("m3", 'CREATE Box (USE (\\Trash))')
    c.cmd("s1", "SUBSCRIBE Drafts")
    c.cmd("s2", "SUBSCRIBE Nowhere")
    lines = c.cmd("a", 'LIST "" "*" RETURN (SPECIAL-USE SUBSCRIBED '
                  'CHILDREN)')
    assert lines == [
        '* LIST (\\HasNoChildren) "/" "INBOX"',
        '* LIST (\\HasNoChildren \\Trash) "/" "Box"',
        '* LIST (\\HasChildren \\Subscribed \\Drafts) "/" "Drafts"',
        '* LIST (\\HasNoChildren) "/" "Drafts/Old"',
        "a OK LIST completed."]
    lines = c.cmd("b", 'LIST (SPECIAL-USE SUBSCRIBED) "" "*"')
    assert lines == [
        '* LIST (\\Subscribed \\HasChildren \\Drafts) "/" "Drafts"',
        "b OK LIST completed."]
    lines = c.cmd("c", 'LIST (SUBSCRIBED) "" "*" RETURN (SPECIAL-USE)')
    assert lines == [
        '* LIST (\\Subscribed \\HasChildren \\Drafts) "/" "Drafts"',
        '* LIST (\\Subscribed \\NonExistent) "/" "Nowhere"',
        "c OK LIST completed."]
    lines = c.cmd("d", 'LIST (SPECIAL-USE) "" "%" RETURN (STATUS '
                  '(MESSAGES))')
    assert lines == [
        '* LIST (\\HasNoChildren \\Trash) "/" "Box"',
        '* STATUS "Box" (MESSAGES 0)',
        '* LIST (\\HasChildren \\Drafts) "/" "Drafts"',
        '* STATUS "Drafts" (MESSAGES 0)',
        "d OK LIST completed."]
    # RECURSIVEMATCH modifies SPECIAL-USE in nothing (as Dovecot)
    assert c.cmd("e", 'LIST (SPECIAL-USE RECURSIVEMATCH) "" "%"') == [
        '* LIST (\\HasNoChildren \\Trash) "/" "Box"',
        '* LIST (\\HasChildren \\Drafts) "/" "Drafts"',
        "e OK LIST completed."]
    assert c.cmd("f", 'LIST (RECURSIVEMATCH) "" "*"')[-1]\
        .startswith("f BAD")


def test_single_mailbox_account(imap):
    c = Raw(imap)
    c.login("bob")
    assert c.cmd("a", 'LIST (SPECIAL-USE) "" "*"') == [
        "a OK LIST completed."]
    lines = c.cmd("b", 'CREATE Sent (USE (\\Sent))')
    assert lines[-1].startswith("b NO [CANNOT]"), lines
