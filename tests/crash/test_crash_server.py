# SPDX-License-Identifier: MIT
"""Short form of the server crash harness (crash_harness.py) for
`make test`: ~12 rounds of load + kill -9 + restart + verification, and a
check that the verification does catch a lost message. The long form is
`make crash` (CRASH_ROUNDS, default 200)."""
import os

import pytest

from crash_harness import Harness, HarnessError, ImapWorker

ROUNDS = int(os.environ.get("COMMUNE_CRASH_SERVER_ROUNDS", "12"))
SEED = int(os.environ.get("COMMUNE_CRASH_SEED", "5"))


def test_crash_server(commune, base, capsys):
    h = Harness(commune.bin, str(base), seed=SEED, round_limit=5.0)
    done = h.run(ROUNDS, time_limit=50.0)
    m = h.model
    with capsys.disabled():
        print(f"\ncrash server: {done} rounds {h.totals()}")
    assert done >= min(ROUNDS, 5)
    assert m.kills + m.vfs_kills >= done
    assert m.lost == 0 and m.duplicated == 0
    for kind in ("lmtp", "append", "store", "expunge"):
        assert m.acked[kind] > 0, (kind, h.totals())
    assert m.acked["copy"] + m.acked["move"] > 0, h.totals()


def test_crash_harness_catches_loss(commune, base):
    """The verification is not vacuous: a message expunged behind the
    model's back is reported lost."""
    h = Harness(commune.bin, str(base), seed=SEED, round_limit=5.0)
    h.run(2, time_limit=30.0)
    present = [(k, e) for k, e in h.model.entries.items()
               if e.state == "present" and e.uid is not None]
    assert present
    (acct, box, token), e = present[0]
    commune.ok("message", "flag", acct, box, str(e.uid), "+\\Deleted")
    commune.ok("message", "expunge", acct, box)
    with pytest.raises(HarnessError, match="lost"):
        h.verify_offline()


def test_lost_store_reply_then_cli_expunge_is_not_a_loss(commune, base):
    """Regression (seed 5 once reported `bob/INBOX: acknowledged ... lost`):
    the server applies `UID STORE +\\Deleted`, is killed before the reply
    arrives, and the CLI's `message expunge` (every \\Deleted message)
    then removes the message while the server is down. The model must
    count that message as possibly gone, not as an acknowledged loss."""
    h = Harness(commune.bin, str(base), seed=SEED, round_limit=5.0)
    h.setup()
    h.start(False)
    try:
        w = ImapWorker(h, "bob", 1)
        w.setup()
        for _ in range(3):
            w.append()
        key = w.mine()[0]
        real_cmd = w.imap.cmd

        def reply_lost(text, literal=None):
            ok, lines = real_cmd(text, literal)
            if "STORE" in text:
                assert ok, lines            # on disk now...
                h.daemon.kill()             # ...but the reply is lost
                raise OSError("killed")
            return ok, lines
        w.imap.cmd = reply_lost
        with pytest.raises(OSError):
            w.expunge(key)
    finally:
        h.daemon.kill()
    commune.ok("message", "expunge", "bob", "INBOX")
    h.verify_offline()
    assert h.model.lost == 0
    assert h.model.entries[key].state == "absent"
