# SPDX-License-Identifier: MIT
"""Second differential audit of the IMAP server against RFC 3501/9051
and a private Debian Dovecot (dovecot_oracle.py), through the real
`commune serve`: each test is a defect found by comparing raw replies
of both servers, fixed in src/imap. Dovecot's hierarchy separator is
".", Commune's "/": names are translated where replies are compared."""
import base64
import re

import pytest

from dovecot_oracle import Dovecot, PASSWORD, USER
from imap_helpers import PW, Raw, message

COPYUID_RE = re.compile(r"\[COPYUID (\d+) (\S+) (\S+)\]")


@pytest.fixture(scope="module")
def dovecot():
    d = Dovecot().start()
    yield d
    d.stop()


def commune(srv, user="alice"):
    c = Raw(srv)
    c.login(user)
    return c


def oracle(dc):
    c = Raw(None, sock=dc.connect())
    c.login(USER, PASSWORD)
    return c


def ok(c, tag, text):
    lines = c.cmd(tag, text)
    assert lines[-1].startswith(tag + " OK"), (text, lines)
    return lines[:-1]


def append(c, box, data):
    """APPEND with a non-synchronising literal (both servers have
    LITERAL+)."""
    c.send(f"A APPEND {box} {{{len(data)}+}}\r\n".encode() + data + b"\r\n")
    lines = c.until_tagged("A")
    assert lines[-1].startswith("A OK"), lines
    return lines


def listed(c, verb, sep, patterns):
    """The sorted answers of `verb "" pattern` for each pattern ("/"
    written as the server's separator), separators shown as "/" and
    quotes dropped, so both servers' replies compare."""
    replies = []
    for pat in patterns:
        lines = ok(c, "l", f'{verb} "" "{pat.replace("/", sep)}"')
        replies.append(sorted(
            l.replace(f' "{sep}" ', " ").replace('"', "")
             .replace(sep, "/") for l in lines))
    return replies


def b64(s):
    return base64.b64encode(s.encode()).decode()


# ---- MOVE into the selected mailbox itself ----

@pytest.mark.parametrize("user, box", [("alice", "Self"),
                                       ("carol", "INBOX")])
def test_move_into_the_selected_mailbox_keeps_the_messages(imap, dovecot,
                                                           user, box):
    """MOVE to the selected mailbox (RFC 6851 allows it; Dovecot gives
    the messages new UIDs) lost them: the store moved through two
    handles of one mailbox and expunged through the view without the
    copies. alice's mailbox is an .mbox, carol's INBOX an .mdir."""
    dbox = "Self" + user
    replies = []
    for c, name in ((commune(imap, user), box), (oracle(dovecot), dbox)):
        if name != "INBOX":
            ok(c, "c", f"CREATE {name}")
        for i in range(3):
            append(c, name, message(f"m{i}", f"body {i}\r\n"))
        ok(c, "s", f"SELECT {name}")
        got = []
        for tag, cmd in (("m", f"MOVE 2 {name}"),
                         ("u", f"UID MOVE 1 {name}")):
            lines = ok(c, tag, cmd)
            got.append([COPYUID_RE.sub("[COPYUID v \\2 \\3]", l)
                        for l in lines])
        got.append(ok(c, "f", "FETCH 1:* (UID BODY.PEEK[TEXT])"))
        got.append(ok(c, "t", f"STATUS {name} (MESSAGES UIDNEXT)"))
        replies.append(got)
        c.close()
    com, dov = replies
    assert com[0] == ["* OK [COPYUID v 2 4] Moved.", "* 2 EXPUNGE",
                      "* 3 EXISTS"]
    assert com[1] == ["* OK [COPYUID v 1 5] Moved.", "* 1 EXPUNGE",
                      "* 3 EXISTS"]
    assert com[2] == ["* 1 FETCH (UID 3 BODY[TEXT] {8}", "body 2", ")",
                      "* 2 FETCH (UID 4 BODY[TEXT] {8}", "body 1", ")",
                      "* 3 FETCH (UID 5 BODY[TEXT] {8}", "body 0", ")"]
    assert com[3] == [f'* STATUS "{box}" (MESSAGES 3 UIDNEXT 6)']
    # the same UIDs, EXPUNGE and EXISTS as Dovecot
    assert [[l for l in r if "COPYUID" in l or "EXPUNGE" in l or
             "EXISTS" in l] for r in dov[:2]] == \
        [[l.replace("Moved.", "Moved UIDs.") for l in r] for r in com[:2]]
    assert dov[2] == com[2]


# ---- messages another session expunged ----

def test_copy_and_fetch_of_messages_expunged_elsewhere(imap, dovecot):
    """COPY of a message another session expunged answered OK with
    COPYUID ... 0 (UID 0 is no UID, RFC 4315 §3); FETCH of it answered
    a bare OK with nothing. Now, as in Dovecot, COPY says NO
    [EXPUNGEISSUED] (RFC 2180 §4.4.1, RFC 5530 §3) when nothing could
    be copied; a partial COPY warns and lists only the copies; FETCH
    ends OK [EXPUNGEISSUED] so the client syncs."""
    nos = []
    box = "Gone"
    for a, b, ours in ((commune(imap), commune(imap), True),
                       (oracle(dovecot), oracle(dovecot), False)):
        ok(a, "c", f"CREATE {box}")
        ok(a, "c2", f"CREATE {box}2")
        for i in range(3):
            append(a, box, message(f"g{i}"))
        ok(a, "s", f"SELECT {box}")
        ok(b, "s", f"SELECT {box}")
        ok(b, "d", "STORE 2 +FLAGS.SILENT (\\Deleted)")
        ok(b, "e", "EXPUNGE")
        lines = a.cmd("k", f"COPY 2 {box}2")
        nos.append(lines[-1].split(" ", 3)[:3])
        if ours:
            assert lines == ["k NO [EXPUNGEISSUED] Some of the requested "
                             "messages no longer exist."]
            lines = a.cmd("p", f"COPY 1:3 {box}2")
            assert lines[0] == ("* NO [EXPUNGEISSUED] Some of the "
                                "requested messages no longer exist.")
            mo = COPYUID_RE.search(lines[-1])
            assert lines[-1].startswith("p OK") and mo, lines
            assert mo.group(2, 3) == ("1,3", "1:2")
            lines = a.cmd("f", "FETCH 2 (BODY.PEEK[])")
            assert lines == ["f OK [EXPUNGEISSUED] FETCH completed."]
            # and the rest of the set still comes
            lines = a.cmd("f2", "FETCH 1:3 (BODY.PEEK[HEADER.FIELDS "
                          "(Subject)])")
            assert [l for l in lines if "FETCH (" in l] == [
                "* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {15}",
                "* 3 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {15}"]
            assert lines[-1] == "f2 OK [EXPUNGEISSUED] FETCH completed."
            assert a.cmd("n", "NOOP") == ["* 2 EXPUNGE",
                                          "n OK NOOP completed."]
            assert ok(a, "t", f"STATUS {box}2 (MESSAGES)") == [
                f'* STATUS "{box}2" (MESSAGES 2)']
        a.close()
        b.close()
    assert nos[0] == nos[1] == ["k", "NO", "[EXPUNGEISSUED]"]


# ---- AUTHENTICATE LOGIN ----

def test_authenticate_login_challenges_are_base64(imap):
    """RFC 3501 §6.2.2: a server challenge is base64. The first
    prompt of LOGIN went out as the bare text "Username:" (the second
    was encoded), which a client decoding challenges chokes on. POP3
    already encoded it. (The oracle Dovecot offers PLAIN only.)"""
    c = Raw(imap)
    c.send("a AUTHENTICATE LOGIN\r\n")
    assert c.line() == "+ " + b64("Username:")
    c.send(b64("alice") + "\r\n")
    assert c.line() == "+ " + b64("Password:")
    c.send(b64(PW) + "\r\n")
    assert c.until_tagged("a")[-1].startswith("a OK [CAPABILITY")
    # with an initial response (SASL-IR) the user name is given
    c2 = Raw(imap)
    c2.send(f"b AUTHENTICATE LOGIN {b64('alice')}\r\n")
    assert c2.line() == "+ " + b64("Password:")
    c2.send(b64(PW) + "\r\n")
    assert c2.until_tagged("b")[-1].startswith("b OK")
    # PLAIN's empty challenge stays empty
    c3 = Raw(imap)
    c3.send("c AUTHENTICATE PLAIN\r\n")
    assert c3.line() == "+ "
    c3.send("*\r\n")
    assert c3.until_tagged("c") == ["c BAD Authentication cancelled."]


def test_login_when_logged_in_says_so(imap):
    """LOGIN or AUTHENTICATE after a login was answered "BAD No mailbox
    selected.": the reason is the command's, not the state's."""
    c = commune(imap)
    assert c.cmd("a", f"LOGIN alice {PW}") == ["a BAD Already logged in."]
    assert c.cmd("b", "AUTHENTICATE PLAIN") == ["b BAD Already logged in."]
    assert c.cmd("c", "FETCH 1 FLAGS") == ["c BAD No mailbox selected."]
    ok(c, "s", "SELECT INBOX")
    assert c.cmd("d", f"LOGIN alice {PW}") == ["d BAD Already logged in."]
    assert c.cmd("e", "ENABLE CONDSTORE") == [
        "e BAD Not valid with a mailbox selected."]


# ---- STATUS APPENDLIMIT ----

def test_status_appendlimit(imap):
    """CAPABILITY announces APPENDLIMIT=n, but STATUS (APPENDLIMIT), the
    per-mailbox form of RFC 7889 §4, was BAD "unknown item". Dovecot
    2.3 has neither, so the RFC is the oracle."""
    c = commune(imap)
    caps = ok(c, "c", "CAPABILITY")[0]
    limit = re.search(r" APPENDLIMIT=(\d+)", caps).group(1)
    assert ok(c, "s", "STATUS INBOX (APPENDLIMIT MESSAGES)") == [
        f'* STATUS "INBOX" (MESSAGES 0 APPENDLIMIT {limit})']
    assert ok(c, "l", 'LIST "" "INBOX" RETURN (STATUS (APPENDLIMIT))') == [
        '* LIST (\\HasNoChildren) "/" "INBOX"',
        f'* STATUS "INBOX" (APPENDLIMIT {limit})']


# ---- LSUB and unsubscribed parents ----

def test_lsub_percent_returns_unsubscribed_parents_noselect(imap, dovecot):
    """RFC 3501 §6.3.9: with "foo/bar" subscribed and "foo" not, LSUB
    "%" MUST return "foo" flagged \\Noselect (Dovecot does); Commune
    returned nothing. Each parent once, a subscribed parent as
    itself."""
    got = []
    for c, sep in ((commune(imap), "/"), (oracle(dovecot), ".")):
        for name in ("Ls1/a/b", "Ls1/a/c", "Ls2/x", "Ls3", "Ls3/y"):
            name = name.replace("/", sep)
            ok(c, "c", f"CREATE {name}")
            ok(c, "u", f"SUBSCRIBE {name}")
        got.append(listed(c, "LSUB", sep,
                          ("Ls%", "Ls1/%", "Ls1/a/%", "Ls*")))
        c.close()
    assert got[0] == got[1]
    assert got[0][0] == ["* LSUB () Ls3", "* LSUB (\\Noselect) Ls1",
                         "* LSUB (\\Noselect) Ls2"]
    assert got[0][1] == ["* LSUB (\\Noselect) Ls1/a"]


def test_recursivematch_returns_nonexistent_parents(imap, dovecot):
    """RFC 5258 §3.5: LIST (SUBSCRIBED RECURSIVEMATCH) returns a
    matching parent of a subscribed name with CHILDINFO, and one that
    does not exist as \\NonExistent (Dovecot does). Commune looked only
    at existing mailboxes, so the parent of a subscribed mailbox that
    was deleted went missing."""
    got = []
    for c, sep in ((commune(imap), "/"), (oracle(dovecot), ".")):
        ok(c, "c", f"CREATE Rm1{sep}gone")
        ok(c, "u", f"SUBSCRIBE Rm1{sep}gone")
        ok(c, "d", f"DELETE Rm1{sep}gone")
        lines = ok(c, "l", 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "Rm%"')
        got.append([l.replace(f' "{sep}" ', " ").replace('"', "")
                    for l in lines])
        c.close()
    assert got[0] == got[1] == [
        "* LIST (\\NonExistent) Rm1 (CHILDINFO (SUBSCRIBED))"]


def test_inbox_is_case_insensitive_in_list_patterns(imap, dovecot):
    """RFC 3501 §5.1: INBOX is case-insensitive. LIST "" "inbox" and
    "inbox/%" found INBOX, but "inbox*", "Inb%" or "*bOx" did not: only
    a whole "inbox" component of the pattern was normalised. Dovecot
    matches the leading INBOX of a name case-insensitively."""
    got = []
    for c, sep in ((commune(imap), "/"), (oracle(dovecot), ".")):
        ok(c, "c", f"CREATE INBOX{sep}Kid")
        got.append(listed(c, "LIST", sep, ("inbox*", "Inb%", "*bOx",
                                           "i%/%", "inbox/k*", "INBOX")))
        c.close()
    assert got[0] == got[1]
    assert got[0][0] == ["* LIST (\\HasChildren) INBOX",
                         "* LIST (\\HasNoChildren) INBOX/Kid"]
    assert got[0][1] == got[0][2] == ["* LIST (\\HasChildren) INBOX"]


# ---- CONDSTORE ----

def _flags(lines, seq):
    """The FLAGS of message seq in untagged FETCH lines, \\Recent
    dropped (Dovecot keeps it, RFC 9051 does not), or None."""
    for l in lines:
        mo = re.match(rf"\* {seq} FETCH \(.*FLAGS \(([^)]*)\)", l)
        if mo:
            return sorted(f for f in mo.group(1).split() if f != "\\Recent")
    return None


def flagged_elsewhere(imap, dovecot, box, params=""):
    """For Commune, then Dovecot: sessions a and b on a new mailbox of
    three messages, after b flagged message 2 silently. Yields (a, b,
    a's SELECT replies) and closes both."""
    for a, b in ((commune(imap), commune(imap)),
                 (oracle(dovecot), oracle(dovecot))):
        ok(a, "c", f"CREATE {box}")
        for i in range(3):
            append(a, box, message(f"{box}{i}"))
        lines = ok(a, "s", f"SELECT {box}{params}")
        ok(b, "s", f"SELECT {box}")
        ok(b, "f", "STORE 2 +FLAGS.SILENT (\\Flagged)")
        yield a, b, lines
        a.close()
        b.close()


def test_unchangedsince_failure_reports_the_other_change(imap, dovecot):
    """RFC 7162 §3.1.3, RFC 3501 §6.4.6: a STORE (UNCHANGEDSINCE) that
    fails for a message another session changed leaves it alone, but
    that change must still reach the client as an untagged FETCH (as
    Dovecot sends). Commune kept every message of the STORE out of
    its sync, so the failed one's new flags were never reported."""
    got = []
    for a, b, lines in flagged_elsewhere(imap, dovecot, "Cond",
                                         " (CONDSTORE)"):
        modseq = re.search(r"HIGHESTMODSEQ (\d+)", " ".join(lines))
        lines = a.cmd("u", f"STORE 1:3 (UNCHANGEDSINCE {modseq.group(1)}) "
                      "+FLAGS (\\Seen)")
        assert re.match(r"u OK \[MODIFIED 2\] ", lines[-1]), lines
        got.append([_flags(lines, n) for n in (1, 2, 3)])
        # nothing is left over for the next sync
        assert [l for l in a.cmd("n", "NOOP") if "FETCH" in l] == []
    assert got[0] == got[1] == [["\\Seen"], ["\\Flagged"], ["\\Seen"]]


def test_silent_store_still_reports_changes_made_elsewhere(imap, dovecot):
    """RFC 3501 §6.4.6: "Regardless of whether or not the .SILENT
    suffix was used, the server SHOULD send an untagged FETCH response
    if a change to a message's flags from an external source is
    observed." Commune kept a .SILENT STORE's messages out of its sync,
    so two clients storing silently (mbsync does) never heard of each
    other's flags on those messages. Dovecot reports them."""
    got = []
    for a, b, _ in flagged_elsewhere(imap, dovecot, "Silent"):
        lines = ok(a, "u", "STORE 1:3 +FLAGS.SILENT (\\Seen)")
        # what a client knows of message 2: the reported flags, then
        # its own silent change on top
        known = set(_flags(lines, 2) or ()) | {"\\Seen"}
        lines = ok(b, "n", "NOOP")
        known_b = set(_flags(lines, 2) or ())
        got.append((sorted(known), sorted(known_b)))
    assert got[0] == got[1] == ([r"\Flagged", r"\Seen"],
                                [r"\Flagged", r"\Seen"])


def test_fetch_flags_is_not_older_than_the_command(imap, dovecot):
    """FETCH FLAGS answered from the session's view before syncing it:
    after another session flagged a message, "FETCH 2 (FLAGS)" gave
    the old flags first and the new ones only in the unsolicited FETCH
    after it, so a client taking the answer (imaplib's first item)
    had stale flags. Dovecot syncs first: both answers are current."""
    got = []
    for a, _, _ in flagged_elsewhere(imap, dovecot, "Fresh"):
        lines = ok(a, "g", "FETCH 2 (FLAGS)")
        got.append([_flags([l], 2) for l in lines])
    assert got[0] == got[1] == [["\\Flagged"], ["\\Flagged"]]


# ---- subscriptions ----

def test_unsubscribe_of_a_name_not_subscribed_is_ok(imap, dovecot):
    """RFC 9051 §6.3.8: UNSUBSCRIBE "returns a tagged OK response if
    the unsubscription is successful or if the mailbox is not
    subscribed." Commune answered NO [NONEXISTENT], which a client
    cleaning up its subscriptions shows as an error. Dovecot says
    OK."""
    got = []
    for c in (commune(imap), oracle(dovecot)):
        ok(c, "c", "CREATE Unsub")
        got.append([c.cmd("u1", "UNSUBSCRIBE Unsub")[-1].split()[:2],
                    c.cmd("u2", "UNSUBSCRIBE NoSuchName")[-1].split()[:2]])
        ok(c, "s", "SUBSCRIBE Unsub")
        ok(c, "u3", "UNSUBSCRIBE Unsub")
        got.append(ok(c, "l", 'LSUB "" "Unsub"'))
        c.close()
    assert got[0] == got[2] == [["u1", "OK"], ["u2", "OK"]]
    assert got[1] == got[3] == []


def test_move_with_qresync_ends_with_highestmodseq(imap, dovecot):
    """After ENABLE QRESYNC the tagged OK of EXPUNGE carried
    [HIGHESTMODSEQ n] but MOVE's, which expunges too, did not; Dovecot
    gives both (the client's next SELECT (QRESYNC) point)."""
    for c in (commune(imap), oracle(dovecot)):
        ok(c, "c", "CREATE Qm")
        ok(c, "c2", "CREATE Qm2")
        for i in range(2):
            append(c, "Qm", message(f"q{i}"))
        ok(c, "e", "ENABLE QRESYNC")
        ok(c, "s", "SELECT Qm")
        lines = c.cmd("m", "MOVE 1 Qm2")
        assert "* VANISHED 1" in lines, lines
        mo = re.match(r"m OK \[HIGHESTMODSEQ (\d+)\] ", lines[-1])
        assert mo, lines
        st = ok(c, "t", "STATUS Qm (HIGHESTMODSEQ)")
        assert st[-1].endswith(f"(HIGHESTMODSEQ {mo.group(1)})"), st
        c.close()


# ---- RFC 7162 §3.1: the first CONDSTORE enabling command ----

CONDSTORE_ENABLERS = ["FETCH 1 (MODSEQ)", "STATUS INBOX (HIGHESTMODSEQ)",
                      "UID SEARCH MODSEQ 1",
                      "STORE 1 (UNCHANGEDSINCE 1) +FLAGS (\\Seen)"]


@pytest.mark.parametrize("enabler", CONDSTORE_ENABLERS)
def test_first_condstore_enabler_announces_highestmodseq(imap, dovecot,
                                                         enabler):
    """With a mailbox selected, the first CONDSTORE enabling command
    gets an untagged OK [HIGHESTMODSEQ] with the mailbox's value before
    its own answers, as Dovecot sends it; the second does not. (ENABLE
    itself is BAD in the selected state, RFC 5161 §3.1; Dovecot takes
    it.) Without a selected mailbox there is nothing to announce."""
    for connect in (lambda: commune(imap), lambda: oracle(dovecot)):
        other = connect()
        append(other, "INBOX", message("cs"))
        status = ok(other, "s", "STATUS INBOX (HIGHESTMODSEQ)")
        highest = re.search(r"HIGHESTMODSEQ (\d+)", status[-1]).group(1)
        other.close()
        c = connect()
        ok(c, "s", "SELECT INBOX")
        lines = c.cmd("e", enabler)
        assert re.fullmatch(r"\* OK \[HIGHESTMODSEQ %s\] .*" % highest,
                            lines[0]), (enabler, highest, lines)
        again = c.cmd("f", enabler)
        assert not any("[HIGHESTMODSEQ" in x for x in again), again
        c.close()
    c = commune(imap)
    lines = c.cmd("e", "ENABLE CONDSTORE")
    assert lines == ["* ENABLED CONDSTORE", "e OK ENABLE completed."]
    c.close()
