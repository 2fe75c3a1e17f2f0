# SPDX-License-Identifier: MIT
"""COMPRESS=DEFLATE (RFC 4978) against the real server: a raw socket
(and one under TLS) whose both directions go through Python's zlib with
raw deflate (windowBits -15). Checks the sync flush after each burst of
replies, pipelined commands, a large FETCH, IDLE pushes, a second
COMPRESS, and hostile compressed input closing only its own session."""
import random
import socket
import time
import zlib

from imap_helpers import Raw, TIMEOUT, deliver, message, unverified

SYNC_MARK = b"\x00\x00\xff\xff"     # the empty stored block of Z_SYNC_FLUSH


class ZRaw:
    """A logged-in session after COMPRESS DEFLATE: every byte either
    way is raw deflate; the client sync-flushes each send."""

    def __init__(self, raw, ok="Z OK DEFLATE active."):
        lines = raw.cmd("Z", "COMPRESS DEFLATE")
        assert lines == [ok] if ok else lines[-1].startswith("Z OK"), lines
        # RFC 4978 §3: nothing uncompressed may follow the OK.
        assert raw.buf == b""
        self.sock = raw.sock
        self.zout = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.zin = zlib.decompressobj(-15)
        self.buf = b""
        self.wire = b""         # compressed bytes received, last recv

    def send(self, data, flush=zlib.Z_SYNC_FLUSH):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(self.zout.compress(data) + self.zout.flush(flush))

    def _recv(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError(f"connection closed; pending {self.buf!r}")
        self.wire = chunk
        self.buf += self.zin.decompress(chunk)

    def line(self):
        while b"\r\n" not in self.buf:
            self._recv()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def read_exact(self, n):
        while len(self.buf) < n:
            self._recv()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def until_tagged(self, tag):
        lines = []
        while True:
            lines.append(self.line())
            if lines[-1].startswith(tag + " "):
                return lines

    def cmd(self, tag, text):
        self.send(f"{tag} {text}\r\n")
        return self.until_tagged(tag)


def compressed(imap, sock=None):
    raw = Raw(imap, sock=sock)
    raw.login()
    return ZRaw(raw)


def test_capability_and_states(imap):
    raw = Raw(imap)
    assert "COMPRESS=DEFLATE" in raw.greeting
    # command-auth (RFC 4978 §5): not before login
    assert raw.cmd("a", "COMPRESS DEFLATE")[-1].startswith("a BAD")
    raw.login()
    assert raw.cmd("b", "COMPRESS LZW") == [
        "b NO Unknown compression mechanism."]
    assert raw.cmd("c", "COMPRESS")[-1].startswith("c BAD")
    # the session is still plain and fine
    assert raw.cmd("d", "NOOP") == ["d OK NOOP completed."]


def test_commands_and_second_compress(imap, accounts):
    deliver(accounts, "alice", message("one"))
    z = compressed(imap)
    lines = z.cmd("1", "CAPABILITY")
    assert "COMPRESS=DEFLATE" in lines[0] and lines[-1].startswith("1 OK")
    lines = z.cmd("2", "SELECT INBOX")
    assert "* 1 EXISTS" in lines and lines[-1].startswith("2 OK")
    # Each burst ends on a sync flush, so the client could decode all
    # of it without waiting for more (RFC 4978 §4).
    assert z.wire.endswith(SYNC_MARK)
    assert z.cmd("3", "COMPRESS DEFLATE") == [
        "3 NO [COMPRESSIONACTIVE] DEFLATE is already active."]
    z.send("4 FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\n")
    assert z.line() == "* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {16}"
    assert z.read_exact(16) == b"Subject: one\r\n\r\n"
    assert z.line() == ")"
    assert z.line().startswith("4 OK")
    z.send("5 LOGOUT\r\n")
    assert z.line().startswith("* BYE")
    assert z.line() == "5 OK Logout completed."


def test_pipelined_commands_in_one_compressed_burst(imap, accounts):
    z = compressed(imap)
    z.send("".join(f"p{i} NOOP\r\n" for i in range(200)) +
           "s SELECT INBOX\r\n")
    for i in range(200):
        assert z.line() == f"p{i} OK NOOP completed."
    assert z.until_tagged("s")[-1].startswith("s OK")
    # the same commands split at every byte
    text = "".join(f"q{i} NOOP\r\n" for i in range(20)).encode()
    for b in text:
        z.send(bytes([b]))
    for i in range(20):
        assert z.line() == f"q{i} OK NOOP completed."


def big_body(size):
    rnd = random.Random(4978)
    words = ["mail", "server", "deflate", "compress", "imap", "stream",
             "window", "block", "the", "a", "of", "and"]
    lines, n = [], 0
    while n < size:
        line = " ".join(rnd.choice(words) for _ in range(12))
        lines.append(line)
        n += len(line) + 2
    return ("\r\n".join(lines) + "\r\n").encode()


def test_large_fetch_through_compression(imap, accounts):
    body = big_body(3 * 1024 * 1024)
    data = message("big", body)
    deliver(accounts, "alice", data)
    z = compressed(imap)
    z.cmd("s", "SELECT INBOX")
    z.send("f FETCH 1 BODY.PEEK[]\r\n")
    head = z.line()
    assert head == f"* 1 FETCH (BODY[] {{{len(data)}}}", head
    got = z.read_exact(len(data))
    assert got == data
    assert z.line() == ")"
    assert z.line() == "f OK FETCH completed."
    # a pipeline of big FETCHes stays in order and intact
    z.send("".join(f"g{i} FETCH 1 BODY.PEEK[]<{i * 1000}.100000>\r\n"
                   for i in range(5)))
    for i in range(5):
        assert z.line().startswith("* 1 FETCH (BODY[]<")
        assert z.read_exact(100000) == data[i * 1000:i * 1000 + 100000]
        assert z.line() == ")"
        assert z.line() == f"g{i} OK FETCH completed."


def test_compression_shrinks_the_wire(imap, accounts):
    data = message("text", big_body(512 * 1024))
    deliver(accounts, "alice", data)
    raw = Raw(imap)
    raw.login()
    z = ZRaw(raw)
    z.cmd("s", "SELECT INBOX")
    z.send("f FETCH 1 BODY.PEEK[]\r\n")
    total = 0
    want = len(data) + 200
    deadline = time.monotonic() + TIMEOUT
    seen = b""
    while b"f OK" not in seen and time.monotonic() < deadline:
        chunk = z.sock.recv(65536)
        assert chunk
        total += len(chunk)
        seen += z.zin.decompress(chunk)
        seen = seen[-want:]
    assert b"f OK FETCH completed.\r\n" in seen
    assert total < len(data) // 3, (total, len(data))


def test_idle_pushes_are_flushed(imap, accounts):
    z = compressed(imap)
    z.cmd("s", "SELECT INBOX")
    z.send("i IDLE\r\n")
    assert z.line() == "+ idling"
    deliver(accounts, "alice", message("pushed"))
    z.sock.settimeout(5)
    lines = []
    deadline = time.monotonic() + 5
    while "* 1 EXISTS" not in lines and time.monotonic() < deadline:
        lines.append(z.line())
    assert "* 1 EXISTS" in lines
    z.send("DONE\r\n")
    assert z.until_tagged("i")[-1] == "i OK IDLE terminated."


def test_compress_under_tls(tls_imap, accounts):
    body = big_body(300 * 1024)
    data = message("tls", body)
    deliver(accounts, "alice", data)
    sock = unverified().wrap_socket(tls_imap.connect("imaps"))
    z = compressed(tls_imap, sock=sock)
    z.cmd("s", "SELECT INBOX")
    z.send("f FETCH 1 BODY.PEEK[]\r\n")
    assert z.line() == f"* 1 FETCH (BODY[] {{{len(data)}}}"
    assert z.read_exact(len(data)) == data
    assert z.line() == ")"
    assert z.line() == "f OK FETCH completed."
    assert z.cmd("n", "NOOP") == ["n OK NOOP completed."]
    # STARTTLS then COMPRESS
    raw = Raw(tls_imap)
    raw.starttls()
    raw.login()
    z = ZRaw(raw)
    assert z.cmd("n", "NOOP") == ["n OK NOOP completed."]


def test_pipelined_data_after_compress_is_refused(imap):
    raw = Raw(imap)
    raw.login()
    raw.send("Z COMPRESS DEFLATE\r\nn NOOP\r\n")
    assert raw.until_tagged("Z") == ["Z BAD Wait for the result of "
                                     "COMPRESS."]
    assert raw.until_tagged("n") == ["n OK NOOP completed."]


def assert_still_serving(imap):
    other = Raw(imap)
    other.login()
    assert other.cmd("n", "NOOP") == ["n OK NOOP completed."]
    other.close()


def test_garbage_compressed_input_closes_that_session_only(imap):
    bystander = compressed(imap)
    rnd = random.Random(1)
    for attempt in range(5):
        raw = Raw(imap)
        raw.login()
        z = ZRaw(raw)
        assert z.cmd("a", "NOOP") == ["a OK NOOP completed."]
        # invalid block type 3 (RFC 1951 §3.2.3), then random bytes
        z.sock.sendall(b"\xff" + bytes(rnd.getrandbits(8)
                                       for _ in range(4096)))
        z.sock.settimeout(10)
        closed = False
        deadline = time.monotonic() + 10
        try:
            while time.monotonic() < deadline:
                chunk = z.sock.recv(65536)
                if not chunk:
                    closed = True
                    break
        except ConnectionResetError:
            closed = True
        assert closed
        z.sock.close()
    assert bystander.cmd("b", "NOOP") == ["b OK NOOP completed."]
    assert_still_serving(imap)


def test_data_after_end_of_stream_closes(imap):
    z = compressed(imap)
    z.send("a NOOP\r\n", flush=zlib.Z_FINISH)
    assert z.line() == "a OK NOOP completed."
    # a finished stream cannot go on (RFC 4978 has no restart)
    z.sock.sendall(zlib.compressobj(6, zlib.DEFLATED, -15).compress(
        b"b NOOP\r\n") + b"\x03\x00")
    z.sock.settimeout(10)
    data = b""
    try:
        while True:
            chunk = z.sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except ConnectionResetError:
        pass
    assert b"b OK" not in z.zin.decompress(data)
    assert_still_serving(imap)


def test_decompression_bomb_is_bounded(imap):
    """64 MiB of one byte, about 64 KiB on the wire: the parser's line
    limit answers it and the server's memory stays bounded."""
    z = compressed(imap)
    chunk = b"a" * (1024 * 1024)
    wire = z.zout.compress(b"x APPEND INBOX ")
    for _ in range(64):
        wire += z.zout.compress(chunk)
    wire += z.zout.flush(zlib.Z_SYNC_FLUSH)
    assert len(wire) < 200 * 1024
    try:
        z.sock.sendall(wire + z.zout.compress(b"\r\n") +
                       z.zout.flush(zlib.Z_SYNC_FLUSH))
    except (BrokenPipeError, ConnectionResetError):
        pass
    z.sock.settimeout(20)
    lines = []
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            lines.append(z.line())
            if lines[-1].startswith("x ") or lines[-1].startswith("* BYE"):
                break
    except (EOFError, ConnectionResetError, socket.timeout):
        pass
    assert any(l.startswith(("x BAD", "* BYE")) for l in lines), lines
    assert_still_serving(imap)


def test_like_dovecot(imap, accounts, monkeypatch):
    """The same compressed dialogue against Debian's Dovecot with its
    imap_zlib plugin: the same results, the same bytes fetched, and
    both servers end each burst on a sync flush."""
    import dovecot_oracle
    monkeypatch.setattr(dovecot_oracle, "CONF", dovecot_oracle.CONF + (
        "protocol imap {{\n  mail_plugins = $mail_plugins imap_zlib\n"
        "}}\n"))
    d = dovecot_oracle.Dovecot().start()
    data = message("big", big_body(600 * 1024))
    results = []
    try:
        for sock, login in ((imap.connect("imap"), "LOGIN alice pw"),
                            (d.connect(), f"LOGIN {dovecot_oracle.USER} "
                                          f"{dovecot_oracle.PASSWORD}")):
            raw = Raw(None, sock=sock)
            assert raw.cmd("l", login)[-1].startswith("l OK")
            assert "COMPRESS=DEFLATE" in raw.cmd("c", "CAPABILITY")[0]
            z = ZRaw(raw, ok=None)
            got = []
            z.send(f"a APPEND INBOX {{{len(data)}+}}\r\n".encode() + data +
                   b"\r\n")
            got.append(z.until_tagged("a")[-1].split()[1])
            got.append(z.cmd("s", "SELECT INBOX")[-1].split()[1])
            assert z.wire.endswith(SYNC_MARK)
            z.send("f FETCH 1 BODY.PEEK[]\r\n")
            assert z.line() == f"* 1 FETCH (BODY[] {{{len(data)}}}"
            got.append(z.read_exact(len(data)) == data)
            assert z.line() == ")"
            got.append(z.line().split()[1])
            assert z.wire.endswith(SYNC_MARK)
            got.append(" ".join(z.cmd("z", "COMPRESS DEFLATE")[-1]
                                .split()[1:3]))
            got.append(z.cmd("n", "NOOP")[-1].split()[1])
            results.append(got)
            z.sock.close()
    finally:
        d.stop()
    assert results[0] == results[1] == [
        "OK", "OK", True, "OK", "NO [COMPRESSIONACTIVE]", "OK"], results


def test_no_starttls_after_compress(serve, accounts, tls_base):
    """UNAUTHENTICATE (RFC 8437) leaves COMPRESS on; TLS cannot then go
    under the deflate stream (RFC 4978 §3)."""
    srv = serve(["imap"], "--allow-plaintext-auth")
    raw = Raw(srv)
    assert "STARTTLS" in raw.greeting
    raw.login()
    z = ZRaw(raw)
    assert z.cmd("u", "UNAUTHENTICATE")[-1].startswith("u OK")
    assert "STARTTLS" not in z.cmd("c", "CAPABILITY")[0]
    assert z.cmd("t", "STARTTLS") == [
        "t BAD STARTTLS is not possible after COMPRESS."]
    assert z.cmd("l", "LOGIN alice pw")[-1].startswith("l OK")
    assert z.cmd("n", "NOOP") == ["n OK NOOP completed."]


def test_compressed_append_of_repetitive_data(imap, accounts):
    """Client to server, large and highly compressible: 2 MiB of one
    byte is about 2 KiB on the wire and comes out 64 KiB at a time;
    the APPEND completes without the client sending more."""
    for size in (2 * 1024 * 1024, 65536 * 3 + 17):
        data = message("rep", b"a" * size)
        z = compressed(imap)
        z.send(f"a APPEND INBOX {{{len(data)}+}}\r\n".encode() + data +
               b"\r\n")
        z.sock.settimeout(20)
        assert z.until_tagged("a")[-1].startswith("a OK [APPENDUID")
        assert z.cmd("n", "NOOP") == ["n OK NOOP completed."]


def test_burst_without_sync_marker(imap):
    """A client that sends a burst without its sync marker (and sends
    the marker later): every command the bytes hold is answered at
    once, across the server's 64 KiB reads (the held-output case itself
    is in test-imap-compress.c)."""
    z = compressed(imap)
    count = 8192 + 10                   # 65616 bytes: over 64 KiB
    wire = z.zout.compress(b"a NOOP\r\n" * count) + z.zout.flush(
        zlib.Z_SYNC_FLUSH)
    assert wire.endswith(SYNC_MARK)
    z.sock.sendall(wire[:-4])           # the marker comes later
    z.sock.settimeout(10)
    for _ in range(count):
        assert z.line() == "a OK NOOP completed."
    z.sock.sendall(wire[-4:])
    assert z.cmd("n", "NOOP") == ["n OK NOOP completed."]
