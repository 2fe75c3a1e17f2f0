#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""LMTP load generator: delivers N messages of the standard mix
(bench/msggen.py) over C concurrent connections to K recipients and
reports messages/s and MB/s.

Each connection is its own process (no GIL between them). All messages
are generated and dot-stuffed before the clock starts; the workers then
connect, say LHLO, wait on a barrier, and deliver their share (message i
goes to worker i % C and to a recipient picked by rcpt_of(i, K)). Each transaction is one
pipelined group (RFC 2920): MAIL, RCPT..., DATA in one write, their
replies, then the body and one reply per recipient (RFC 2033 §4.2).
A connection is reused for --per-conn messages, then QUIT and reconnect.

Elapsed time runs from the first worker leaving the barrier to the last
one finishing. Every failed transaction is counted, and the run fails
unless all N were accepted with 250 for every recipient.

    bench/lmtp_load.py --port 2424 --rcpt alice@localhost --rcpt bob@localhost
"""
import argparse
import multiprocessing
import os
import queue
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import msggen  # noqa: E402

IO_TIMEOUT = 60.0       # one read or write
MAX_REPLY_LINES = 1000  # a multi-line reply longer than this is an error


class LmtpError(Exception):
    pass


class Conn:
    """One LMTP client connection with a small buffered reply reader."""

    def __init__(self, host, port, lhlo="bench.localhost"):
        self.sock = socket.create_connection((host, port),
                                             timeout=IO_TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.last_error = None
        self.expect(220, "greeting")
        self.sock.sendall(b"LHLO " + lhlo.encode() + b"\r\n")
        self.expect(250, "LHLO")

    def _line(self):
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line, self.buf = self.buf[:i + 1], self.buf[i + 1:]
                return line
            if len(self.buf) > 65536:
                raise LmtpError("reply line too long")
            data = self.sock.recv(65536)
            if not data:
                raise LmtpError("connection closed by server")
            self.buf += data

    def reply(self):
        """(code, text) of one possibly multi-line reply."""
        for _ in range(MAX_REPLY_LINES):
            line = self._line()
            if len(line) < 4 or not line[:3].isdigit():
                raise LmtpError(f"bad reply line {line[:80]!r}")
            if line[3:4] != b"-":
                return int(line[:3]), line.decode(errors="replace").strip()
        raise LmtpError("reply has too many lines")

    def expect(self, code, what):
        got, text = self.reply()
        if got != code:
            raise LmtpError(f"{what}: expected {code}, got {text}")
        return text

    def deliver(self, sender, rcpts, body):
        """One transaction; returns the number of recipients accepted
        with 250 after DATA. body is dot-stuffed and ends with the
        terminating CRLF.CRLF (see generate())."""
        cmds = [b"MAIL FROM:<" + sender + b">\r\n"]
        cmds += [b"RCPT TO:<" + r + b">\r\n" for r in rcpts]
        cmds.append(b"DATA\r\n")
        self.sock.sendall(b"".join(cmds))
        self.expect(250, "MAIL")
        ok_rcpts = 0
        self.last_error = None
        for r in rcpts:
            code, text = self.reply()
            if code == 250:
                ok_rcpts += 1
            elif code // 100 in (4, 5):
                self.last_error = f"RCPT {r.decode()}: {text}"
            else:
                raise LmtpError(f"RCPT {r!r}: {text}")
        code, text = self.reply()
        if code != 354:
            if ok_rcpts:
                raise LmtpError(f"DATA: {text}")
            self.sock.sendall(b"RSET\r\n")
            self.expect(250, "RSET")
            return 0
        self.sock.sendall(body)
        accepted = 0
        for _ in range(ok_rcpts):
            code, text = self.reply()
            if code == 250:
                accepted += 1
            else:
                self.last_error = f"after DATA: {text}"
        return accepted

    def quit(self):
        try:
            self.sock.sendall(b"QUIT\r\n")
            self.reply()
        except (OSError, LmtpError):
            pass
        self.sock.close()


def rcpt_of(i, k):
    """Recipient index of message i: spread over the K accounts so that
    concurrent connections often, but not always, hit the same one."""
    return ((i * 2654435761) >> 7) % k


def _worker(wid, args, msgs, rcpts, barrier, results):
    """Delivers messages wid, wid+C, wid+2C, ... on one connection at a
    time. Puts (wid, t_start, t_end, delivered, failed, bytes, error)."""
    t_start = t_end = 0.0
    delivered = failed = nbytes = 0
    error = first_fail = None
    conn = None
    try:
        conn = Conn(args.host, args.port)
        try:
            barrier.wait(timeout=args.timeout)
        except threading.BrokenBarrierError:
            raise LmtpError("another worker failed to start")
        t_start = time.monotonic()
        deadline = t_start + args.timeout
        sender = args.sender.encode()
        in_conn = 0
        for i in range(wid, len(msgs), args.concurrency):
            if time.monotonic() > deadline:
                raise LmtpError(f"time limit of {args.timeout:.0f} s hit")
            if in_conn >= args.per_conn:
                conn.quit()
                conn = Conn(args.host, args.port)
                in_conn = 0
            first = rcpt_of(i, len(rcpts))
            to = [rcpts[(first + j) % len(rcpts)]
                  for j in range(args.rcpts_per_msg)]
            got = conn.deliver(sender, to, msgs[i])
            in_conn += 1
            if got == len(to):
                delivered += 1
                nbytes += len(msgs[i]) - 3
            else:
                failed += 1
                first_fail = first_fail or conn.last_error
        t_end = time.monotonic()
        conn.quit()
        if first_fail:
            error = f"worker {wid}: {failed} failed, first: {first_fail}"
    except Exception as e:  # reported to the parent, never swallowed
        error = f"worker {wid}: {type(e).__name__}: {e}"
        t_end = time.monotonic()
        barrier.abort()
        if conn is not None:
            conn.sock.close()
    results.put((wid, t_start, t_end, delivered, failed, nbytes, error))


def generate(n, seed=1):
    """The N messages of the mix, dot-stuffed and terminated with
    ".\r\n", ready to follow DATA (built once, before the clock)."""
    return [msggen.dot_stuff(msggen.mixed(i, seed)) + b".\r\n"
            for i in range(n)]


def run_load(port, rcpts, n=10000, concurrency=4, per_conn=100,
             rcpts_per_msg=1, host="127.0.0.1", sender="bench@example.net",
             timeout=900.0, seed=1, msgs=None):
    """Runs one load and returns a dict with messages, bytes, seconds,
    msgs_per_s, mb_per_s, failed and errors (a list of strings)."""
    args = argparse.Namespace(host=host, port=port, concurrency=concurrency,
                              per_conn=per_conn, rcpts_per_msg=rcpts_per_msg,
                              sender=sender, timeout=timeout)
    if msgs is None:
        msgs = generate(n, seed)
    rcpts = [r.encode() for r in rcpts]
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(concurrency)
    results = ctx.Queue()
    procs = [ctx.Process(target=_worker,
                         args=(w, args, msgs, rcpts, barrier, results),
                         daemon=True) for w in range(concurrency)]
    for p in procs:
        p.start()
    got = []
    deadline = time.monotonic() + timeout + 2 * IO_TIMEOUT
    finished = False
    try:
        while len(got) < len(procs) and time.monotonic() < deadline:
            try:
                got.append(results.get(timeout=1.0))
            except queue.Empty:
                if not any(p.is_alive() for p in procs) and results.empty():
                    break
        finished = True
    finally:
        for p in procs:
            if not finished:
                p.terminate()   # interrupted (SIGTERM, Ctrl-C): stop now
            p.join(timeout=5)
            if p.is_alive():
                p.kill()
                p.join(timeout=5)
    starts = [g[1] for g in got if g[1]]
    ends = [g[2] for g in got if g[2]]
    secs = (max(ends) - min(starts)) if starts and ends else 0.0
    delivered = sum(g[3] for g in got)
    nbytes = sum(g[5] for g in got)
    errors = [g[6] for g in got if g[6]]
    if len(got) < len(procs):
        errors.append(f"{len(procs) - len(got)} worker(s) never reported")
    failed = len(msgs) - delivered
    return {
        "messages": delivered, "bytes": nbytes, "seconds": secs,
        "msgs_per_s": delivered / secs if secs > 0 else 0.0,
        "mb_per_s": nbytes / 1e6 / secs if secs > 0 else 0.0,
        "failed": failed, "errors": errors,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--rcpt", action="append", required=True,
                    help="recipient address (repeat for K recipients)")
    ap.add_argument("-n", "--messages", type=int, default=10000)
    ap.add_argument("-c", "--concurrency", type=int, default=4)
    ap.add_argument("--per-conn", type=int, default=100,
                    help="messages per connection before reconnecting")
    ap.add_argument("--rcpts-per-msg", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=900.0,
                    help="overall time limit in seconds")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    t0 = time.monotonic()
    msgs = generate(args.messages, args.seed)
    gen = time.monotonic() - t0
    r = run_load(args.port, args.rcpt, len(msgs), args.concurrency,
                 args.per_conn, args.rcpts_per_msg, args.host,
                 timeout=args.timeout, msgs=msgs)
    print(f"generated {len(msgs)} messages in {gen:.2f} s")
    print(f"delivered {r['messages']} messages, {r['bytes'] / 1e6:.1f} MB "
          f"in {r['seconds']:.2f} s: {r['msgs_per_s']:.1f} msg/s, "
          f"{r['mb_per_s']:.1f} MB/s, failed {r['failed']}")
    for e in r["errors"]:
        print(e, file=sys.stderr)
    sys.exit(1 if r["failed"] or r["errors"] else 0)


if __name__ == "__main__":
    main()
