# SPDX-License-Identifier: MIT
"""FETCH ENVELOPE alone is answered from the store's header cache
(NAME.mbox.cache, src/store/mailbox-cache.c) without reading the
message; with a body item it comes from the parsed message. Both must
give the same ENVELOPE for every message of the MIME corpus, from the
records APPEND wrote, from a cache filled by reading, and from a
damaged one, in both formats."""
import os
import re
import sys

import pytest

from imap_helpers import Raw

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))), "mime"))
from corpus import CORPUS  # noqa: E402

LITERAL = re.compile(r"\{(\d+)\}$")


def fetch_all(c, tag, items):
    """{seq: response line} of FETCH 1:* items, literals inlined."""
    c.send(f"{tag} FETCH 1:* {items}\r\n")
    out = {}
    while True:
        line = c.line()
        m = LITERAL.search(line)
        while m:
            n = int(m.group(1))
            while len(c.buf) < n:
                c.buf += c.sock.recv(65536)
            data, c.buf = c.buf[:n], c.buf[n:]
            line = line[:m.start()] + repr(data) + c.line()
            m = LITERAL.search(line)
        if line.startswith(tag + " "):
            assert line.startswith(tag + " OK"), line
            return out
        mo = re.match(r"\* (\d+) FETCH \((.*)\)$", line, re.S)
        assert mo, line
        out[int(mo.group(1))] = mo.group(2)


def envelopes(c, tag, with_body):
    """{seq: "ENVELOPE (...)" text}; with_body adds an item that makes
    the server parse the message, placed after ENVELOPE."""
    items = "(ENVELOPE BODY.PEEK[HEADER.FIELDS (X-None)])" if with_body \
        else "(ENVELOPE)"
    got = fetch_all(c, tag, items)
    return {seq: text.split(" BODY[HEADER.FIELDS", 1)[0]
            for seq, text in got.items()}


@pytest.mark.parametrize("acct,cache", [
    ("bob", "bob.mbox.cache"), ("carol", "carol.mdir.cache")])
def test_envelope_from_cache_matches_parse(imap, base, acct, cache):
    c = Raw(imap)
    c.login(acct)
    stored = 0
    for i, (name, data) in enumerate(CORPUS):
        if b"\0" in data:
            continue            # IMAP refuses NUL bytes in messages
        c.send(f"A{i} APPEND INBOX {{{len(data)}+}}\r\n".encode() + data
               + b"\r\n")
        assert c.until_tagged(f"A{i}")[-1].startswith(f"A{i} OK"), name
        stored += 1
    assert c.cmd("S", "SELECT INBOX")[-1].startswith("S OK")
    path = os.path.join(base, "Accounts", cache)
    # APPEND wrote every message's record: nothing is read below
    size = os.path.getsize(path)
    assert size > 16
    parsed = envelopes(c, "P", True)
    assert len(parsed) == stored > 50
    fresh = envelopes(c, "F", False)     # from the records APPEND wrote
    assert fresh == parsed
    c.cmd("U", "UNSELECT")
    assert os.path.getsize(path) == size
    # a cache filled by reading gives the same
    os.unlink(path)
    c.cmd("S1", "SELECT INBOX")
    assert envelopes(c, "R", False) == parsed
    c.cmd("U1", "UNSELECT")              # writes what it read
    assert os.path.getsize(path) > 16
    c.cmd("S2", "SELECT INBOX")
    assert envelopes(c, "C", False) == parsed   # read from the cache
    # a damaged cache is ignored (and rewritten), never believed
    with open(path, "r+b") as f:
        f.seek(40)
        b = f.read(1)
        f.seek(40)
        f.write(bytes([b[0] ^ 0xff]))
    c2 = Raw(imap)
    c2.login(acct)
    c2.cmd("S", "EXAMINE INBOX")
    assert envelopes(c2, "D", False) == parsed
    c2.cmd("L", "LOGOUT")
    c.cmd("L", "LOGOUT")
