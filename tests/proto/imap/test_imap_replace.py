# SPDX-License-Identifier: MIT
"""REPLACE and UID REPLACE (RFC 8508) through the real `commune serve`:
the new message is appended (APPENDUID in an untagged OK) before the
old one is expunged, into the same or another mailbox; nothing changes
when the append fails; errors are BAD/NO with the right codes."""
import re
import signal

import pytest

from imap_helpers import Raw, client, deliver, message


def replace(c, tag, cmd, msg, flags="", uid=False):
    flags = f" ({flags})" if flags else ""
    verb = "UID REPLACE" if uid else "REPLACE"
    c.send(f"{tag} {verb} {cmd}{flags} {{{len(msg)}+}}\r\n".encode() +
           msg + b"\r\n")
    return c.until_tagged(tag)


def body(c, tag, seq):
    lines = c.cmd(tag, f"FETCH {seq} (FLAGS BODY.PEEK[HEADER.FIELDS "
                  f"(SUBJECT)])")
    return "\n".join(lines)


def selected(imap, accounts, n=3):
    for i in range(n):
        deliver(accounts, "alice", message(f"old{i + 1}"))
    c = Raw(imap)
    c.login()
    c.cmd("s", "SELECT INBOX")
    return c


def test_replace_in_selected_mailbox(imap, accounts):
    c = selected(imap, accounts)
    assert "REPLACE" in c.cmd("c", "CAPABILITY")[0].split()
    c.cmd("d", "STORE 3 +FLAGS.SILENT (\\Deleted)")
    lines = replace(c, "r", "2 INBOX", message("new2"), "\\Seen $Edited")
    assert re.match(r"\* OK \[APPENDUID \d+ 4\] ", lines[0]), lines
    assert "* 2 EXPUNGE" in lines
    assert "* 3 EXISTS" in lines
    assert lines[-1] == "r OK REPLACE completed."
    # the other \Deleted message was left alone
    lines = c.cmd("f", "UID FETCH 1:* (FLAGS)")
    assert lines[:-1] == ["* 1 FETCH (UID 1 FLAGS ())",
                          "* 2 FETCH (UID 3 FLAGS (\\Deleted))",
                          "* 3 FETCH (UID 4 FLAGS (\\Seen $Edited))"]
    assert "Subject: new2" in body(c, "b", 3)
    # another session sees the same
    m = client(imap)
    m.select("INBOX")
    typ, data = m.search(None, "SUBJECT", "old2")
    assert data == [b""]
    typ, data = m.search(None, "SUBJECT", "new2")
    assert data == [b"3"]
    m.logout()


def test_uid_replace_into_other_mailbox(imap, accounts):
    c = selected(imap, accounts)
    c.cmd("c", "CREATE Drafts")
    lines = replace(c, "u", "1 Drafts", message("draft"), uid=True)
    assert re.match(r"\* OK \[APPENDUID \d+ 1\] ", lines[0]), lines
    assert "* 1 EXPUNGE" in lines
    assert not any("EXISTS" in x for x in lines)
    assert lines[-1] == "u OK UID REPLACE completed."
    lines = c.cmd("t", "STATUS Drafts (MESSAGES)")
    assert lines[0] == '* STATUS "Drafts" (MESSAGES 1)'
    assert c.cmd("v", "UID SEARCH ALL")[0] == "* SEARCH 2 3"


def test_replace_failures_change_nothing(imap, accounts):
    c = selected(imap, accounts)
    lines = replace(c, "a", "2 Nope", message("x"))
    assert lines[-1].startswith("a NO [TRYCREATE]"), lines
    assert replace(c, "b", "9 INBOX", message("x"))[-1].startswith("b BAD")
    lines = replace(c, "n", "99 INBOX", message("x"), uid=True)
    assert lines[-1].startswith("n NO [NONEXISTENT]"), lines
    assert replace(c, "e", "1 INBOX", b"")[-1].startswith("e NO")
    lines = replace(c, "f", "1 INBOX", message("x"), "\\Recent")
    assert lines[-1].startswith("f BAD"), lines
    c.send("g REPLACE 1 INBOX\r\n")
    assert c.until_tagged("g")[-1].startswith("g BAD")
    lines = c.cmd("h", "FETCH 1:* (UID FLAGS)")
    assert lines[:-1] == ["* 1 FETCH (UID 1 FLAGS ())",
                          "* 2 FETCH (UID 2 FLAGS ())",
                          "* 3 FETCH (UID 3 FLAGS ())"]
    assert c.cmd("i", "STATUS INBOX (MESSAGES UIDNEXT)")[0] == \
        '* STATUS "INBOX" (MESSAGES 3 UIDNEXT 4)'
    # read-only: NO before anything is appended
    c.cmd("x", "EXAMINE INBOX")
    lines = replace(c, "r", "1 INBOX", message("x"))
    assert lines[-1].startswith("r NO [READ-ONLY]"), lines
    assert c.cmd("j", "STATUS INBOX (MESSAGES UIDNEXT)")[0] == \
        '* STATUS "INBOX" (MESSAGES 3 UIDNEXT 4)'


def test_replace_when_expunged_elsewhere(imap, accounts):
    c = selected(imap, accounts)
    m = client(imap)
    m.select("INBOX")
    m.store("2", "+FLAGS", "\\Deleted")
    m.expunge()
    m.logout()
    lines = replace(c, "a", "2 INBOX", message("late"), uid=True)
    # either the message was still there in our view and is replaced,
    # or it is gone and nothing is appended; never a half-done state
    st = c.cmd("s", "STATUS INBOX (MESSAGES UIDNEXT)")[0]
    if lines[-1].startswith("a OK"):
        assert st == '* STATUS "INBOX" (MESSAGES 3 UIDNEXT 5)', (lines, st)
    else:
        assert re.match(r"a NO \[EXPUNGEISSUED\]", lines[-1]), lines
        assert st == '* STATUS "INBOX" (MESSAGES 2 UIDNEXT 4)', (lines, st)


def test_replace_rev2_and_literal8(imap, accounts):
    deliver(accounts, "alice", message("old"))
    c = Raw(imap)
    c.login()
    assert c.cmd("e", "ENABLE IMAP4rev2")[0] == "* ENABLED IMAP4rev2"
    c.cmd("s", "SELECT INBOX")
    msg = message("bin", b"a\x00b\r\n")
    c.send(f"r REPLACE 1 INBOX ~{{{len(msg)}+}}\r\n".encode() + msg +
           b"\r\n")
    lines = c.until_tagged("r")
    assert lines[-1] == "r OK REPLACE completed.", lines
    # the NUL is kept through base64 (RFC 3516 §4.4, mime-binary.h)
    assert c.cmd("f", "FETCH 1 (UID BINARY.SIZE[1])")[0] == \
        "* 1 FETCH (UID 2 BINARY.SIZE[1] 5)"


def test_replace_over_quota_changes_nothing(imap, accounts):
    """The new message must be stored before the old one goes, so a
    mailbox at its message limit refuses REPLACE with [OVERQUOTA] and
    keeps the old message (RFC 8508 §3.4: nothing happens on error)."""
    c = selected(imap, accounts)
    accounts.ok("account", "quota", "alice", "--messages", "3")
    lines = replace(c, "q", "2 INBOX", message("new2"))
    assert lines[-1].startswith("q NO [OVERQUOTA]"), lines
    assert not any("EXPUNGE" in x or "APPENDUID" in x for x in lines)
    lines = c.cmd("h", "FETCH 1:* (UID FLAGS)")
    assert lines[:-1] == ["* 1 FETCH (UID 1 FLAGS ())",
                          "* 2 FETCH (UID 2 FLAGS ())",
                          "* 3 FETCH (UID 3 FLAGS ())"]
    accounts.ok("account", "quota", "alice", "--messages", "4")
    lines = replace(c, "r", "2 INBOX", message("new2"))
    assert lines[-1] == "r OK REPLACE completed.", lines


# ---- crash safety: kill the daemon at every write of a REPLACE ----

CRASH_ROUNDS_MAX = 40


def start_server(accounts, tmp_path, name, env=None):
    """A `commune serve` outside the serve fixture, which would count a
    killed daemon as a failure."""
    from proto.conftest import Server
    try:
        return Server(accounts.bin, accounts.base, tmp_path / name,
                      ["imap"], ["--allow-plaintext-auth"], env=env)
    except AssertionError:
        return None     # killed before it listened


def subjects(srv, user):
    c = Raw(srv)
    c.login(user)
    c.cmd("s", "SELECT INBOX")
    lines = c.cmd("f", "UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    got = {}
    for i, line in enumerate(lines):
        m = re.match(r"\* \d+ FETCH \(UID (\d+) BODY", line)
        if m:
            subj = lines[i + 1].split(":", 1)[1].strip()
            got[subj] = int(m.group(1))
    c.close()
    return got


@pytest.mark.parametrize("user", ["alice", "carol"])   # mbox, mdir
def test_replace_survives_a_crash_at_every_write(accounts, tmp_path, user):
    deliver(accounts, user, message("gen0"))
    cur = "gen0"
    for k in range(1, CRASH_ROUNDS_MAX + 1):
        new = f"gen{k}"
        srv = start_server(accounts, tmp_path, f"crash-{k}.log",
                           {"COMMUNE_VFS_CRASH": str(k)})
        acked = False
        if srv is not None:
            try:
                c = Raw(srv)
                c.login(user)
                c.cmd("s", "SELECT INBOX")
                lines = replace(c, "r", "1 INBOX", message(new), "\\Seen")
                acked = lines[-1] == "r OK REPLACE completed."
            except (EOFError, OSError):
                pass
            # killed during the command, or by a write of its shutdown
            code = srv.stop(sig=None if srv.proc.poll() is not None
                            else signal.SIGTERM)
            assert code in (0, -signal.SIGKILL), srv.log()
            survived = code == 0
            assert not srv.sanitizer_report(), srv.log()
        else:
            survived = False
        check = accounts.run("check", user)
        assert check.returncode == 0, (k, check.stdout, check.stderr)
        srv = start_server(accounts, tmp_path, f"after-{k}.log")
        got = subjects(srv, user)
        # never neither; nothing else; an OK means it is done
        assert set(got) in ({cur}, {new}, {cur, new}), (k, got)
        if acked:
            assert set(got) == {new}, (k, got)
        if cur in got and new in got:
            c = Raw(srv)
            c.login(user)
            c.cmd("s", "SELECT INBOX")
            c.cmd("d", f"UID STORE {got[cur]} +FLAGS.SILENT (\\Deleted)")
            c.cmd("x", f"UID EXPUNGE {got[cur]}")
            c.close()
        if new in got:
            cur = new
        srv.assert_clean_exit()
        if survived and acked:
            return      # k is past the last write of a REPLACE
    raise AssertionError("REPLACE never completed without a crash")
