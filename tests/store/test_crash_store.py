# SPDX-License-Identifier: MIT
"""Crash suite for both mailbox formats.

Runs `commune deliver` (and now and then `message flag`/`message expunge`)
with COMMUNE_VFS_CRASH=N, so the process kills itself with SIGKILL right
after its N-th mutating file call (lib/vfs.h), at every point of the
write path: index marks, message writes, fsyncs, renames, index commits,
account.info updates and the repairs of the crash before. After each
round it verifies, through the CLI:

- every acknowledged delivery (exit 0) is present exactly once, with the
  UID it was given and its size;
- no message is present twice, nothing unacknowledged is half there;
- a UID once seen is never given to another message (UIDs not reused,
  also when the message with the highest UID was expunged);
- `commune check` is clean right after the crash (what a crash leaves is
  repaired on open, not a problem) and after the next open.

COMMUNE_CRASH_ROUNDS sets the rounds per format (default 40; `make crash`
may set more), COMMUNE_CRASH_SEED varies the random choices. Every loop is bounded in count and each command in time.
"""
import os
import random
import re

import pytest

ROUNDS = int(os.environ.get("COMMUNE_CRASH_ROUNDS", "40"))
SEED = os.environ.get("COMMUNE_CRASH_SEED", "")
ACCOUNT = "crash"


def parse_list(text):
    """`message list` lines: uid, (flags), size, date, subject."""
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = line.split("\t")
        assert len(parts) >= 5, line
        rows.append((int(parts[0]), parts[1], int(parts[2]), parts[4]))
    return rows


def message(tag, rng):
    body = "".join(rng.choice("abcdefgh \r\n") for _ in range(rng.randrange(0, 3000)))
    return (f"From: crash@example.org\r\nSubject: {tag}\r\n"
            f"Message-ID: <{tag}@example.org>\r\n\r\n{body}\r\n").encode()


class Model:
    """What the store must show: acknowledged messages and every UID seen."""

    def __init__(self, commune, mailbox):
        self.commune = commune
        self.mailbox = mailbox
        self.acked = {}        # subject -> (uid, size)
        self.expunged = set()  # subjects expunged (acknowledged or not)
        self.uid_owner = {}    # uid -> subject, once seen
        self.kills = 0

    def verify(self, after_crash):
        c = self.commune
        # check first: the crash leftovers must not count as problems
        p = c.run("check", ACCOUNT)
        assert p.returncode == 0, (after_crash, p.stdout, p.stderr)
        rows = parse_list(c.ok("message", "list", ACCOUNT, self.mailbox))
        uids = [r[0] for r in rows]
        assert uids == sorted(uids) and len(set(uids)) == len(uids), uids
        subjects = [r[3] for r in rows]
        dup = {s for s in subjects if subjects.count(s) > 1}
        assert not dup, f"present twice: {dup}"
        present = {r[3]: r for r in rows}
        for subj, (uid, size) in self.acked.items():
            if subj in self.expunged:
                continue
            assert subj in present, f"acknowledged {subj} (uid {uid}) lost"
            assert present[subj][0] == uid, (subj, present[subj], uid)
            assert present[subj][2] == size, (subj, present[subj], size)
        for uid, _flags, _size, subj in rows:
            owner = self.uid_owner.setdefault(uid, subj)
            assert owner == subj, f"uid {uid} reused: {owner} then {subj}"
        p = c.run("check", ACCOUNT)
        assert p.returncode == 0, (p.stdout, p.stderr)
        return rows


def deliver(model, tag, rng, crash_at):
    data = message(tag, rng)
    env = {"COMMUNE_VFS_CRASH": str(crash_at)} if crash_at else None
    args = ["deliver", ACCOUNT, "--mailbox", model.mailbox]
    if rng.random() < 0.3:
        args += ["--flags", "\\Seen"]
    p = model.commune.run(*args, input=data, env=env)
    if p.returncode == 0:
        uid = int(p.stdout.decode().split()[0])
        assert tag not in model.acked
        # stored with bare LFs made CRLF (src/lib/crlf.c)
        model.acked[tag] = (uid, len(re.sub(rb"(?<!\r)\n", b"\r\n", data)))
        for other, (ouid, _s) in model.acked.items():
            assert other == tag or ouid != uid, f"uid {uid} given twice"
    else:
        # killed by SIGKILL: the CLI never acknowledged it
        assert p.returncode in (-9, 137), (p.returncode, p.stderr)
        model.kills += 1


def expunge_one(model, rows, rng, crash_at):
    """Flags the newest message \\Deleted, then expunges with a crash: the
    highest UID goes, which is where UID reuse would show."""
    if not rows:
        return
    uid, _flags, _size, subj = rows[-1]
    model.commune.ok("message", "flag", ACCOUNT, model.mailbox, str(uid),
                     "+\\Deleted")
    p = model.commune.run("message", "expunge", ACCOUNT, model.mailbox,
                          env={"COMMUNE_VFS_CRASH": str(crash_at)})
    # expunged or not: either way it may not come back as something else
    model.expunged.add(subj)
    if p.returncode != 0:
        model.kills += 1


@pytest.mark.parametrize("fmt", ["mbox", "mdir"])
def test_crash_deliveries(commune, fmt):
    rng = random.Random(f"crash-{fmt}{SEED}")
    commune.ok("account", "create", ACCOUNT)
    mailbox = f"Crash-{fmt}"
    commune.ok("mailbox", "create", ACCOUNT, mailbox, "--format", fmt)
    model = Model(commune, mailbox)
    rows = []
    for i in range(ROUNDS):
        # mutating calls of one delivery: ~5 (mbox) or ~7 (mdir), more
        # when it first repairs the previous crash; 0 = no crash
        crash_at = rng.choice([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15])
        if i % 9 == 8:
            expunge_one(model, rows, rng, rng.randrange(1, 8))
        else:
            deliver(model, f"crash-{fmt}-{i}", rng, crash_at)
        rows = model.verify(after_crash=crash_at)
    assert model.kills > 0
    acked = [s for s in model.acked if s not in model.expunged]
    print(f"{fmt}: {ROUNDS} rounds, {model.kills} kills, "
          f"{len(model.acked)} acknowledged, 0 lost")
    assert len(acked) > 0


@pytest.mark.parametrize("fmt", ["mbox", "mdir"])
def test_crash_lost_index(commune, base, fmt):
    """Crashes with the index deleted before each round: recovery from
    the files alone keeps every UID and never reuses one."""
    rng = random.Random(f"lost-{fmt}{SEED}")
    commune.ok("account", "create", ACCOUNT)
    mailbox = f"Lost-{fmt}"
    commune.ok("mailbox", "create", ACCOUNT, mailbox, "--format", fmt)
    model = Model(commune, mailbox)
    idx = base / "Accounts" / f"{ACCOUNT}.macnt" / f"{mailbox}.{fmt}.idx"
    rows = []
    for i in range(max(ROUNDS // 2, 4)):
        if idx.exists():
            idx.unlink()
        if i % 5 == 4:
            expunge_one(model, rows, rng, rng.randrange(1, 10))
        else:
            deliver(model, f"lost-{fmt}-{i}", rng, rng.randrange(0, 14))
        rows = model.verify(after_crash=True)
