# SPDX-License-Identifier: MIT
"""Fault injection through the running server (lib/vfs.h).

`commune serve` is started with COMMUNE_VFS_FAIL=OP:N:ERRNO for OP in
write, fsync, rename and ERRNO in EIO, ENOSPC, for N in N_VALUES (the N-th
such call of the daemon process fails once). Each start runs a fixed set
of writers: LMTP deliveries to an mbox and an mdir account, IMAP APPEND
to an mdir and an mbox mailbox and an IMAP STORE. Every writer either
succeeds, or its client gets a clear error:

- LMTP 451 for EIO, 452 for ENOSPC (4xx: the MTA retries);
- IMAP NO [SERVERBUG] for EIO, NO [OVERQUOTA] for ENOSPC;

the server stays up (NOOP answers after the failure), and nothing is
half-written: `commune check` is clean for every account, a refused
message is absent, an accepted one present once, message counts grow by
exactly the successes and a refused STORE left the flags as they were.
The CLI gets the same faults: exit 75 and no change.
"""
import re
import smtplib

import pytest

from crash_harness import Imap, message

PW = "pw"
N_VALUES = (1, 2, 3, 4, 6, 9, 13)   # the failing call, per (op, errno)
LMTP_CODE = {"EIO": 451, "ENOSPC": 452}
IMAP_CODE = {"EIO": "[SERVERBUG]", "ENOSPC": "[OVERQUOTA]"}
# (account, mailbox) each writer uses
BOXES = [("alice", "INBOX"), ("alice", "Mdir"), ("bob", "INBOX"),
         ("carol", "INBOX")]


def listing(commune, acct, box):
    rows = {}
    for line in commune.ok("message", "list", acct, box).splitlines():
        if line.strip():
            p = line.split("\t")
            rows.setdefault(p[4], []).append((int(p[0]), p[1]))
    return rows


def check_all(commune):
    for acct in ("alice", "bob", "carol"):
        p = commune.run("check", acct)
        assert p.returncode == 0, (acct, p.stdout, p.stderr)


@pytest.fixture
def fault_base(commune):
    commune.ok("account", "create", "alice", "--password", PW)
    commune.ok("mailbox", "create", "alice", "Mdir", "--format", "mdir")
    commune.ok("account", "create", "bob", "--password", PW,
               "--type", "mbox")
    commune.ok("account", "create", "carol", "--password", PW,
               "--type", "mdir")
    for acct, box in BOXES:
        commune.ok("deliver", acct, "--mailbox", box,
                   input=message(f"seed-{acct}-{box}"))
    return commune


def lmtp_deliver(srv, acct, token):
    with smtplib.LMTP("127.0.0.1", srv.ports["lmtp"], timeout=30) as c:
        c.ehlo("fault.example")
        code, _ = c.mail("f@example.org")
        assert code == 250
        code, _ = c.rcpt(f"{acct}@localhost")
        if code != 250:
            return code
        c.putcmd("data")
        code, _ = c.getreply()
        assert code == 354
        c.send(message(token) + b".\r\n")
        code, _ = c.getreply()
        return code


@pytest.mark.parametrize("err", ["EIO", "ENOSPC"])
@pytest.mark.parametrize("op", ["write", "fsync", "rename"])
def test_fault_server(fault_base, serve, op, err):
    commune = fault_base
    expect = {k: set(listing(commune, *k)) for k in BOXES}
    failures = {"lmtp": 0, "append": 0, "store": 0}
    for n in N_VALUES:
        srv = serve(["lmtp", "imap"], "--allow-plaintext-auth",
                    env={"COMMUNE_VFS_FAIL": f"{op}:{n}:{err}",
                         "ASAN_OPTIONS": "detect_leaks=0"})
        imap = Imap(srv.ports["imap"], "alice")
        tok = f"{op}-{err}-{n}"
        # LMTP: mbox (alice INBOX, bob) and mdir (carol)
        for acct in ("alice", "bob", "carol"):
            code = lmtp_deliver(srv, acct, f"{tok}-l{acct}")
            if code == 250:
                expect[(acct, "INBOX")].add(f"{tok}-l{acct}")
            else:
                assert code == LMTP_CODE[err], (op, err, n, acct, code)
                failures["lmtp"] += 1
        # IMAP APPEND to mdir and mbox
        for box in ("Mdir", "INBOX"):
            ok, lines = imap.cmd(f"APPEND {box} (kwx)",
                                 message(f"{tok}-a{box}"))
            if ok:
                expect[("alice", box)].add(f"{tok}-a{box}")
            else:
                assert IMAP_CODE[err] in lines[-1], (op, err, n, lines)
                failures["append"] += 1
        # IMAP STORE on the seed message of Mdir
        assert imap.select("Mdir")
        before = listing(commune, "alice", "Mdir")[f"seed-alice-Mdir"]
        kw = f"k{n}"
        ok, lines = imap.cmd(f"STORE 1 +FLAGS.SILENT ({kw})")
        if not ok:
            assert IMAP_CODE[err] in lines[-1], (op, err, n, lines)
            failures["store"] += 1
        ok2, lines = imap.cmd("NOOP")
        assert ok2, lines           # still up after the failures
        imap.close()
        assert srv.proc.poll() is None
        srv.assert_clean_exit()
        after = listing(commune, "alice", "Mdir")[f"seed-alice-Mdir"]
        assert len(after) == 1
        if ok:
            assert kw in after[0][1], (n, after)
        else:
            assert after == before, (n, before, after)
        check_all(commune)
        for key, tokens in expect.items():
            rows = listing(commune, *key)
            dup = {t: r for t, r in rows.items() if len(r) > 1}
            assert not dup, (key, dup)
            assert set(rows) == tokens, (op, err, n, key,
                                         set(rows) ^ tokens)
    print(f"{op}:{err}: refused {failures}")
    assert failures["lmtp"] and failures["append"], \
        f"{op}:{err}: LMTP or APPEND never saw the fault: {failures}"


@pytest.mark.parametrize("err", ["EIO", "ENOSPC"])
@pytest.mark.parametrize("op", ["write", "fsync", "rename"])
def test_fault_cli(fault_base, op, err):
    """The CLI writers under the same faults: exit 75, nothing changed."""
    commune = fault_base
    refused = 0
    for n in range(1, 8):
        before = listing(commune, "carol", "INBOX")
        tok = f"cli-{op}-{err}-{n}"
        p = commune.run("deliver", "carol", input=message(tok),
                        env={"COMMUNE_VFS_FAIL": f"{op}:{n}:{err}"})
        rows = listing(commune, "carol", "INBOX")
        if p.returncode == 0:
            assert tok in rows and len(rows[tok]) == 1
        else:
            assert p.returncode == 75, (n, p.returncode, p.stderr)
            assert rows == before
            refused += 1
        check_all(commune)
    assert refused > 0


# ---- COPY, MOVE, STORE + EXPUNGE under faults ----

# (verb, source, target): alice's INBOX is .mbox, Mdir is .mdir
MAILBOX_OPS = [("COPY", "INBOX", "Mdir"), ("COPY", "Mdir", "INBOX"),
               ("MOVE", "INBOX", "Mdir"), ("MOVE", "Mdir", "INBOX"),
               ("EXPUNGE", "INBOX", None), ("EXPUNGE", "Mdir", None)]


def box_state(commune, imap, box):
    """Each token's UIDs and flags (a failed operation leaves them as
    they were) and UIDNEXT (which it may only raise)."""
    ok, lines = imap.cmd(f"STATUS {box} (UIDNEXT MESSAGES)")
    assert ok, lines
    rows = listing(commune, "alice", box)
    uidnext = [int(m.group(1)) for m in
               (re.search(r"UIDNEXT (\d+)", l) for l in lines) if m]
    assert len(uidnext) == 1, lines
    return {"uidnext": uidnext[0], "rows": rows}


def first_token(state):
    """(token, uid) of the lowest UID in a listing."""
    t, r = min(state["rows"].items(), key=lambda kv: kv[1][0][0])
    return t, r[0][0]


# the errno only picks the reply code, which test_fault_server covers
@pytest.mark.parametrize("op,err", [("write", "ENOSPC"), ("fsync", "EIO"),
                                    ("rename", "EIO")])
def test_fault_server_copy_move_expunge(fault_base, serve, op, err):
    """UID COPY / UID MOVE between .mbox and .mdir and \\Deleted + UID
    EXPUNGE, each under a write/fsync/rename fault: OK with the change
    made, or NO [SERVERBUG]/[OVERQUOTA] with both mailboxes' messages
    exactly as before (UIDs, flags); the session goes on working."""
    commune = fault_base
    for i in range(3):
        for box in ("INBOX", "Mdir"):
            commune.ok("deliver", "alice", "--mailbox", box,
                       input=message(f"more-{box}-{i}"))
    refused = {"COPY": 0, "MOVE": 0, "EXPUNGE": 0}
    done = dict(refused)
    # Each operation comes first after a start, so that the 1st, 2nd or
    # 3rd call of the faulty kind in it fails; then one more operation.
    runs = [(n, first) for n in (1, 2, 3) for first in range(len(MAILBOX_OPS))]
    for n, first in runs:
        srv = serve(["imap"], "--allow-plaintext-auth",
                    env={"COMMUNE_VFS_FAIL": f"{op}:{n}:{err}",
                         "ASAN_OPTIONS": "detect_leaks=0"})
        imap = Imap(srv.ports["imap"], "alice")
        for verb, src, dst in (MAILBOX_OPS[first],
                               MAILBOX_OPS[(first + 1) % len(MAILBOX_OPS)]):
            imap.selected = None
            assert imap.select(src)
            before = {b: box_state(commune, imap, b)
                      for b in ("INBOX", "Mdir")}
            token, uid = first_token(before[src])
            if verb == "EXPUNGE":
                ok, lines = imap.cmd(f"UID STORE {uid} +FLAGS.SILENT "
                                     f"(\\Deleted)")
                if ok:
                    # the STORE is done: the expunge starts from here
                    before = {b: box_state(commune, imap, b)
                              for b in ("INBOX", "Mdir")}
                    ok, lines = imap.cmd(f"UID EXPUNGE {uid}")
            else:
                ok, lines = imap.cmd(f"UID {verb} {uid} {dst}")
            after = {b: box_state(commune, imap, b)
                     for b in ("INBOX", "Mdir")}
            if ok:
                done[verb] += 1
                gone = verb in ("MOVE", "EXPUNGE")
                src_uids = [u for u, _f in after[src]["rows"].get(token, [])]
                assert (uid in src_uids) != gone, (verb, n, token, uid)
                if dst is not None:
                    assert len(after[dst]["rows"].get(token, [])) == \
                        len(before[dst]["rows"].get(token, [])) + 1
            else:
                assert IMAP_CODE[err] in lines[-1], (verb, n, lines)
                refused[verb] += 1
                for b in ("INBOX", "Mdir"):
                    assert after[b]["rows"] == before[b]["rows"], \
                        (op, err, n, verb, b)
                    # a UID handed out and taken back is not reused
                    # (RFC 3501 §2.3.1.1: UIDNEXT changes whenever
                    # messages are added, even if expunged again)
                    assert after[b]["uidnext"] >= before[b]["uidnext"], \
                        (op, err, n, verb, b)
            ok2, lines = imap.cmd("NOOP")
            assert ok2, lines
        imap.close()
        assert srv.proc.poll() is None
        srv.assert_clean_exit()
        check_all(commune)
    print(f"{op}:{err}: refused {refused}, done {done}")
    for verb in refused:
        assert refused[verb] > 0 and done[verb] > 0, (op, err, verb,
                                                      refused, done)
