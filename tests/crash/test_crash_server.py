# SPDX-License-Identifier: MIT
"""Short form of the server crash harness (crash_harness.py) for
`make test`: ~12 rounds of load + kill -9 + restart + verification, and a
check that the verification does catch a lost message. The long form is
`make crash` (CRASH_ROUNDS, default 200)."""
import os

import pytest

from crash_harness import Harness, HarnessError

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
