# SPDX-License-Identifier: MIT
"""IMAP message commands through the real `commune serve`: APPEND
(flags, date, MULTIAPPEND, APPENDUID, limits), FETCH (every item,
sections, partials, BINARY, \\Seen), STORE (+/-/replace, .SILENT,
UNCHANGEDSINCE), COPY/MOVE with COPYUID, EXPUNGE, UID EXPUNGE, SEARCH
and UID SEARCH, and curl reading a message over imap://."""
import imaplib
import re
import subprocess

import pytest

from imap_helpers import PW, Raw, client, deliver, message

MIME = (b"From: Ann <ann@example.net>\r\nTo: alice@localhost\r\n"
        b"Subject: =?utf-8?q?Caf=C3=A9?= news\r\n"
        b"Date: Tue, 1 Jul 2003 10:52:37 +0200\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n"
        b"--XX\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"Caf=C3=A9 au lait.\r\n"
        b"--XX\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        b"AAECAw==\r\n--XX--\r\n")


def fetch1(m, item, n="1"):
    typ, data = m.fetch(n, item)
    assert typ == "OK", data
    return data


def test_append_and_appenduid(imap):
    m = client(imap)
    typ, data = m.append("INBOX", r"(\Seen $Work)",
                         '"01-Jul-2003 10:52:37 +0200"', message("one"))
    assert typ == "OK"
    mo = re.match(rb"\[APPENDUID (\d+) 1\] APPEND completed\.", data[0])
    assert mo
    m.select("INBOX")
    data = fetch1(m, "(FLAGS INTERNALDATE RFC822.SIZE)")
    assert data == [b'1 (FLAGS (\\Seen $Work) INTERNALDATE '
                    b'"01-Jul-2003 08:52:37 +0000" RFC822.SIZE %d)'
                    % len(message("one"))]
    assert m.append("Nope", None, None, message("x"))[1][0].startswith(
        b"[TRYCREATE]")
    with pytest.raises(imaplib.IMAP4.error, match="Recent cannot be set"):
        m.append("INBOX", r"(\Recent)", None, message("x"))
    m.logout()


def test_multiappend_and_limits(imap):
    c = Raw(imap)
    c.login()
    a, b = message("a"), message("b")
    c.send(f"m APPEND INBOX (\\Flagged) {{{len(a)}+}}\r\n".encode() + a +
           f" {{{len(b)}+}}\r\n".encode() + b + b"\r\n")
    assert c.until_tagged("m")[-1].startswith("m OK [APPENDUID ")
    lines = c.cmd("s", "STATUS INBOX (MESSAGES)")
    assert lines[0] == '* STATUS "INBOX" (MESSAGES 2)'
    # Over APPENDLIMIT: refused without a continuation.
    caps = c.cmd("c", "CAPABILITY")[0]
    assert "APPENDLIMIT=67108864" in caps
    c.send("big APPEND INBOX {67108865}\r\n")
    assert c.until_tagged("big") == ["big NO [TOOBIG] Literal too large"]
    c.send("e APPEND INBOX {0}\r\n")
    assert c.line().startswith("+ ")
    c.send("\r\n")
    assert c.until_tagged("e")[-1].startswith("e NO")
    # A bad date is BAD, and nothing was stored.
    c.send(f'd APPEND INBOX "31-Foo-2003 10:00:00 +0000" {{{len(a)}+}}\r\n'
           .encode() + a + b"\r\n")
    assert c.until_tagged("d")[-1] == "d BAD Invalid date-time."
    assert c.cmd("s2", "STATUS INBOX (MESSAGES)")[0].endswith("(MESSAGES 2)")


def test_fetch_items(imap, accounts):
    deliver(accounts, "alice", MIME)
    m = client(imap)
    m.select("INBOX")
    data = fetch1(m, "(UID RFC822.SIZE ENVELOPE)")
    assert data[0].startswith(b'1 (UID 1 RFC822.SIZE %d ENVELOPE '
                              b'("Tue, 1 Jul 2003 10:52:37 +0200" '
                              b'"=?utf-8?q?Caf=C3=A9?= news" '
                              b'(("Ann" NIL "ann" "example.net"))'
                              % len(MIME))
    data = fetch1(m, "BODYSTRUCTURE")
    assert data[0].startswith(b'1 (BODYSTRUCTURE (("text" "plain" '
                              b'("charset" "utf-8") NIL NIL '
                              b'"quoted-printable" ')
    assert b'"mixed" ("boundary" "XX")' in data[0]
    data = fetch1(m, "BODY")
    assert b'"mixed")' in data[0]
    data = fetch1(m, "(BODY.PEEK[1] BODY.PEEK[2.MIME] "
                     "BODY.PEEK[HEADER.FIELDS (Subject)])")
    assert data[0][1] == b"Caf=C3=A9 au lait."
    assert data[1][1].startswith(b"Content-Type: application/octet-stream")
    assert data[2][1] == b"Subject: =?utf-8?q?Caf=C3=A9?= news\r\n\r\n"
    data = fetch1(m, "(BINARY.PEEK[1] BINARY.SIZE[2])")
    assert data[0][1] == "Café au lait.".encode()
    assert data[1] == b" BINARY.SIZE[2] 4)"
    data = fetch1(m, "BODY.PEEK[]<2.5>")
    assert data[0] == (b"1 (BODY[]<2> {5}", b"om: A")
    data = fetch1(m, "FLAGS")
    assert data == [b"1 (FLAGS ())"]           # PEEK left \Seen alone
    data = fetch1(m, "RFC822.HEADER")
    assert data[0][1] == MIME.split(b"\r\n\r\n")[0] + b"\r\n\r\n"
    assert fetch1(m, "FLAGS") == [b"1 (FLAGS ())"]
    data = fetch1(m, "BODY[TEXT]")
    # \Seen set by the fetch is reported in the same response.
    assert data[0][0] == b"1 (FLAGS (\\Seen) BODY[TEXT] {%d}" % \
        len(data[0][1])
    assert b"--XX--" in data[0][1]
    assert fetch1(m, "FLAGS") == [b"1 (FLAGS (\\Seen))"]
    data = fetch1(m, "RFC822")
    assert data[0][1] == MIME
    data = fetch1(m, "ALL")
    assert b"INTERNALDATE" in data[0] and b"ENVELOPE" in data[0]
    assert re.match(rb"1 \(MODSEQ \(\d+\)\)", fetch1(m, "MODSEQ")[0])
    # FETCH MODSEQ enabled CONDSTORE: every FETCH now carries MODSEQ.
    typ, data = m.uid("FETCH", "1:*", "(FLAGS)")
    assert re.match(rb"1 \(UID 1 FLAGS \(\\Seen\) MODSEQ \(\d+\)\)$",
                    data[0]), data
    c = Raw(imap)
    c.login()
    c.cmd("s", "SELECT INBOX")
    assert c.cmd("a", "FETCH 1 (FLAGS BOGUS)")[-1].startswith("a BAD")
    assert c.cmd("b", "FETCH 2 FLAGS")[-1].startswith("b BAD")
    assert c.cmd("c", "FETCH x FLAGS")[-1].startswith("c BAD")
    assert c.cmd("d", "FETCH 1 BODY[1.FOO]")[-1].startswith("d BAD")
    m.logout()


def test_store_and_expunge(imap, accounts):
    for i in range(4):
        deliver(accounts, "alice", message(f"m{i}"))
    c = Raw(imap)
    c.login()
    c.cmd("s", "SELECT INBOX")
    assert c.cmd("a", "STORE 1 +FLAGS (\\Seen $Label)") == [
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label)",
        "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen "
        "\\Draft $Label \\*)] Flags permitted.",
        "* 1 FETCH (FLAGS (\\Seen $Label))", "a OK STORE completed."]
    assert c.cmd("b", "STORE 1 -FLAGS.SILENT (\\Seen)") == [
        "b OK STORE completed."]
    assert c.cmd("c", "UID STORE 2:3 FLAGS (\\Deleted)") == [
        "* 2 FETCH (UID 2 FLAGS (\\Deleted))",
        "* 3 FETCH (UID 3 FLAGS (\\Deleted))", "c OK UID STORE completed."]
    assert c.cmd("d", "STORE 1 FLAGS (\\Bogus)")[-1].startswith("d BAD")
    lines = c.cmd("f", "FETCH 4 MODSEQ")
    # RFC 7162 §3.1: the first CONDSTORE enabling command with a
    # mailbox selected announces HIGHESTMODSEQ
    assert re.fullmatch(r"\* OK \[HIGHESTMODSEQ \d+\] Highest", lines[0])
    modseq = int(re.search(r"MODSEQ \((\d+)\)", lines[1]).group(1))
    c.cmd("g", "STORE 4 +FLAGS (\\Flagged)")
    lines = c.cmd("h", f"STORE 4 (UNCHANGEDSINCE {modseq}) "
                       f"+FLAGS (\\Answered)")
    assert lines[-1] == ("h OK [MODIFIED 4] Conditional STORE failed "
                         "for some messages.")
    # UID EXPUNGE removes only the named \Deleted messages.
    assert c.cmd("u", "UID EXPUNGE 3") == ["* 3 EXPUNGE",
                                           "u OK UID EXPUNGE completed."]
    assert c.cmd("e", "EXPUNGE") == ["* 2 EXPUNGE", "e OK EXPUNGE completed."]
    assert c.cmd("n", "SEARCH ALL") == ["* SEARCH 1 2",
                                        "n OK SEARCH completed."]
    c.cmd("x", "EXAMINE INBOX")
    assert c.cmd("y", "STORE 1 +FLAGS (\\Seen)")[-1].startswith(
        "y NO [READ-ONLY]")
    assert c.cmd("z", "EXPUNGE")[-1].startswith("z NO [READ-ONLY]")


def test_copy_move(imap, accounts):
    for i in range(3):
        deliver(accounts, "alice", message(f"m{i}"))
    m = client(imap)
    m.create("Arch")
    m.select("INBOX")
    typ, data = m.copy("1:2", "Arch")
    assert re.match(rb"\[COPYUID \d+ 1:2 1:2\] COPY completed\.", data[0])
    assert m.copy("1", "Nope")[1][0].startswith(b"[TRYCREATE]")
    c = Raw(imap)
    c.login()
    c.cmd("s", "SELECT INBOX")
    lines = c.cmd("m", "UID MOVE 2:3 Arch")
    assert re.match(r"\* OK \[COPYUID \d+ 2:3 3:4\] Moved\.", lines[0])
    assert lines[1:] == ["* 2 EXPUNGE", "* 2 EXPUNGE",
                         "m OK UID MOVE completed."]
    assert m.status("Arch", "(MESSAGES)")[1] == [b'"Arch" (MESSAGES 4)']
    typ, data = m.fetch("1:*", "(UID)")
    m.logout()


def test_search(imap, accounts):
    deliver(accounts, "alice", MIME)
    deliver(accounts, "alice", message("plain words", "Nothing special.\r\n"))
    m = client(imap)
    m.select("INBOX")
    m.store("2", "+FLAGS", r"(\Flagged)")

    def s(*keys, uid=False):
        typ, data = (m.uid("SEARCH", *keys) if uid else m.search(None, *keys))
        assert typ == "OK", data
        return data[0].decode()

    assert s("ALL") == "1 2"
    assert s("FLAGGED") == "2" and s("UNFLAGGED") == "1"
    assert s("SUBJECT", "news") == "1"
    assert s("FROM", "ann@example") == "1"
    assert s("TO", "alice") == "1 2"
    assert s("BODY", "lait") == "1"
    assert s("BODY", "special") == "2"
    # TEXT reads MIME part headers too ("text/plain" in message 1), as
    # Dovecot does; BODY does not
    assert s("TEXT", "plain") == "1 2" and s("BODY", "plain") == ""
    assert s("HEADER", "Content-Type", "multipart") == "1"
    assert s("NOT", "FLAGGED") == "1"
    assert s("OR", "FLAGGED", "SUBJECT", "news") == "1 2"
    assert s("SENTON", "1-Jul-2003") == "1"
    assert s("SENTBEFORE", "2-Jul-2003") == "1"
    assert s("SINCE", "1-Jan-2000") == "1 2"
    assert s("LARGER", "200") == "1" and s("SMALLER", "200") == "2"
    assert s("2:*") == "2" and s("UID", "1") == "1"
    assert s("(FLAGGED TO alice)") == "2"
    assert s("ALL", uid=True) == "1 2"
    m.literal = "Café".encode()
    typ, data = m.search("UTF-8", "SUBJECT")
    assert data == [b"1"]
    m.literal = "café".encode()
    typ, data = m.search("UTF-8", "BODY")
    assert data == [b"1"]
    # legacy charsets work (test_imap_search_charset.py); unknown: NO
    typ, data = m._simple_command("SEARCH", "CHARSET", "KOI8-R", "ALL")
    assert typ == "OK"
    typ, data = m._simple_command("SEARCH", "CHARSET", "X-NO-SUCH", "ALL")
    assert typ == "NO"
    c = Raw(imap)
    c.login()
    c.cmd("s", "SELECT INBOX")
    assert c.cmd("a", "SEARCH BOGUS")[-1] == "a BAD Unknown search key."
    assert c.cmd("b", "SEARCH OR SEEN")[-1].startswith("b BAD")
    assert c.cmd("c", "SEARCH SINCE 40-Foo-2000")[-1].startswith("c BAD")
    m.logout()


def test_curl_fetches_a_message(imap, accounts):
    deliver(accounts, "alice", message("for curl", "Curl body.\r\n"))
    url = f"imap://127.0.0.1:{imap.ports['imap']}/INBOX;UID=1"
    p = subprocess.run(["curl", "-s", "--max-time", "30", "-u",
                        f"alice:{PW}", url], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout == message("for curl", "Curl body.\r\n")


def test_large_fetch_in_parts_and_dropped_client(imap, accounts):
    body = ("x" * 76 + "\r\n") * 1300          # about 100 KB each
    for i in range(12):
        deliver(accounts, "alice", message(f"big{i}", body))
    m = client(imap)
    m.select("INBOX")
    typ, data = m.fetch("1:*", "(UID BODY.PEEK[])")
    assert typ == "OK"
    parts = [d for d in data if isinstance(d, tuple)]
    assert [p[0].split()[2] for p in parts] == [b"%d" % i
                                                for i in range(1, 13)]
    assert all(p[1] == message(f"big{i}", body)
               for i, p in enumerate(parts))
    # A client that asks for everything and goes away mid-reply.
    c = Raw(imap)
    c.login()
    c.cmd("s", "SELECT INBOX")
    c.send("f FETCH 1:* BODY.PEEK[]\r\n")
    c.sock.recv(1000)
    c.close()
    assert m.noop()[0] == "OK"
    m.logout()


def test_esearch_return_options(imap, accounts):
    for i in range(5):
        deliver(accounts, "alice", message(f"m{i}"))
    c = Raw(imap)
    c.login()
    assert "ESEARCH" in c.cmd("c", "CAPABILITY")[0].split()
    c.cmd("s", "SELECT INBOX")
    c.cmd("f", "STORE 2,4:5 +FLAGS (\\Flagged)")
    assert c.cmd("a", "SEARCH RETURN (MIN MAX COUNT) FLAGGED") == [
        '* ESEARCH (TAG "a") MIN 2 MAX 5 COUNT 3', "a OK SEARCH completed."]
    assert c.cmd("b", "UID SEARCH RETURN () FLAGGED") == [
        '* ESEARCH (TAG "b") UID ALL 2,4:5', "b OK UID SEARCH completed."]
    assert c.cmd("d", "SEARCH RETURN (COUNT ALL) SUBJECT nothing") == [
        '* ESEARCH (TAG "d") COUNT 0', "d OK SEARCH completed."]
    assert c.cmd("e", "SEARCH RETURN (ALL) CHARSET UTF-8 UNFLAGGED") == [
        '* ESEARCH (TAG "e") ALL 1,3', "e OK SEARCH completed."]
    assert c.cmd("g", "SEARCH RETURN (BOGUS) ALL")[-1].startswith("g BAD")


def test_condstore(imap, accounts):
    for i in range(3):
        deliver(accounts, "alice", message(f"m{i}"))
    c = Raw(imap)
    c.login()
    assert "CONDSTORE" in c.cmd("c", "CAPABILITY")[0].split()
    lines = c.cmd("s", "SELECT INBOX (CONDSTORE)")
    highest = int(re.search(r"HIGHESTMODSEQ (\d+)", " ".join(lines))
                  .group(1))
    lines = c.cmd("a", "STORE 2 +FLAGS (\\Seen)")
    mo = re.match(r"\* 2 FETCH \(FLAGS \(\\Seen\) MODSEQ \((\d+)\)\)$",
                  lines[0])
    assert mo, lines
    modseq = int(mo.group(1))
    assert modseq > highest
    # CHANGEDSINCE: only what changed after the given MODSEQ
    lines = c.cmd("b", f"FETCH 1:* (FLAGS) (CHANGEDSINCE {highest})")
    assert lines == [f"* 2 FETCH (FLAGS (\\Seen) MODSEQ ({modseq}))",
                     "b OK FETCH completed."]
    lines = c.cmd("d", f"UID SEARCH MODSEQ {modseq}")
    assert lines[0] == f"* SEARCH 2 (MODSEQ {modseq})"
    lines = c.cmd("e", f"UID SEARCH RETURN (COUNT) MODSEQ {modseq}")
    assert lines[0] == f'* ESEARCH (TAG "e") UID COUNT 1 MODSEQ {modseq}'
    # UNCHANGEDSINCE 0 fails everywhere; failed messages get no FETCH
    assert c.cmd("u", "STORE 1:2 (UNCHANGEDSINCE 0) +FLAGS (\\Draft)") == [
        "u OK [MODIFIED 1,2] Conditional STORE failed for some messages."]
    lines = c.cmd("v", f"STORE 1:2 (UNCHANGEDSINCE {modseq - 1}) "
                       f"+FLAGS (\\Answered)")
    assert lines[-1] == "v OK [MODIFIED 2] Conditional STORE failed for " \
        "some messages.", lines
    assert len(lines) == 2 and lines[0].startswith("* 1 FETCH (FLAGS "
                                                   "(\\Answered) MODSEQ")
    assert c.cmd("f", "FETCH 1 FLAGS (CHANGEDSINCE x)")[-1].startswith(
        "f BAD")
    assert c.cmd("g", "SELECT INBOX (BOGUS)")[-1].startswith("g BAD")
    c2 = Raw(imap)
    c2.login()
    assert c2.cmd("e", "ENABLE CONDSTORE") == ["* ENABLED CONDSTORE",
                                               "e OK ENABLE completed."]


def test_searchres(imap, accounts):
    for i in range(4):
        deliver(accounts, "alice", message(f"m{i}"))
    c = Raw(imap)
    c.login()
    assert "SEARCHRES" in c.cmd("c", "CAPABILITY")[0].split()
    c.cmd("s", "SELECT INBOX")
    c.cmd("f", "STORE 2:3 +FLAGS (\\Flagged)")
    # SAVE alone: nothing untagged
    assert c.cmd("a", "SEARCH RETURN (SAVE) FLAGGED") == [
        "a OK SEARCH completed."]
    assert c.cmd("b", "FETCH $ (UID)") == [
        "* 2 FETCH (UID 2)", "* 3 FETCH (UID 3)", "b OK FETCH completed."]
    assert c.cmd("d", "UID SEARCH RETURN (SAVE COUNT) UID $ SEEN") == [
        '* ESEARCH (TAG "d") UID COUNT 0', "d OK UID SEARCH completed."]
    assert c.cmd("e", "FETCH $ (UID)") == ["e OK FETCH completed."]
    c.cmd("g", "SEARCH RETURN (SAVE) 1,4")
    assert c.cmd("h", "UID STORE $ +FLAGS.SILENT (\\Deleted)") == [
        "h OK UID STORE completed."]
    assert c.cmd("i", "SEARCH DELETED") == ["* SEARCH 1 4",
                                            "i OK SEARCH completed."]
    c.cmd("u", "UNSELECT")
    c.cmd("s2", "SELECT INBOX")
    assert c.cmd("j", "FETCH $ (UID)") == ["j OK FETCH completed."]
