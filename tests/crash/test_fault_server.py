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
