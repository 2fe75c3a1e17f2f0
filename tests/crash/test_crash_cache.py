# SPDX-License-Identifier: MIT
"""The header cache (NAME.cache) after crashes: saves write each
message's record in the same lock hold as the message, without fsync,
so a crash may leave it short, torn or missing. Never is a message lost
or shown with another message's fields: readers check every record,
compute what is missing and rewrite a damaged file.

- test_torn_cache_tail_after_kill: LMTP deliveries while the server is
  killed with SIGKILL; then the cache's tail is torn the ways a power
  loss leaves an unsynced append (cut inside a record, a tail of zeros:
  a kill alone cannot tear one write(2)); more deliveries append after
  the damage, and last a record is cut with nothing after it. Every acknowledged message is found once by UID SEARCH
  HEADER and FETCH ENVELOPE, with its own subject; afterwards the cache
  file checks whole and has every message's record.
- test_cache_vfs_crash_rounds: the server dies inside its store writes
  (COMMUNE_VFS_CRASH_RANDOM), e.g. after a message is durable and
  before its cache record is written; then the same checks.
"""
import re
import smtplib
import struct
import threading
import time
import zlib
from pathlib import Path

import pytest

from crash_harness import Daemon, Imap, PW, message

MAGIC = 0x48434D43
# the tokens have no quotes; the messages no Date: (NIL)
ENVELOPE_RE = re.compile(r'ENVELOPE \((?:NIL|"[^"]*") "([^"]*)"')
UID_RE = re.compile(r"[( ]UID (\d+)")
ROUND_SECS = 20.0


def cache_records(path, uidvalidity):
    """{uid: value} of the records a reader accepts, and whether the
    whole file checked (header, every record, no tail left)."""
    data = path.read_bytes()
    if len(data) < 16:
        return {}, False
    magic, version, uv, _ = struct.unpack_from("<IIII", data)
    if (magic, version, uv) != (MAGIC, 1, uidvalidity):
        return {}, False
    recs, pos = {}, 16
    while pos + 12 <= len(data):
        uid, n, crc = struct.unpack_from("<III", data, pos)
        value = data[pos + 12:pos + 12 + n]
        if uid == 0 or len(value) != n or \
                zlib.crc32(data[pos:pos + 8] + value) != crc:
            return recs, False
        recs[uid] = value
        pos += 12 + n
    return recs, pos == len(data)


def deliver(port, token):
    """LMTP delivery of one message; True on 250."""
    with smtplib.LMTP("127.0.0.1", port, timeout=30) as c:
        c.ehlo("crash.example")
        if c.mail("f@example.org")[0] != 250 or \
                c.rcpt("kate@localhost")[0] != 250:
            return False
        c.putcmd("data")
        if c.getreply()[0] != 354:
            return False
        c.send(message(token) + b".\r\n")
        return c.getreply()[0] == 250


def deliver_until_killed(daemon, prefix, count, acked):
    """Delivers up to count messages, stopping when the server dies;
    acknowledged tokens go to acked."""
    deadline = time.monotonic() + ROUND_SECS
    for i in range(count):
        if time.monotonic() > deadline:
            break
        token = f"{prefix}-{i}"
        try:
            if deliver(daemon.ports["lmtp"], token):
                acked.add(token)
        except (OSError, smtplib.SMTPException):
            return


def verify(daemon, acked, commune, cache, fmt):
    """Every acknowledged token once, found by a header SEARCH and with
    its own ENVELOPE subject; the cache ends whole."""
    imap = Imap(daemon.ports["imap"], "kate")
    try:
        ok, lines = imap.cmd("SELECT INBOX")
        assert ok, lines
        uidvalidity = next(int(l.split("UIDVALIDITY ")[1].split("]")[0])
                           for l in lines if "UIDVALIDITY" in l)
        ok, lines = imap.cmd("UID FETCH 1:* (UID ENVELOPE)")
        assert ok, lines
        subjects = {}
        for l in lines:
            m = ENVELOPE_RE.search(l)
            if m:
                subjects[int(UID_RE.search(l).group(1))] = m.group(1)
        by_token = {}
        for uid, subj in subjects.items():
            by_token.setdefault(subj, []).append(uid)
        for token in acked:
            assert len(by_token.get(token, [])) == 1, (token, by_token.get(
                token))
        for token in sorted(acked)[::7]:
            ok, lines = imap.cmd(f'UID SEARCH HEADER Subject "{token}"')
            assert ok, lines
            hits = [int(x) for l in lines if l.startswith("* SEARCH")
                    for x in l.split()[2:]]
            assert hits == by_token[token], (token, hits)
        # the session writes what it computed when it closes the box
        ok, lines = imap.cmd("UNSELECT")
        assert ok, lines
    finally:
        imap.close()
    p = commune.run("check", "kate")
    assert p.returncode == 0, (p.stdout, p.stderr)
    # the session computed what was missing and rewrote the damage
    recs, whole = cache_records(cache, uidvalidity)
    assert whole, f"{fmt}: cache not rewritten whole"
    assert set(subjects) <= set(recs), set(subjects) - set(recs)
    for uid, subj in subjects.items():
        assert f"Subject: {subj}\r\n".encode() in recs[uid], uid


@pytest.fixture(params=["mbox", "mdir"])
def kate(request, commune, tmp_path):
    commune.ok("account", "create", "kate", "--password", PW,
               "--type", request.param)
    cache = Path(commune.base) / "Accounts" / f"kate.{request.param}.cache"
    return request.param, cache


def test_torn_cache_tail_after_kill(commune, tmp_path, kate):
    fmt, cache = kate
    acked = set()
    daemon = Daemon(commune.bin, commune.base,
                    str(tmp_path / "serve.log"))
    try:
        assert daemon.start()
        # kill -9 while deliveries run
        t = threading.Thread(target=deliver_until_killed,
                             args=(daemon, "a", 200, acked))
        t.start()
        deadline = time.monotonic() + ROUND_SECS
        while len(acked) < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
        daemon.kill()
        t.join(timeout=60)
        assert acked
        data = cache.read_bytes()
        assert data[:4] == b"CMCH"
        # a power loss after the kill: the last record cut short
        cache.write_bytes(data[:-9])
        assert daemon.start()
        for i in range(5):
            assert deliver(daemon.ports["lmtp"], f"b-{i}")
            acked.add(f"b-{i}")
        daemon.kill()
        # and a tail of zeros (size grown, data never written)
        cache.write_bytes(cache.read_bytes() + bytes(300))
        assert daemon.start()
        for i in range(5):
            assert deliver(daemon.ports["lmtp"], f"c-{i}")
            acked.add(f"c-{i}")
        verify(daemon, acked, commune, cache, fmt)
        daemon.kill()
        # last, a torn tail nothing was appended after
        cache.write_bytes(cache.read_bytes()[:-9])
        assert daemon.start()
        verify(daemon, acked, commune, cache, fmt)
    finally:
        daemon.kill()


def test_cache_vfs_crash_rounds(commune, tmp_path, kate):
    fmt, cache = kate
    acked = set()
    daemon = Daemon(commune.bin, commune.base,
                    str(tmp_path / "serve.log"),
                    env={"COMMUNE_VFS_CRASH_RANDOM": "15"})
    try:
        for r in range(6):
            if daemon.start():
                deliver_until_killed(daemon, f"r{r}", 40, acked)
            daemon.kill()
        daemon.env = {}
        assert daemon.start()
        verify(daemon, acked, commune, cache, fmt)
    finally:
        daemon.kill()
