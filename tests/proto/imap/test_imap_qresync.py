# SPDX-License-Identifier: MIT
"""QRESYNC (RFC 7162 §3.2), OBJECTID (RFC 8474) and SAVEDATE (RFC 8514)
against the real server: resyncs after expunges made by another IMAP
session, the CLI and MOVE give exactly the UIDs that went; a stale
UIDVALIDITY, known-uids and seq-match data; VANISHED instead of EXPUNGE;
UID FETCH (CHANGEDSINCE n VANISHED); HIGHESTMODSEQ on CLOSE; a lost or
reset expunge history; MAILBOXID, EMAILID, THREADID, SAVEDATE and the
SAVED* search keys."""
import os
import re
import smtplib
import time

import pytest

from imap_helpers import Raw, deliver, message


@pytest.fixture
def imap(imap, accounts):
    """The server of conftest.py, with the CLI at hand as .commune."""
    imap.commune = accounts
    return imap

VANISHED_RE = re.compile(r"^\* VANISHED \(EARLIER\) (\S+)$")


def uidset(text):
    """'1:3,7' -> {1, 2, 3, 7}"""
    out = set()
    for part in text.split(","):
        a, _, b = part.partition(":")
        lo, hi = int(a), int(b or a)
        if lo > hi:
            lo, hi = hi, lo
        assert hi - lo < 100000, text
        out.update(range(lo, hi + 1))
    return out


def code(lines, name):
    """The value of the response code [NAME value] in lines."""
    for line in lines:
        m = re.search(r"\[" + name + r" ([^\]]+)\]", line)
        if m:
            return m.group(1)
    raise AssertionError(f"no {name} in {lines}")


def vanished_earlier(lines):
    found = [VANISHED_RE.match(x) for x in lines]
    found = [m.group(1) for m in found if m]
    assert len(found) <= 1, lines
    return uidset(found[0]) if found else set()


def fetched(lines):
    """uid -> the FETCH line, for the untagged FETCH responses."""
    out = {}
    for line in lines:
        m = re.match(r"^\* \d+ FETCH \(.*UID (\d+)", line)
        if m:
            out[int(m.group(1))] = line
    return out


def session(srv, qresync=True):
    r = Raw(srv)
    r.login()
    if qresync:
        lines = r.cmd("E", "ENABLE QRESYNC")
        assert "* ENABLED QRESYNC" in lines, lines
    return r


def setup_box(imap, count=6):
    """count messages in alice's INBOX; returns (uidvalidity, modseq)
    as a QRESYNC client would have saved them."""
    for i in range(count):
        deliver(imap.commune, "alice", message(f"m{i + 1}"))
    r = session(imap)
    lines = r.cmd("S", "SELECT INBOX")
    assert lines[-1].startswith("S OK"), lines
    uv, ms = int(code(lines, "UIDVALIDITY")), int(code(lines, "HIGHESTMODSEQ"))
    r.cmd("Z", "LOGOUT")
    r.close()
    return uv, ms


def other_session(imap, *commands):
    r = session(imap, qresync=False)
    assert r.cmd("S", "SELECT INBOX")[-1].startswith("S OK")
    for i, c in enumerate(commands):
        lines = r.cmd(f"C{i}", c)
        assert lines[-1].startswith(f"C{i} OK"), lines
    r.cmd("Z", "LOGOUT")
    r.close()


def resync(imap, arg, examine=False):
    r = session(imap)
    lines = r.cmd("Q", f"{'EXAMINE' if examine else 'SELECT'} INBOX "
                       f"(QRESYNC ({arg}))")
    r.cmd("Z", "LOGOUT")
    r.close()
    assert lines[-1].startswith("Q OK"), lines
    return lines


def test_capabilities_and_enable(imap):
    r = Raw(imap)
    caps = r.cmd("C", "CAPABILITY")[0].split()
    for cap in ("QRESYNC", "OBJECTID", "SAVEDATE", "CONDSTORE"):
        assert cap in caps
    r.login()
    assert "* ENABLED QRESYNC" in r.cmd("E", "ENABLE QRESYNC")
    # listed once only
    assert "* ENABLED" in r.cmd("E2", "ENABLE QRESYNC")


def test_qresync_needs_enable(imap):
    r = session(imap, qresync=False)
    lines = r.cmd("Q", "SELECT INBOX (QRESYNC (1 1))")
    assert lines[-1].startswith("Q BAD"), lines
    r = session(imap)
    for bad in ("(QRESYNC)", "(QRESYNC (1))", "(QRESYNC (0 1))",
                "(QRESYNC (1 0))", "(QRESYNC (x 1))",
                "(QRESYNC (1 1 0))", "(QRESYNC (1 1 1:5 (1:2 1)))",
                "(QRESYNC (1 99999999999999999999))", "(FOO)"):
        lines = r.cmd("Q", f"SELECT INBOX {bad}")
        assert lines[-1].startswith("Q BAD"), (bad, lines)
    assert r.cmd("N", "NOOP")[-1].startswith("N OK")


def test_resync_after_other_session(imap):
    uv, ms = setup_box(imap)
    other_session(imap, "STORE 2,4 +FLAGS (\\Deleted)",
                  "STORE 3 +FLAGS (\\Flagged)", "EXPUNGE")
    lines = resync(imap, f"{uv} {ms}")
    assert vanished_earlier(lines) == {2, 4}
    f = fetched(lines)
    assert set(f) == {3}
    assert "\\Flagged" in f[3] and "MODSEQ (" in f[3]
    # Up to date: nothing to report.
    ms2 = int(code(lines, "HIGHESTMODSEQ"))
    assert ms2 > ms
    lines = resync(imap, f"{uv} {ms2}")
    assert vanished_earlier(lines) == set() and fetched(lines) == {}
    # The FETCH responses carry sequence numbers of the new view.
    assert re.match(r"^\* 2 FETCH \(UID 3 ", fetched(resync(
        imap, f"{uv} {ms}"))[3])


def test_resync_after_cli_lmtp_and_move(imap):
    uv, ms = setup_box(imap, 5)
    imap.commune.ok("mailbox", "create", "alice", "Other")
    imap.commune.ok("message", "flag", "alice", "INBOX", "1", "+\\Deleted")
    imap.commune.ok("message", "expunge", "alice", "INBOX")
    imap.commune.ok("message", "move", "alice", "INBOX", "5", "Other")
    other_session(imap, "UID MOVE 3 Other")
    # delivered over LMTP meanwhile: a FETCH, not a VANISHED
    with smtplib.LMTP("127.0.0.1", imap.ports["lmtp"], timeout=30) as l:
        l.sendmail("a@example.net", ["alice"], message("late"))
    lines = resync(imap, f"{uv} {ms}")
    assert vanished_earlier(lines) == {1, 3, 5}
    assert set(fetched(lines)) == {6}
    assert "* 3 EXISTS" in lines


def test_stale_uidvalidity(imap):
    uv, ms = setup_box(imap, 3)
    other_session(imap, "STORE 1 +FLAGS (\\Deleted)", "EXPUNGE")
    lines = resync(imap, f"{uv + 1} {ms}")
    assert vanished_earlier(lines) == set() and fetched(lines) == {}
    assert int(code(lines, "UIDVALIDITY")) == uv


def test_known_uids_and_examine(imap):
    uv, ms = setup_box(imap, 8)
    other_session(imap, "STORE 2,5,7 +FLAGS (\\Deleted)",
                  "STORE 3,6 +FLAGS (\\Seen)", "EXPUNGE")
    lines = resync(imap, f"{uv} {ms} 1:4,7:*", examine=True)
    assert vanished_earlier(lines) == {2, 7}
    assert set(fetched(lines)) == {3}
    assert "READ-ONLY" in lines[-1]


def history_path(imap):
    return os.path.join(imap.commune.base, "Accounts", "alice.macnt",
                        "INBOX.mbox.exp")


def test_lost_history_reports_every_gap(imap):
    uv, ms = setup_box(imap, 6)
    other_session(imap, "STORE 2 +FLAGS (\\Deleted)", "EXPUNGE")
    lines = resync(imap, f"{uv} {ms}")
    assert vanished_earlier(lines) == {2}
    path = history_path(imap)
    assert os.path.exists(path)
    os.unlink(path)
    other_session(imap, "UID STORE 4 +FLAGS (\\Deleted)", "EXPUNGE")
    # The history starts over at the expunge of 4: a client from
    # before it gets every UID that is not there.
    lines = resync(imap, f"{uv} {ms}")
    assert vanished_earlier(lines) == {2, 4}
    lines = resync(imap, f"{uv} {ms} 3:6")
    assert vanished_earlier(lines) == {4}
    # seq-match: the client's message 3 was UID 3, which it still is
    # (nothing below 3 went since), so only UIDs above 3 are reported.
    # Before the expunge of 2 the client had 1..6 at sequence 1..6.
    lines = resync(imap, f"{uv} {ms} 1:6 (1,3 1,3)")
    assert vanished_earlier(lines) == {2, 4}   # seq 3 is UID 5 now
    lines = resync(imap, f"{uv} {ms} 1:6 (1,2 1,3)")
    assert vanished_earlier(lines) == {4}      # seq 2 is UID 3 now
    # A later state the history covers is still exact.
    ms_now = int(code(lines, "HIGHESTMODSEQ"))
    other_session(imap, "UID STORE 6 +FLAGS (\\Deleted)", "EXPUNGE")
    assert vanished_earlier(resync(imap, f"{uv} {ms_now}")) == {6}


def test_reindex_moves_horizon(imap):
    uv, ms = setup_box(imap, 4)
    other_session(imap, "STORE 1 +FLAGS (\\Deleted)", "EXPUNGE")
    imap.commune.ok("reindex", "alice", "INBOX")
    lines = resync(imap, f"{uv} {ms}")
    assert vanished_earlier(lines) == {1}
    # every message got a new MODSEQ
    assert set(fetched(lines)) == {2, 3, 4}


def test_vanished_replaces_expunge(imap):
    for i in range(4):
        deliver(imap.commune, "alice", message(f"m{i}"))
    r = session(imap)
    lines = r.cmd("S", "SELECT INBOX")
    uv = int(code(lines, "UIDVALIDITY"))
    lines = r.cmd("A", "STORE 1,3 +FLAGS.SILENT (\\Deleted)")
    lines = r.cmd("B", "EXPUNGE")
    assert "* VANISHED 1,3" in lines, lines
    assert not any(x.endswith(" EXPUNGE") for x in lines), lines
    # the tagged OK says where a later resync starts: nothing new there
    assert lines[-1].startswith("B OK [HIGHESTMODSEQ"), lines
    after = int(code(lines[-1:], "HIGHESTMODSEQ"))
    assert vanished_earlier(resync(imap, f"{uv} {after}")) == set()
    assert vanished_earlier(resync(imap, f"{uv} {after - 1}")) == {1, 3}
    # RFC 7162 §3.2.4: FETCH responses for flag changes carry the UID
    lines = r.cmd("C", "STORE 1 +FLAGS (\\Flagged)")
    assert re.match(r"^\* 1 FETCH \(UID 2 FLAGS \(\\Flagged\) MODSEQ", lines[0]), \
        lines
    other_session(imap, "UID STORE 2 -FLAGS (\\Flagged)")
    lines = r.cmd("C2", "NOOP")
    assert re.match(r"^\* 1 FETCH \(UID 2 FLAGS \(\) MODSEQ", lines[0]), lines
    # Another session expunges: this one learns it as VANISHED too.
    other_session(imap, "UID STORE 4 +FLAGS (\\Deleted)", "EXPUNGE")
    lines = r.cmd("N", "NOOP")
    assert lines == ["* VANISHED 4", "N OK NOOP completed."], lines
    # Without QRESYNC: EXPUNGE as before.
    plain = session(imap, qresync=False)
    assert plain.cmd("S", "SELECT INBOX")[-1].startswith("S OK")
    deliver(imap.commune, "alice", message("x"))
    other_session(imap, "STORE 1 +FLAGS (\\Deleted)", "EXPUNGE")
    lines = plain.cmd("N", "NOOP")
    assert "* 1 EXPUNGE" in lines, lines


def test_uid_fetch_vanished(imap):
    uv, ms = setup_box(imap, 6)
    r = session(imap)
    assert r.cmd("S", "SELECT INBOX")[-1].startswith("S OK")
    other_session(imap, "STORE 2,3 +FLAGS (\\Deleted)",
                  "STORE 5 +FLAGS (\\Answered)", "EXPUNGE")
    # the sync of NOOP reports the expunges; the client then asks what
    # changed since ms
    lines = r.cmd("N", "NOOP")
    assert "* VANISHED 2:3" in lines, lines
    lines = r.cmd("F", f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {ms} VANISHED)")
    assert lines[-1].startswith("F OK"), lines
    assert lines[0] == "* VANISHED (EARLIER) 2:3", lines
    assert set(fetched(lines)) == {5}
    lines = r.cmd("G", f"UID FETCH 4:6 (FLAGS) (VANISHED CHANGEDSINCE {ms})")
    assert vanished_earlier(lines) == set() and set(fetched(lines)) == {5}
    for bad in (f"FETCH 1:* (FLAGS) (CHANGEDSINCE {ms} VANISHED)",
                "UID FETCH 1:* (FLAGS) (VANISHED)",
                f"UID FETCH 1:* FLAGS (CHANGEDSINCE {ms} VANISHED VANISHED)"):
        assert r.cmd("B", bad)[-1].startswith("B BAD"), bad
    plain = session(imap, qresync=False)
    assert plain.cmd("S", "SELECT INBOX")[-1].startswith("S OK")
    lines = plain.cmd("B", f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {ms} "
                           "VANISHED)")
    assert lines[-1].startswith("B BAD"), lines


def test_close_highestmodseq_and_closed(imap):
    uv, ms = setup_box(imap, 3)
    r = session(imap)
    assert r.cmd("S", "SELECT INBOX")[-1].startswith("S OK")
    lines = r.cmd("S2", "SELECT INBOX")
    assert lines[0].startswith("* OK [CLOSED]"), lines
    r.cmd("D", "STORE 2 +FLAGS.SILENT (\\Deleted)")
    lines = r.cmd("C", "CLOSE")
    after = int(code(lines, "HIGHESTMODSEQ"))
    # Resyncing from the CLOSE value shows nothing new, from before the
    # STORE the expunge of 2.
    assert vanished_earlier(resync(imap, f"{uv} {after}")) == set()
    assert vanished_earlier(resync(imap, f"{uv} {ms}")) == {2}


def test_mdir_mailbox(imap):
    imap.commune.ok("mailbox", "create", "alice", "Dir", "--format", "mdir")
    for i in range(4):
        deliver(imap.commune, "alice", message(f"d{i}"), "--mailbox", "Dir")
    r = session(imap)
    lines = r.cmd("S", "SELECT Dir")
    uv, ms = int(code(lines, "UIDVALIDITY")), int(code(lines, "HIGHESTMODSEQ"))
    lines = r.cmd("X", "UID STORE 1,4 +FLAGS (\\Deleted)")
    lines = r.cmd("Y", "UID EXPUNGE 1:4")
    assert "* VANISHED 1,4" in lines, lines
    lines = r.cmd("Q", f"SELECT Dir (QRESYNC ({uv} {ms}))")
    assert vanished_earlier(lines) == {1, 4}
    assert os.path.exists(os.path.join(imap.commune.base, "Accounts",
                                       "alice.macnt", "Dir.mdir.exp"))


# ---- OBJECTID ----

def test_mailboxid(imap):
    r = session(imap, qresync=False)
    lines = r.cmd("C", "CREATE Work")
    mid = code(lines, "MAILBOXID").strip("()")
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,255}", mid)
    lines = r.cmd("S", "SELECT Work")
    assert code(lines, "MAILBOXID").strip("()") == mid
    lines = r.cmd("T", "STATUS Work (MAILBOXID MESSAGES)")
    assert f"MAILBOXID ({mid})" in lines[0], lines
    inbox = code(r.cmd("S2", "SELECT INBOX"), "MAILBOXID").strip("()")
    assert inbox != mid
    # RFC 8474 §4.1: kept across RENAME; a renamed INBOX keeps its id
    # and the new INBOX gets another.
    assert r.cmd("U", "UNSELECT")[-1].startswith("U OK")
    assert r.cmd("R", "RENAME Work Play")[-1].startswith("R OK")
    assert f"MAILBOXID ({mid})" in r.cmd("T2", "STATUS Play (MAILBOXID)")[0]
    assert r.cmd("R2", "RENAME INBOX Old")[-1].startswith("R2 OK")
    assert f"MAILBOXID ({inbox})" in r.cmd("T3", "STATUS Old (MAILBOXID)")[0]
    new_inbox = r.cmd("T4", "STATUS INBOX (MAILBOXID)")[0]
    assert inbox not in new_inbox and "MAILBOXID (" in new_inbox
    # Deleted and created again: another id.
    assert r.cmd("D", "DELETE Play")[-1].startswith("D OK")
    lines = r.cmd("C2", "CREATE Play")
    assert code(lines, "MAILBOXID").strip("()") != mid


def test_emailid_threadid(imap):
    for i in range(3):
        deliver(imap.commune, "alice", message(f"e{i}"))
    r = session(imap, qresync=False)
    r.cmd("S", "SELECT INBOX")
    lines = r.cmd("F", "FETCH 1:* (UID EMAILID THREADID)")
    ids = re.findall(r"EMAILID \(([A-Za-z0-9_-]+)\)", " ".join(lines))
    assert len(ids) == 3 and len(set(ids)) == 3, lines
    assert all("THREADID NIL" in x for x in lines[:-1]), lines
    r2 = session(imap, qresync=False)
    r2.cmd("S", "EXAMINE INBOX")
    again = r2.cmd("F", "FETCH 1:* (EMAILID)")
    assert re.findall(r"EMAILID \(([A-Za-z0-9_-]+)\)", " ".join(again)) == ids
    # A copy is another stored message: its own id.
    r.cmd("C", "CREATE Box")
    r.cmd("P", "COPY 1 Box")
    r.cmd("S2", "SELECT Box")
    copy_id = re.findall(r"EMAILID \(([A-Za-z0-9_-]+)\)",
                         " ".join(r.cmd("F2", "FETCH 1 EMAILID")))
    assert len(copy_id) == 1 and copy_id[0] not in ids


# ---- SAVEDATE ----

def test_savedate(imap):
    before = time.time()
    uid = deliver(imap.commune, "alice", message("s"))
    r = session(imap, qresync=False)
    r.cmd("S", "SELECT INBOX")
    # APPEND with an old internal date: SAVEDATE is still now.
    lines = r.cmd("A", 'APPEND INBOX "01-Jan-2001 00:00:00 +0000" {5+}\r\n'
                  "hello")
    assert lines[-1].startswith("A OK"), lines
    r.cmd("N", "NOOP")
    lines = r.cmd("F", "UID FETCH 1:* (INTERNALDATE SAVEDATE)")
    dates = re.findall(r'SAVEDATE "([^"]+)"', " ".join(lines))
    assert len(dates) == 2, lines
    for d in dates:
        t = time.mktime(time.strptime(d[:20], "%d-%b-%Y %H:%M:%S")) - \
            time.timezone
        assert before - 5 <= t <= time.time() + 5, d
    assert '"01-Jan-2001 00:00:00 +0000"' in lines[1]
    today = time.strftime("%d-%b-%Y", time.gmtime())
    assert r.cmd("Q", f"UID SEARCH SAVEDON {today}")[0] == \
        f"* SEARCH {uid} {uid + 1}"
    assert r.cmd("Q", f"UID SEARCH SAVEDSINCE {today}")[0] == \
        f"* SEARCH {uid} {uid + 1}"
    assert r.cmd("Q", f"UID SEARCH SAVEDBEFORE {today}")[0] == "* SEARCH"
    assert r.cmd("Q", "UID SEARCH SAVEDBEFORE 1-Jan-2002")[0] == "* SEARCH"
    assert r.cmd("Q", "UID SEARCH BEFORE 1-Jan-2002")[0] == \
        f"* SEARCH {uid + 1}"
    assert r.cmd("B", "SEARCH SAVEDON notadate")[-1].startswith("B BAD")


def test_history_follows_rename_and_delete(imap):
    imap.commune.ok("mailbox", "create", "alice", "Old")
    for i in range(4):
        deliver(imap.commune, "alice", message(f"r{i}"), "--mailbox", "Old")
    r = session(imap)
    lines = r.cmd("S", "SELECT Old")
    uv, ms = int(code(lines, "UIDVALIDITY")), int(code(lines, "HIGHESTMODSEQ"))
    r.cmd("X", "UID STORE 2 +FLAGS.SILENT (\\Deleted)")
    r.cmd("Y", "EXPUNGE")
    r.cmd("U", "UNSELECT")
    assert r.cmd("R", "RENAME Old New")[-1].startswith("R OK")
    acct = os.path.join(imap.commune.base, "Accounts", "alice.macnt")
    assert os.path.exists(os.path.join(acct, "New.mbox.exp"))
    assert not os.path.exists(os.path.join(acct, "Old.mbox.exp"))
    # same UIDVALIDITY after RENAME: still an exact answer
    lines = r.cmd("Q", f"SELECT New (QRESYNC ({uv} {ms} 1:4))")
    assert vanished_earlier(lines) == {2}
    r.cmd("U2", "UNSELECT")
    assert r.cmd("D", "DELETE New")[-1].startswith("D OK")
    assert not os.path.exists(os.path.join(acct, "New.mbox.exp"))


# ---- Debian Dovecot as the oracle ----

class Side:
    """One server of the comparison: raw sessions, logged in."""

    def __init__(self, name, connect, user, password):
        self.name, self.connect = name, connect
        self.user, self.password = user, password

    def session(self, qresync=True):
        r = Raw(None, sock=self.connect())
        lines = r.cmd("L", f"LOGIN {self.user} {self.password}")
        assert lines[-1].startswith("L OK"), (self.name, lines)
        if qresync:
            assert "* ENABLED QRESYNC" in r.cmd("E", "ENABLE QRESYNC")
        return r


def scenario(side):
    """Runs the same commands against side; returns what a QRESYNC client
    learns, without the values that differ by design (MODSEQs,
    UIDVALIDITY, texts)."""
    out = {}
    r = side.session(qresync=False)
    for i in range(10):
        body = message(f"o{i}")
        lines = r.cmd("A", f"APPEND INBOX {{{len(body)}+}}\r\n"
                           + body.decode())
        assert lines[-1].startswith("A OK"), (side.name, lines)
    r.cmd("Z", "LOGOUT")
    q = side.session()
    lines = q.cmd("S", "SELECT INBOX")
    uv = int(code(lines, "UIDVALIDITY"))
    ms = int(code(lines, "HIGHESTMODSEQ"))
    o = side.session(qresync=False)
    o.cmd("S", "SELECT INBOX")
    for c in ("CREATE Other", "UID STORE 2,5,9 +FLAGS.SILENT (\\Deleted)",
              "UID STORE 3,7 +FLAGS.SILENT (\\Seen $Work)",
              "UID EXPUNGE 2,5", "UID MOVE 10 Other"):
        assert o.cmd("C", c)[-1].startswith("C OK"), (side.name, c)
    # live: VANISHED of what went, FETCH UID FLAGS of what changed
    lines = q.cmd("N", "NOOP")
    live = [x for x in lines if x.startswith("* VANISHED ")]
    assert len(live) <= 1 and "EXPUNGE" not in " ".join(lines), lines
    flags = {}
    for uid, line in fetched(lines).items():
        m = re.search(r"FLAGS \(([^)]*)\)", line)
        # Commune keeps no \Recent (docs/architecture.md)
        flags[uid] = sorted(f for f in m.group(1).split()
                            if f != "\\Recent")
    out["live"] = (sorted(uidset(live[0].split()[2])) if live else [],
                   flags)
    q.cmd("Z", "LOGOUT")
    for name, arg in (("full", f"{uv} {ms}"), ("known", f"{uv} {ms} 1:6"),
                      ("stale", f"{uv + 1} {ms}")):
        s = side.session()
        lines = s.cmd("Q", f"SELECT INBOX (QRESYNC ({arg}))")
        out[name] = (sorted(vanished_earlier(lines)),
                     sorted(fetched(lines)))
        lines = s.cmd("F", f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {ms} "
                           "VANISHED)")
        out[name + "-fetch"] = (sorted(vanished_earlier(lines)),
                                sorted(fetched(lines)))
        s.cmd("Z", "LOGOUT")
    return out


def test_same_answers_as_dovecot(imap):
    from dovecot_oracle import Dovecot, PASSWORD, USER
    with Dovecot() as d:
        theirs = scenario(Side("dovecot", d.connect, USER, PASSWORD))
    ours = scenario(Side("commune", lambda: imap.connect("imap"),
                         "alice", "pw"))
    assert ours == theirs


def test_shared_mailbox_has_the_owners_ids(imap):
    """~alice/Shared (RFC 4314 shared namespace) is the same mailbox and
    the same messages for dave: the same MAILBOXID and EMAILIDs."""
    imap.commune.ok("account", "create", "dave", "--password", "pw")
    imap.commune.ok("mailbox", "create", "alice", "Shared")
    deliver(imap.commune, "alice", message("s"), "--mailbox", "Shared")
    a = session(imap, qresync=False)
    assert a.cmd("G", 'SETACL Shared dave "lr"')[-1].startswith("G OK")
    mid = code(a.cmd("S", "EXAMINE Shared"), "MAILBOXID")
    eid = a.cmd("F", "FETCH 1 EMAILID")[0]
    d = Raw(imap)
    d.login("dave")
    lines = d.cmd("S", 'EXAMINE "~alice/Shared"')
    assert lines[-1].startswith("S OK"), lines
    assert code(lines, "MAILBOXID") == mid
    assert d.cmd("F", "FETCH 1 EMAILID")[0] == eid
    assert f"MAILBOXID {mid}" in \
        d.cmd("T", 'STATUS "~alice/Shared" (MAILBOXID)')[0]


def test_idle_reports_vanished(imap):
    for i in range(3):
        deliver(imap.commune, "alice", message(f"i{i}"))
    r = session(imap)
    assert r.cmd("S", "SELECT INBOX")[-1].startswith("S OK")
    r.send("I IDLE\r\n")
    assert r.line().startswith("+ ")
    other_session(imap, "UID STORE 2 +FLAGS (\\Deleted)", "UID EXPUNGE 2")
    r.sock.settimeout(10)
    got = []
    deadline = time.monotonic() + 10
    while "* VANISHED 2" not in got and len(got) < 5 and \
            time.monotonic() < deadline:
        got.append(r.line())
    # the \Deleted flag may show first; never an EXPUNGE
    assert "* VANISHED 2" in got and not any("EXPUNGE" in x for x in got), \
        got
    r.send("DONE\r\n")
    assert r.until_tagged("I")[-1].startswith("I OK")
