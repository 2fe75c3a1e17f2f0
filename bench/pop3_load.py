#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""POP3 load generator for the benchmark rows (also a command-line tool).

Two workloads, the same against any POP3 server:

  retr_all      one session: USER/PASS, STAT, then RETR of every message,
                pipelined WINDOW commands ahead (RFC 2449 PIPELINING;
                servers without it still answer in order), QUIT without
                DELE so the mailbox stays as it was.
  sessions      C worker processes, each with its own account, each
                running login / STAT / RETR of one message / QUIT in a
                loop until the shared count of sessions is done.

The client reads replies with large recv()s into one buffer and finds
the ".\\r\\n" terminator with bytes.find, so it costs little per byte.
Every reply is checked: a -ERR, a short message or a missing terminator
fails the run.

    bench/pop3_load.py --port 1110 --user user1 --password bench retr
    bench/pop3_load.py --port 1110 --password bench sessions -c 4 -n 2000
"""
import argparse
import multiprocessing
import queue
import socket
import sys
import threading
import time

IO_TIMEOUT = 120.0
RECV = 1 << 20


class Pop3Error(Exception):
    pass


class Conn:
    """A minimal POP3 client for measuring."""

    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port),
                                             timeout=IO_TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.status("greeting")

    def _fill(self):
        data = self.sock.recv(RECV)
        if not data:
            raise Pop3Error("connection closed by the server")
        self.buf += data

    def line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[:i + 2]
                return line
            self._fill()

    def status(self, what):
        line = self.line()
        if not line.startswith(b"+OK"):
            raise Pop3Error(f"{what}: {line[:200]!r}")
        return line

    def body(self):
        """Consumes a multi-line body; returns its length on the wire."""
        if self.buf.startswith(b".\r\n"):
            del self.buf[:3]
            return 0
        start = 0
        while True:
            i = self.buf.find(b"\r\n.\r\n", start)
            if i >= 0:
                del self.buf[:i + 5]
                return i + 2
            start = max(0, len(self.buf) - 4)
            self._fill()

    def cmd(self, line, what=None):
        self.sock.sendall(line + b"\r\n")
        return self.status(what or line.decode(errors="replace"))

    def login(self, user, password):
        self.cmd(b"USER " + user.encode(), "USER")
        self.cmd(b"PASS " + password.encode(), "PASS")

    def stat(self):
        parts = self.cmd(b"STAT").split()
        return int(parts[1]), int(parts[2])

    def retr(self, n):
        """RETR n; returns (octets announced, wire bytes)."""
        st = self.cmd(b"RETR %d" % n)
        return _octets(st), self.body()

    def quit(self):
        try:
            self.cmd(b"QUIT")
        finally:
            self.sock.close()


def _octets(status):
    """The size in "+OK 1234 octets" (Dovecot and Commune both say so);
    0 when the server does not."""
    parts = status.split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def retr_all(port, user, password, host="127.0.0.1", window=16,
             timeout=1800.0):
    """One session retrieving every message. Returns a dict: messages,
    bytes (announced octets), seconds (RETR loop only), msgs_per_s,
    mb_per_s."""
    c = Conn(host, port)
    c.login(user, password)
    count, size = c.stat()
    deadline = time.monotonic() + timeout
    t0 = time.perf_counter()
    sent = done = 0
    nbytes = 0
    while done < count:
        while sent < count and sent - done < window:
            sent += 1
            c.sock.sendall(b"RETR %d\r\n" % sent)
        octets = _octets(c.status(f"RETR {done + 1}"))
        wire = c.body()
        if wire < octets:
            raise Pop3Error(f"RETR {done + 1}: {wire} bytes for "
                            f"{octets} octets")
        nbytes += octets
        done += 1
        if time.monotonic() > deadline:
            raise Pop3Error(f"time limit of {timeout:.0f} s hit")
    secs = time.perf_counter() - t0
    c.quit()
    if nbytes != size:
        raise Pop3Error(f"RETR total {nbytes} octets, STAT said {size}")
    return {"messages": count, "bytes": nbytes, "seconds": secs,
            "msgs_per_s": count / secs if secs > 0 else 0.0,
            "mb_per_s": nbytes / 1e6 / secs if secs > 0 else 0.0}


def _session_worker(wid, args, barrier, counter, results):
    """Runs sessions for one account until the shared counter is used
    up. Puts (wid, t_start, t_end, sessions, error)."""
    t_start = t_end = 0.0
    done = 0
    error = None
    user = args.users[wid]
    try:
        try:
            barrier.wait(timeout=args.timeout)
        except threading.BrokenBarrierError:
            raise Pop3Error("another worker failed to start")
        t_start = time.monotonic()
        deadline = t_start + args.timeout
        while True:
            with counter.get_lock():
                if counter.value <= 0:
                    break
                counter.value -= 1
            if time.monotonic() > deadline:
                raise Pop3Error(f"time limit of {args.timeout:.0f} s hit")
            c = Conn(args.host, args.port)
            c.login(user, args.password)
            count, _ = c.stat()
            if count == 0:
                raise Pop3Error(f"{user}: empty mailbox")
            octets, wire = c.retr(1 + (done * 7919 + wid) % count)
            if wire < octets:
                raise Pop3Error("short RETR")
            c.quit()
            done += 1
        t_end = time.monotonic()
    except Exception as e:  # reported to the parent, never swallowed
        error = f"worker {wid} ({user}): {type(e).__name__}: {e}"
        t_end = time.monotonic()
        barrier.abort()
    results.put((wid, t_start, t_end, done, error))


def sessions(port, users, password, n=2000, host="127.0.0.1",
             timeout=1800.0):
    """len(users) concurrent clients, one account each, running n
    login/STAT/RETR/QUIT sessions in all. Returns a dict: sessions,
    seconds, sessions_per_s, errors."""
    args = argparse.Namespace(host=host, port=port, users=list(users),
                              password=password, timeout=timeout)
    ctx = multiprocessing.get_context("fork")
    concurrency = len(users)
    barrier = ctx.Barrier(concurrency)
    counter = ctx.Value("i", n)
    results = ctx.Queue()
    procs = [ctx.Process(target=_session_worker,
                         args=(w, args, barrier, counter, results),
                         daemon=True) for w in range(concurrency)]
    for p in procs:
        p.start()
    got = []
    deadline = time.monotonic() + timeout + 2 * IO_TIMEOUT
    try:
        while len(got) < len(procs) and time.monotonic() < deadline:
            try:
                got.append(results.get(timeout=1.0))
            except queue.Empty:
                if not any(p.is_alive() for p in procs) and results.empty():
                    break
    finally:
        for p in procs:
            p.join(timeout=5)
            if p.is_alive():
                p.kill()
                p.join(timeout=5)
    starts = [g[1] for g in got if g[1]]
    ends = [g[2] for g in got if g[2]]
    secs = (max(ends) - min(starts)) if starts and ends else 0.0
    done = sum(g[3] for g in got)
    errors = [g[4] for g in got if g[4]]
    if len(got) < len(procs):
        errors.append(f"{len(procs) - len(got)} worker(s) never reported")
    if done != n and not errors:
        errors.append(f"{done} of {n} sessions done")
    return {"sessions": done, "seconds": secs,
            "sessions_per_s": done / secs if secs > 0 else 0.0,
            "errors": errors}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--timeout", type=float, default=1800.0)
    sub = ap.add_subparsers(dest="what", required=True)
    r = sub.add_parser("retr", help="RETR every message in one session")
    r.add_argument("--user", required=True)
    r.add_argument("--window", type=int, default=16)
    s = sub.add_parser("sessions", help="many login/STAT/RETR/QUIT")
    s.add_argument("-c", "--concurrency", type=int, default=4)
    s.add_argument("-n", "--sessions", type=int, default=2000)
    s.add_argument("--user-prefix", default="user")
    args = ap.parse_args()
    if args.what == "retr":
        res = retr_all(args.port, args.user, args.password, args.host,
                       args.window, args.timeout)
    else:
        users = [f"{args.user_prefix}{i}"
                 for i in range(1, args.concurrency + 1)]
        res = sessions(args.port, users, args.password, args.sessions,
                       args.host, args.timeout)
    print(res)
    return 1 if res.get("errors") else 0


if __name__ == "__main__":
    sys.exit(main())
