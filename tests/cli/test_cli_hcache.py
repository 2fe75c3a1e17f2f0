# SPDX-License-Identifier: MIT
"""`commune import` and `commune deliver` write each message's header
cache record (NAME.cache, docs/storage-format.md) as they store it, so
the first `message list` (or IMAP SEARCH, SORT, ENVELOPE) of an
imported mailbox reads no message and adds nothing to the cache."""
import struct
import zlib

import pytest

MAGIC = 0x48434D43


def records(path):
    """{uid: value} of a cache file whose every record checks."""
    data = path.read_bytes()
    magic, version, _uv, _ = struct.unpack_from("<IIII", data)
    assert (magic, version) == (MAGIC, 1)
    recs, pos = {}, 16
    while pos < len(data):
        uid, n, crc = struct.unpack_from("<III", data, pos)
        value = data[pos + 12:pos + 12 + n]
        assert len(value) == n and \
            zlib.crc32(data[pos:pos + 8] + value) == crc, pos
        assert uid not in recs
        recs[uid] = value
        pos += 12 + n
    return recs


@pytest.mark.parametrize("kind", ["mbox", "mdir"])
def test_import_and_deliver_write_the_cache(commune, base, tmp_path, kind):
    commune.ok("account", "create", "ann", "--password", "pw",
               "--type", kind)
    mbox = tmp_path / "in.mbox"
    with open(mbox, "wb") as f:
        for i in range(300):
            f.write(f"From a@example.org Mon Nov 23 10:00:00 2026\n"
                    f"From: a{i}@example.org\nSubject: imported {i}\n"
                    f"X-Not-Cached: {i}\n\nbody {i}\n\n".encode())
    commune.ok("import", "ann", "INBOX", str(mbox))
    p = commune.run("deliver", "ann",
                    input=b"Subject: delivered\r\n\r\nbody\r\n")
    assert p.returncode == 0, p.stderr
    cache = base / "Accounts" / f"ann.{kind}.cache"
    recs = records(cache)
    assert sorted(recs) == list(range(1, 302))
    for i in range(300):
        assert recs[i + 1] == (f"From: a{i}@example.org\r\n"
                               f"Subject: imported {i}\r\n").encode()
    assert recs[301] == b"Subject: delivered\r\n"
    before = cache.read_bytes()
    out = commune.ok("message", "list", "ann", "INBOX").splitlines()
    assert [line.split("\t")[4] for line in out] == \
        [f"imported {i}" for i in range(300)] + ["delivered"]
    assert cache.read_bytes() == before
