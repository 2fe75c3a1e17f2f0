# SPDX-License-Identifier: MIT
"""Deterministic test messages for the benchmarks.

mixed(i) returns message number i of the standard mix, the same bytes
on every run and every machine:
  70%  2-8 KB plain text
  25%  20-100 KB multipart/mixed with a base64 attachment
   5%  0.5-2 MB multipart/mixed with a base64 attachment
small(i) returns a 1-2 KB plain text message (the 100,000-message box).

Messages are built by slicing pools of pre-made lines (text and base64),
so making 10,000 of them takes well under a second and the generator
never slows a load test down. Line ends are CRLF, as on the wire; no
line starts with '.', so the bytes can go after LMTP DATA unchanged
(dot_stuff() is still applied by the senders, for safety).
"""
import base64
import random

KIB = 1024
MIB = 1024 * 1024

_WORDS = ("the of and to in is that for it as was with be by on not he "
          "this are or his from at which but have an they you were her "
          "she there been one all we their has would when if so no will "
          "can more about said out up them some could into than then "
          "mailbox server account delivery message folder index commune "
          "calendar contact invoice meeting report budget quarter review "
          "schedule project update draft attached please thanks regards "
          "tomorrow monday friday office network storage backup").split()

_POOL_SEED = 20240601


def _make_text_pool(nbytes):
    rng = random.Random(_POOL_SEED)
    lines, total = [], 0
    while total < nbytes:
        n = rng.randint(4, 14)
        line = " ".join(rng.choice(_WORDS) for _ in range(n))
        line = line[0].upper() + line[1:] + "."
        b = line.encode() + b"\r\n"
        lines.append(b)
        total += len(b)
    return b"".join(lines)


def _make_b64_pool(nbytes):
    rng = random.Random(_POOL_SEED + 1)
    raw = rng.randbytes(nbytes * 3 // 4 + 57)
    enc = base64.b64encode(raw)
    # 76 characters a line (RFC 2045 §6.8).
    return b"".join(enc[i:i + 76] + b"\r\n"
                    for i in range(0, len(enc) - 76, 76))


_TEXT_POOL = _make_text_pool(256 * KIB)
_B64_POOL = _make_b64_pool(4 * MIB)


def _slice_lines(pool, rng, size):
    """About size bytes of whole lines from pool (wraps around)."""
    out = []
    total = 0
    while total < size:
        start = rng.randrange(0, len(pool) - 1)
        start = pool.find(b"\r\n", start) + 2
        if start <= 1 or start >= len(pool):
            start = 0
        end = min(len(pool), start + (size - total))
        end = pool.find(b"\r\n", end)
        end = len(pool) if end == -1 else end + 2
        out.append(pool[start:end])
        total += end - start
    return b"".join(out)


def _headers(i, rng, kind, extra=b""):
    day = 1 + i % 28
    hh, mm, ss = (i // 3600) % 24, (i // 60) % 60, i % 60
    subj = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(2, 7)))
    return (f"From: Sender {i % 97} <sender{i % 97}@example.net>\r\n"
            f"To: Recipient <rcpt@example.org>\r\n"
            f"Subject: [{kind}] {subj} #{i}\r\n"
            f"Date: Mon, {day:02d} Jan 2024 {hh:02d}:{mm:02d}:{ss:02d} +0000"
            "\r\n"
            f"Message-ID: <bench.{i}.{kind}@example.net>\r\n"
            "MIME-Version: 1.0\r\n").encode() + extra


def _text_message(i, rng, size, kind):
    head = _headers(i, rng, kind,
                    b"Content-Type: text/plain; charset=us-ascii\r\n\r\n")
    return head + _slice_lines(_TEXT_POOL, rng, max(0, size - len(head)))


def _attach_message(i, rng, size, kind):
    boundary = f"=_bench_{i}_boundary".encode()
    head = _headers(i, rng, kind,
                    b'Content-Type: multipart/mixed; boundary="' + boundary
                    + b'"\r\n\r\n')
    text = _slice_lines(_TEXT_POOL, rng, rng.randint(500, 3000))
    parts = [head, b"This is a multi-part message in MIME format.\r\n\r\n",
             b"--" + boundary + b"\r\n",
             b"Content-Type: text/plain; charset=us-ascii\r\n\r\n", text,
             b"\r\n--" + boundary + b"\r\n",
             b"Content-Type: application/octet-stream; name=\"file"
             + str(i).encode() + b".bin\"\r\n",
             b"Content-Transfer-Encoding: base64\r\n",
             b"Content-Disposition: attachment; filename=\"file"
             + str(i).encode() + b".bin\"\r\n\r\n"]
    used = sum(len(p) for p in parts) + len(boundary) + 8
    parts.append(_slice_lines(_B64_POOL, rng, max(76, size - used)))
    parts.append(b"--" + boundary + b"--\r\n")
    return b"".join(parts)


def mixed(i, seed=1):
    """Message i of the standard mix (bytes, CRLF line ends)."""
    rng = random.Random(seed * 1_000_003 + i)
    r = rng.random()
    if r < 0.70:
        return _text_message(i, rng, rng.randint(2 * KIB, 8 * KIB), "text")
    if r < 0.95:
        return _attach_message(i, rng, rng.randint(20 * KIB, 100 * KIB),
                               "attach")
    return _attach_message(i, rng, rng.randint(MIB // 2, 2 * MIB), "large")


def small(i, seed=2):
    """A 1-2 KB plain text message."""
    rng = random.Random(seed * 1_000_003 + i)
    return _text_message(i, rng, rng.randint(KIB, 2 * KIB), "small")


def dot_stuff(msg):
    """RFC 5321 §4.5.2 transparency, plus the final CRLF if missing."""
    if not msg.endswith(b"\r\n"):
        msg += b"\r\n"
    if msg.startswith(b"."):
        msg = b"." + msg
    return msg.replace(b"\r\n.", b"\r\n..")


def write_mbox(path, n, make=small, start=0):
    """Writes messages make(start..start+n-1) as a classic mbox file
    (LF line ends, 'From ' lines quoted with '>'). Returns bytes written."""
    total = 0
    with open(path, "wb") as f:
        for i in range(start, start + n):
            msg = make(i).replace(b"\r\n", b"\n")
            msg = msg.replace(b"\nFrom ", b"\n>From ")
            day = 1 + i % 28
            sep = (f"From sender@example.net Mon Jan {day:2d} "
                   f"{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:"
                   f"{i % 60:02d} 2024\n").encode()
            f.write(sep)
            f.write(msg)
            if not msg.endswith(b"\n"):
                f.write(b"\n")
            f.write(b"\n")
            total += len(sep) + len(msg) + 1
    return total


if __name__ == "__main__":
    import sys
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    sizes = [len(mixed(i)) for i in range(n)]
    print(f"{n} messages, {sum(sizes) / MIB:.1f} MiB, "
          f"min {min(sizes)} max {max(sizes)} "
          f"mean {sum(sizes) / n:.0f} bytes")
