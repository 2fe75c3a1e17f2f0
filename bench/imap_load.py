#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""IMAP load driver for the benchmark rows (also a command-line tool).

The same client code runs against any IMAP4rev1 server (Commune and the
private Dovecot of bench/dovecot.py):

  append        one session APPENDing messages with LITERAL+ (RFC 7888),
                WINDOW commands in flight; counts the tagged OKs.
  fetch_meta    SELECT + UID FETCH 1:* (UID FLAGS RFC822.SIZE).
  fetch_bodies  FETCH 1:* BODY.PEEK[]: every literal is read and counted.
  search        UID SEARCH with one criterion; returns the UIDs.
  mixed         C clients (asyncio, spread over a few processes), each
                running sessions of LOGIN, SELECT, FETCH, STORE, APPEND,
                UID STORE \\Deleted, UID EXPUNGE (RFC 4315), LOGOUT until
                the shared count of sessions is done; reports commands/s.
  idle_hold     N authenticated connections in IDLE (RFC 2177), held by
                a few processes with a selector each (non-blocking
                sockets, one small buffer a connection); then one APPEND
                must reach every one of them as "* n EXISTS".

Replies are read with large recv()s into one buffer; a line that ends
in a literal "{n}" is followed by n raw bytes, which are skipped (and
counted), never parsed. Every tagged reply is checked: NO, BAD, BYE or
a missing reply fails the run. Every wait has a time limit.

    bench/imap_load.py --port 1143 --user u1 --password bench meta
    bench/imap_load.py --port 1143 --password bench idle -n 1000 -k 10
"""
import argparse
import asyncio
import multiprocessing
import os
import queue
import random
import re
import resource
import selectors
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import msggen  # noqa: E402

IO_TIMEOUT = 120.0
RECV = 1 << 20
# A literal at the end of a reply line: {123} (LITERAL+ {123+} is only
# sent by clients).
_LITERAL = re.compile(rb"\{(\d+)\}$")
_EXISTS = re.compile(rb"^\* (\d+) EXISTS")


class ImapError(Exception):
    pass


def quote(s):
    """An IMAP quoted string (RFC 3501 §4.3)."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Conn:
    """A minimal blocking IMAP client for measuring."""

    def __init__(self, host, port, timeout=IO_TIMEOUT):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.pos = 0
        self.ntag = 0
        greeting = self.line()
        if not greeting.startswith(b"* OK"):
            raise ImapError(f"greeting: {greeting[:200]!r}")

    def _fill(self):
        if self.pos:
            del self.buf[:self.pos]
            self.pos = 0
        data = self.sock.recv(RECV)
        if not data:
            raise ImapError("connection closed by the server")
        self.buf += data

    def line(self):
        """The next line, without CRLF (literals are not handled)."""
        while True:
            i = self.buf.find(b"\r\n", self.pos)
            if i >= 0:
                line = bytes(self.buf[self.pos:i])
                self.pos = i + 2
                return line
            self._fill()

    def skip(self, n):
        """Skips n raw bytes (a literal's contents)."""
        while len(self.buf) - self.pos < n:
            n -= len(self.buf) - self.pos
            self.pos = len(self.buf)
            self._fill()
        self.pos += n

    def reply(self):
        """One response (a line plus its literals). Returns (first line,
        literal bytes skipped); literal lines are joined by b"{}"."""
        parts = []
        lit = 0
        while True:
            line = self.line()
            m = _LITERAL.search(line)
            if m is None:
                parts.append(line)
                return b"{}".join(parts), lit
            n = int(m.group(1))
            parts.append(line[:m.start()])
            self.skip(n)
            lit += n

    def tag(self):
        self.ntag += 1
        return b"a%d" % self.ntag

    def send(self, data):
        self.sock.sendall(data)

    def wait(self, tag, what, on_untagged=None):
        """Reads up to the tagged reply of tag; returns it. Untagged
        replies go to on_untagged(line, literal_bytes)."""
        while True:
            line, lit = self.reply()
            if line.startswith(tag + b" "):
                if line[len(tag) + 1:len(tag) + 4] != b"OK ":
                    raise ImapError(f"{what}: {line[:300]!r}")
                return line
            if line.startswith(b"* BYE"):
                raise ImapError(f"{what}: {line[:300]!r}")
            if on_untagged is not None:
                on_untagged(line, lit)

    def cmd(self, text, what=None, on_untagged=None):
        t = self.tag()
        data = text.encode() if isinstance(text, str) else text
        self.send(t + b" " + data + b"\r\n")
        return self.wait(t, what or data[:40].decode(errors="replace"),
                         on_untagged)

    def login(self, user, password):
        self.cmd(f"LOGIN {quote(user)} {quote(password)}", "LOGIN")

    def select(self, box="INBOX"):
        """SELECT; returns EXISTS."""
        got = {}

        def untagged(line, _lit):
            m = _EXISTS.match(line)
            if m:
                got["exists"] = int(m.group(1))
        self.cmd(f"SELECT {quote(box)}", "SELECT", untagged)
        if "exists" not in got:
            raise ImapError("SELECT without EXISTS")
        return got["exists"]

    def logout(self):
        try:
            t = self.tag()
            self.send(t + b" LOGOUT\r\n")
            while True:
                line, _ = self.reply()
                if line.startswith(t + b" "):
                    break
        except (OSError, ImapError):
            pass
        finally:
            self.sock.close()


def connect(port, user, password, host="127.0.0.1"):
    c = Conn(host, port)
    c.login(user, password)
    return c


# --- single-session workloads ----------------------------------------------

def append(port, user, password, msgs, box="INBOX", window=8,
           host="127.0.0.1", timeout=1800.0):
    """APPENDs every message of msgs (bytes, CRLF) to box, pipelined
    with LITERAL+ (both servers announce it). Returns a dict: messages,
    bytes, seconds, msgs_per_s, mb_per_s."""
    c = connect(port, user, password, host)
    deadline = time.monotonic() + timeout
    prefix = f"APPEND {quote(box)} ".encode()
    t0 = time.perf_counter()
    sent = done = 0
    tags = []
    nbytes = 0
    while done < len(msgs):
        while sent < len(msgs) and sent - done < window:
            m = msgs[sent]
            t = c.tag()
            c.send(t + b" " + prefix + b"{%d+}\r\n" % len(m) + m + b"\r\n")
            tags.append(t)
            nbytes += len(m)
            sent += 1
        c.wait(tags[done], f"APPEND {done + 1}")
        done += 1
        if time.monotonic() > deadline:
            raise ImapError(f"time limit of {timeout:.0f} s hit")
    secs = time.perf_counter() - t0
    c.logout()
    return {"messages": done, "bytes": nbytes, "seconds": secs,
            "msgs_per_s": done / secs, "mb_per_s": nbytes / 1e6 / secs}


def _append_worker(wid, port, user, password, msgs, host, timeout,
                   barrier, results):
    try:
        barrier.wait(timeout=timeout)
        r = append(port, user, password, msgs, host=host, timeout=timeout)
        results.put((wid, r, None))
    except Exception as e:
        barrier.abort()
        results.put((wid, None, f"worker {wid}: {type(e).__name__}: {e}"))


def append_parallel(port, user, password, msgs, conns=4, host="127.0.0.1",
                    timeout=1800.0):
    """conns sessions APPENDing to the same INBOX, message i from
    session i % conns. Returns a dict like append()'s plus errors; the
    clock runs from the start barrier to the last session's end."""
    ctx = multiprocessing.get_context("fork")
    conns = max(1, min(conns, len(msgs)))
    barrier = ctx.Barrier(conns)
    results = ctx.Queue()
    ps = [ctx.Process(target=_append_worker,
                      args=(w, port, user, password, msgs[w::conns], host,
                            timeout, barrier, results), daemon=True)
          for w in range(conns)]
    t0 = time.perf_counter()
    for p in ps:
        p.start()
    got = _collect(ps, results, timeout + 2 * IO_TIMEOUT)
    secs = time.perf_counter() - t0
    errors = [g[2] for g in got if g[2]]
    if len(got) < len(ps):
        errors.append(f"{len(ps) - len(got)} worker(s) never reported")
    ok = [g[1] for g in got if g[1]]
    done = sum(r["messages"] for r in ok)
    nbytes = sum(r["bytes"] for r in ok)
    if ok:
        # Process start-up is not the server's time: the slowest
        # session's own clock, which starts at the barrier.
        secs = max(r["seconds"] for r in ok)
    return {"messages": done, "bytes": nbytes, "seconds": secs,
            "msgs_per_s": done / secs if secs > 0 else 0.0,
            "mb_per_s": nbytes / 1e6 / secs if secs > 0 else 0.0,
            "errors": errors}


def fetch_meta(port, user, password, host="127.0.0.1"):
    """SELECT INBOX + UID FETCH 1:* (UID FLAGS RFC822.SIZE) on a fresh
    login; only the two commands are timed. Returns (seconds, messages,
    total size)."""
    c = connect(port, user, password, host)
    try:
        t0 = time.perf_counter()
        exists = c.select()
        n = [0, 0]

        def untagged(line, _lit):
            if line.startswith(b"* ") and b" FETCH " in line[:24]:
                n[0] += 1
                i = line.find(b"RFC822.SIZE ")
                if i < 0:
                    raise ImapError(f"no size: {line[:200]!r}")
                j = i + 12
                k = j
                while k < len(line) and 48 <= line[k] <= 57:
                    k += 1
                n[1] += int(line[j:k])
        c.cmd("UID FETCH 1:* (UID FLAGS RFC822.SIZE)", "UID FETCH",
              untagged)
        secs = time.perf_counter() - t0
    finally:
        c.logout()
    if n[0] != exists:
        raise ImapError(f"FETCH returned {n[0]} of {exists} messages")
    return secs, exists, n[1]


def fetch_bodies(port, user, password, host="127.0.0.1"):
    """SELECT, then FETCH 1:* BODY.PEEK[] (timed). Returns (seconds,
    messages, literal bytes)."""
    c = connect(port, user, password, host)
    try:
        exists = c.select()
        n = [0, 0]

        def untagged(line, lit):
            if b" FETCH " in line[:24]:
                n[0] += 1
                n[1] += lit
        t0 = time.perf_counter()
        c.cmd("FETCH 1:* BODY.PEEK[]", "FETCH BODY.PEEK[]", untagged)
        secs = time.perf_counter() - t0
    finally:
        c.logout()
    if n[0] != exists:
        raise ImapError(f"FETCH returned {n[0]} of {exists} bodies")
    return secs, exists, n[1]


def search(port, user, password, criteria, host="127.0.0.1"):
    """SELECT, then UID SEARCH criteria (timed). Returns (seconds, set
    of UIDs)."""
    c = connect(port, user, password, host)
    try:
        c.select()
        uids = set()

        def untagged(line, _lit):
            if line.startswith(b"* SEARCH"):
                uids.update(int(x) for x in line[8:].split())
        t0 = time.perf_counter()
        c.cmd("UID SEARCH " + criteria, "UID SEARCH", untagged)
        secs = time.perf_counter() - t0
    finally:
        c.logout()
    return secs, uids


# --- the mixed multi-client load ---------------------------------------------

class AConn:
    """The asyncio twin of Conn, for the mixed load."""

    def __init__(self, reader, writer):
        self.r = reader
        self.w = writer
        self.ntag = 0
        self.ops = 0
        self.retries = 0

    @classmethod
    async def open(cls, host, port):
        r, w = await asyncio.open_connection(host, port, limit=RECV)
        w.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP,
                                              socket.TCP_NODELAY, 1)
        c = cls(r, w)
        line = await c.r.readline()
        if not line.startswith(b"* OK"):
            raise ImapError(f"greeting: {line[:200]!r}")
        return c

    async def reply(self):
        parts = []
        while True:
            line = await self.r.readuntil(b"\r\n")
            line = line[:-2]
            m = _LITERAL.search(line)
            if m is None:
                parts.append(line)
                return b"{}".join(parts)
            parts.append(line[:m.start()])
            await self.r.readexactly(int(m.group(1)))

    async def cmd(self, text, literal=None):
        """Sends one command (with an optional LITERAL+ literal) and
        returns (untagged lines, tagged line); NO/BAD raise."""
        self.ntag += 1
        t = b"a%d" % self.ntag
        data = t + b" " + text.encode()
        if literal is not None:
            data += b" {%d+}\r\n" % len(literal) + literal
        self.w.write(data + b"\r\n")
        out = []
        while True:
            line = await self.reply()
            if line.startswith(t + b" "):
                if line[len(t) + 1:len(t) + 4] != b"OK ":
                    raise ImapError(f"{text[:40]}: {line[:300]!r}")
                self.ops += 1
                return out, line
            if line.startswith(b"* BYE") and text != "LOGOUT":
                raise ImapError(f"{text[:40]}: {line[:300]!r}")
            out.append(line)

    async def close(self):
        self.w.close()
        try:
            await self.w.wait_closed()
        except OSError:
            pass


_APPENDUID = re.compile(rb"\[APPENDUID \d+ (\d+)\]")


async def _delete(c, uid, tries=20):
    """UID STORE \\Deleted + UID EXPUNGE of a message this session just
    appended. A server may show the new message only at a later sync
    (RFC 3501 §7.3.1: EXISTS comes when the server is ready); while the
    STORE answers no FETCH for it, a NOOP asks for that sync."""
    for _ in range(tries):
        out, _ = await c.cmd(f"UID STORE {uid} +FLAGS (\\Deleted)")
        if any(b" FETCH " in line[:24] for line in out):
            await c.cmd(f"UID EXPUNGE {uid}")
            return
        c.retries += 1
        await c.cmd("NOOP")
        await asyncio.sleep(0.01)
    raise ImapError(f"appended UID {uid} never appeared in the session")


async def _session(args, user, rng, base):
    """One session: LOGIN, SELECT, ROUNDS x (FETCH of 10 messages'
    flags and sizes, FETCH of one body, STORE \\Seen, APPEND, UID STORE
    \\Deleted + UID EXPUNGE of what was appended), LOGOUT. The base
    messages 1..base are never expunged, so their numbers stay valid
    while other clients append and expunge."""
    c = await AConn.open(args.host, args.port)
    try:
        await c.cmd(f"LOGIN {quote(user)} {quote(args.password)}")
        await c.cmd("SELECT INBOX")
        for _ in range(args.rounds):
            a = rng.randint(1, base - 9)
            await c.cmd(f"FETCH {a}:{a + 9} (FLAGS RFC822.SIZE)")
            await c.cmd(f"FETCH {rng.randint(1, base)} BODY.PEEK[]")
            sign = "+" if rng.random() < 0.5 else "-"
            await c.cmd(f"STORE {rng.randint(1, base)} {sign}FLAGS "
                        "(\\Seen)")
            msg = msggen.small(rng.randrange(1 << 30))
            _, tagged = await c.cmd("APPEND INBOX", msg)
            m = _APPENDUID.search(tagged)
            if m is None:
                raise ImapError(f"APPEND without APPENDUID: {tagged!r}")
            uid = m.group(1).decode()
            await _delete(c, uid)
        await c.cmd("LOGOUT")
    finally:
        await c.close()
    return c.ops, c.retries


async def _mixed_proc(args, users, counter, deadline):
    """Runs one process's clients until the shared counter is used up."""
    errors = []
    ops = [0, 0]

    async def client(i, user):
        rng = random.Random(args.seed * 7919 + i)
        while time.monotonic() < deadline:
            with counter.get_lock():
                if counter.value <= 0:
                    return
                counter.value -= 1
            # Not "ops[0] += await ...": that reads ops[0] before
            # the await and loses the other clients' counts.
            n, retries = await _session(args, user, rng, args.base)
            ops[0] += n
            ops[1] += retries
        raise ImapError(f"time limit of {args.timeout:.0f} s hit")

    async def guarded(i, user):
        try:
            await asyncio.wait_for(client(i, user),
                                   deadline - time.monotonic() + 5)
        except Exception as e:  # reported to the parent
            errors.append(f"client {i} ({user}): {type(e).__name__}: {e}")
            with counter.get_lock():
                counter.value = 0
    await asyncio.gather(*(guarded(i, u) for i, u in users))
    return ops, errors


def _mixed_worker(wid, args, users, barrier, counter, results):
    t0 = t1 = 0.0
    ops, errors = [0, 0], []
    try:
        barrier.wait(timeout=args.timeout)
        t0 = time.monotonic()
        ops, errors = asyncio.run(_mixed_proc(args, users, counter,
                                              t0 + args.timeout))
    except Exception as e:
        errors = [f"worker {wid}: {type(e).__name__}: {e}"]
        barrier.abort()
    t1 = time.monotonic()
    results.put((wid, t0, t1, ops, errors))


def mixed(port, users, password, clients, sessions, rounds=5, base=100,
          procs=2, host="127.0.0.1", timeout=1800.0, seed=1):
    """clients concurrent clients (client i uses users[i % len(users)])
    running sessions sessions in all, spread over procs processes.
    Returns a dict: sessions, ops, seconds, ops_per_s, errors."""
    args = argparse.Namespace(host=host, port=port, password=password,
                              rounds=rounds, base=base, timeout=timeout,
                              seed=seed)
    ctx = multiprocessing.get_context("fork")
    procs = max(1, min(procs, clients))
    barrier = ctx.Barrier(procs)
    counter = ctx.Value("i", sessions)
    results = ctx.Queue()
    mine = [[] for _ in range(procs)]
    for i in range(clients):
        mine[i % procs].append((i, users[i % len(users)]))
    ps = [ctx.Process(target=_mixed_worker,
                      args=(w, args, mine[w], barrier, counter, results),
                      daemon=True) for w in range(procs)]
    for p in ps:
        p.start()
    got = _collect(ps, results, timeout + 2 * IO_TIMEOUT)
    starts = [g[1] for g in got if g[1]]
    ends = [g[2] for g in got if g[2]]
    secs = (max(ends) - min(starts)) if starts and ends else 0.0
    ops = sum(g[3][0] for g in got)
    retries = sum(g[3][1] for g in got)
    errors = [e for g in got for e in g[4]]
    if len(got) < len(ps):
        errors.append(f"{len(ps) - len(got)} worker(s) never reported")
    # Each retry of _delete adds a NOOP and a STORE.
    per = 3 + 6 * rounds
    if not errors and ops != sessions * per + 2 * retries:
        errors.append(f"{ops} commands done, expected {sessions * per} "
                      f"+ {2 * retries} for retries")
    return {"sessions": sessions, "ops": ops, "retries": retries,
            "seconds": secs,
            "ops_per_s": ops / secs if secs > 0 else 0.0,
            "errors": errors}


def _collect(ps, results, limit):
    got = []
    deadline = time.monotonic() + limit
    try:
        while len(got) < len(ps) and time.monotonic() < deadline:
            try:
                got.append(results.get(timeout=1.0))
            except queue.Empty:
                if not any(p.is_alive() for p in ps) and results.empty():
                    break
    finally:
        for p in ps:
            p.join(timeout=5)
            if p.is_alive():
                p.kill()
                p.join(timeout=5)
    return got


# --- many IDLE connections ---------------------------------------------------

# States of one IDLE connection.
_GREET, _LOGIN, _SELECT, _IDLE, _READY, _SEEN = range(6)


class _Idler:
    __slots__ = ("sock", "state", "buf", "user")

    def __init__(self, sock, user):
        self.sock = sock
        self.state = _GREET
        self.buf = b""
        self.user = user


def _idle_step(c, line, password):
    """Advances c on one reply line; returns bytes to send."""
    if c.state == _GREET:
        if not line.startswith(b"* OK"):
            raise ImapError(f"greeting: {line[:100]!r}")
        c.state = _LOGIN
        return (f"l LOGIN {quote(c.user)} {quote(password)}\r\n").encode()
    if line.startswith(b"* BYE") or line[:4] in (b"l NO", b"s NO") or \
            line[:5] in (b"l BAD", b"s BAD"):
        raise ImapError(f"{c.user}: {line[:200]!r}")
    if c.state == _LOGIN and line.startswith(b"l OK"):
        c.state = _SELECT
        return b"s SELECT INBOX\r\n"
    if c.state == _SELECT and line.startswith(b"s OK"):
        c.state = _IDLE
        return b"i IDLE\r\n"
    if c.state == _IDLE and line.startswith(b"+"):
        c.state = _READY
    elif c.state == _READY and _EXISTS.match(line):
        c.state = _SEEN
    return b""


def _idle_pump(sel, conns, want, password, deadline):
    """Runs the selector until every connection of conns is at least in
    state want, or the deadline passes (then raises)."""
    while any(c.state < want for c in conns):
        if time.monotonic() > deadline:
            n = sum(1 for c in conns if c.state < want)
            raise ImapError(f"{n} of {len(conns)} connections not ready "
                            "in time")
        for key, _ev in sel.select(timeout=1.0):
            c = key.data
            try:
                data = c.sock.recv(65536)
            except BlockingIOError:
                continue
            if not data:
                raise ImapError(f"{c.user}: connection closed in state "
                                f"{c.state}")
            c.buf += data
            while b"\r\n" in c.buf:
                line, c.buf = c.buf.split(b"\r\n", 1)
                out = _idle_step(c, line, password)
                if out:
                    c.sock.sendall(out)


def _idle_worker(wid, args, users, ctl, results):
    """Opens len(users) connections, brings each to IDLE (at most
    args.burst handshakes in flight), reports, waits for "exists", then
    waits until each saw an EXISTS, reports again and closes."""
    sel = selectors.DefaultSelector()
    conns = []
    try:
        deadline = time.monotonic() + args.timeout
        for i in range(0, len(users), args.burst):
            batch = []
            for u in users[i:i + args.burst]:
                s = socket.create_connection((args.host, args.port),
                                             timeout=IO_TIMEOUT)
                s.setblocking(False)
                c = _Idler(s, u)
                sel.register(s, selectors.EVENT_READ, c)
                batch.append(c)
            conns += batch
            _idle_pump(sel, batch, _READY, args.password, deadline)
        results.put((wid, "ready", len(conns), None))
        cmd = ctl.get(timeout=args.timeout)
        if cmd == "exists":
            _idle_pump(sel, conns, _SEEN, args.password,
                       time.monotonic() + IO_TIMEOUT)
            results.put((wid, "seen", len(conns), None))
            ctl.get(timeout=args.timeout)
    except Exception as e:
        results.put((wid, "error", len(conns),
                     f"worker {wid}: {type(e).__name__}: {e}"))
    finally:
        for c in conns:
            try:
                c.sock.close()
            except OSError:
                pass


def raise_nofile(need):
    """Raises our soft RLIMIT_NOFILE to at least need (and the hard
    limit too when we may: as root), else as far as the hard limit
    goes. Servers started afterwards inherit it. Returns the soft
    limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < need:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, need))
            return need
        except (ValueError, OSError):
            pass
    want = hard if hard != resource.RLIM_INFINITY else max(soft, need)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        soft = want
    return soft


class IdleHold:
    """n IDLE connections over procs processes. Use as a context
    manager: __enter__ returns once all are in IDLE (or raises);
    check_exists() returns once each has seen an EXISTS."""

    def __init__(self, port, users, password, n, procs=4, burst=200,
                 host="127.0.0.1", timeout=1800.0):
        self.args = argparse.Namespace(host=host, port=port,
                                       password=password, burst=burst,
                                       timeout=timeout)
        self.n = n
        self.procs = max(1, min(procs, n))
        self.users = [users[i % len(users)] for i in range(n)]
        self.ps = []
        self.ctls = []

    def __enter__(self):
        raise_nofile(self.n // self.procs + 100)
        ctx = multiprocessing.get_context("fork")
        self.results = ctx.Queue()
        for w in range(self.procs):
            ctl = ctx.Queue()
            us = self.users[w::self.procs]
            p = ctx.Process(target=_idle_worker,
                            args=(w, self.args, us, ctl, self.results),
                            daemon=True)
            p.start()
            self.ps.append(p)
            self.ctls.append(ctl)
        try:
            self._await("ready")
        except Exception:
            self.__exit__()
            raise
        return self

    def _await(self, what):
        got = 0
        deadline = time.monotonic() + self.args.timeout
        while got < len(self.ps):
            left = deadline - time.monotonic()
            if left <= 0:
                raise ImapError(f"IDLE workers not {what} in time")
            try:
                _wid, state, _n, err = self.results.get(
                    timeout=min(left, 5.0))
            except queue.Empty:
                if not any(p.is_alive() for p in self.ps):
                    raise ImapError("IDLE workers died")
                continue
            if state == "error":
                raise ImapError(err)
            if state == what:
                got += 1

    def check_exists(self):
        for ctl in self.ctls:
            ctl.put("exists")
        self._await("seen")

    def __exit__(self, *exc):
        for ctl in self.ctls:
            try:
                ctl.put("close")
            except (OSError, ValueError):
                pass
        for p in self.ps:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
                p.join(timeout=5)


def rss_kib(pids):
    """Sum of VmRSS and of Pss (smaps_rollup) over pids, in KiB. Pss
    splits shared pages between the processes that map them, so the
    sum is fair for a server of many processes."""
    rss = pss = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
        except OSError:
            continue
    return rss, pss


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--user", default="user1")
    ap.add_argument("--timeout", type=float, default=1800.0)
    sub = ap.add_subparsers(dest="what", required=True)
    sub.add_parser("meta", help="SELECT + UID FETCH 1:* metadata")
    sub.add_parser("bodies", help="FETCH 1:* BODY.PEEK[]")
    a = sub.add_parser("append", help="APPEND n mixed messages")
    a.add_argument("-n", type=int, default=1000)
    m = sub.add_parser("mixed", help="the mixed multi-client load")
    m.add_argument("-c", "--clients", type=int, default=10)
    m.add_argument("-s", "--sessions", type=int, default=50)
    m.add_argument("-k", "--accounts", type=int, default=1)
    i = sub.add_parser("idle", help="hold n IDLE connections")
    i.add_argument("-n", type=int, default=1000)
    i.add_argument("-k", "--accounts", type=int, default=1)
    i.add_argument("--procs", type=int, default=4)
    args = ap.parse_args()
    if args.what == "meta":
        print(fetch_meta(args.port, args.user, args.password, args.host))
    elif args.what == "bodies":
        print(fetch_bodies(args.port, args.user, args.password, args.host))
    elif args.what == "append":
        msgs = [msggen.mixed(j) for j in range(args.n)]
        print(append(args.port, args.user, args.password, msgs,
                     host=args.host, timeout=args.timeout))
    elif args.what == "mixed":
        us = [f"user{j}" for j in range(1, args.accounts + 1)]
        r = mixed(args.port, us, args.password, args.clients,
                  args.sessions, host=args.host, timeout=args.timeout)
        print(r)
        return 1 if r["errors"] else 0
    else:
        us = [f"user{j}" for j in range(1, args.accounts + 1)]
        with IdleHold(args.port, us, args.password, args.n, args.procs,
                      host=args.host, timeout=args.timeout):
            print(f"{args.n} connections in IDLE; Ctrl-C ends",
                  flush=True)
            try:
                time.sleep(args.timeout)
            except KeyboardInterrupt:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
