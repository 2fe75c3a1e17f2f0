# SPDX-License-Identifier: MIT
"""Rows of the IMAP issues (#3 and #5): APPEND, SELECT + FETCH of a big
mailbox, FETCH of every body, UID SEARCH on a header and on body text,
a mixed multi-client load, and the memory of many IDLE connections,
Commune vs Dovecot's imap with the same messages and the same client
(bench/imap_load.py). Format pairs as in rows_store.py: Commune .mbox vs
Dovecot mbox, Commune .mdir vs Dovecot maildir.

Fixtures: the APPEND row fills a mailbox with the {n} mixed messages
that the BODY.PEEK[] row then reads; the big-mailbox rows share one
mailbox of {big} small messages per side and format, imported from the
same mbox file as rows_store.py's (Dovecot's import runs with
mail_fsync=never there: the import is not what these rows measure).
Logins differ by design (rows_pop3.py): yescrypt on Commune, {PLAIN} on
the bench Dovecot; only the mixed and IDLE rows log in on the clock.
"""
import os
import statistics
import time

from harness import Measure, Skip, row, users
import benchlib
import imap_load
import lmtp_load
import msggen

FORMATS = (("mbox", ".mbox", "mbox"), ("mdir", ".mdir", "maildir"))
ORDER = 30
# Small messages already in each account of the mixed load; the
# clients append and expunge their own on top of them.
MIXED_BASE = 100
# Commands per session of the mixed load: ROUNDS rounds of six.
MIXED_ROUNDS = 5
# Accounts the IDLE connections log in to (connections spread evenly):
# at most this many, and about 100 connections each.
IDLE_ACCOUNTS = 100
# Dovecot's defaults allow 100 imap processes and 10 connections per
# user and IP; the IDLE row raises what it must, privately.
DOVECOT_IDLE_CONF = """\
default_process_limit = {procs}
default_client_limit = {clients}
mail_max_userip_connections = {clients}
service imap {{
  process_limit = {procs}
}}
service imap-login {{
  service_count = 0
  process_min_avail = 2
  client_limit = 1000
}}
service anvil {{
  client_limit = {clients}
}}
service auth {{
  client_limit = {clients}
}}
service stats {{
  client_limit = {clients}
}}
"""


# --- APPEND and FETCH of every body ------------------------------------------

class MixedBox:
    """One side's INBOX filled by APPEND of the {n} mixed messages."""

    USER = "mixed"

    def __init__(self, ctx, side, fmt):
        self.ctx = ctx
        self.managed = ctx.server(side, fmt, [self.USER],
                                  protocols=("imap",))
        self.srv = self.managed.srv
        self.result = None

    def fill(self):
        """APPENDs every message once (one session, pipelined);
        returns the imap_load result (the first call's)."""
        if self.result is None:
            msgs = _mixed(self.ctx)
            r = imap_load.append_parallel(
                self.srv.ports["imap"], self.USER, self.srv.password, msgs,
                conns=1, timeout=self.ctx.timeout)
            if r["errors"] or r["messages"] != len(msgs):
                raise RuntimeError(f"{r['messages']} of {len(msgs)} "
                                   f"appended: {'; '.join(r['errors'])}"
                                   [:500])
            stored = self.srv.count(self.USER)
            if stored != len(msgs):
                raise RuntimeError(f"{len(msgs)} acknowledged but {stored} "
                                   "stored")
            self.result = r
        return self.result

    def close(self):
        self.managed.ctx.release(self.srv)


def _mixed(ctx):
    return ctx.cached(("mixed", ctx.n), lambda: lmtp_load.generate(ctx.n))


def mixedbox(ctx, side, fmt):
    def make():
        b = MixedBox(ctx, side, fmt)
        return b, b.close
    return ctx.shared(("imap-mixedbox", side, fmt), make)


def append_row(ctx, side, fmt):
    b = mixedbox(ctx, side, fmt)
    cpu0 = benchlib.cpu_seconds(b.srv.proc.pid)
    if b.result is not None:
        raise Skip("mailbox already filled in this run")
    r = b.fill()
    cpu = benchlib.cpu_seconds(b.srv.proc.pid) - cpu0
    return Measure(r["msgs_per_s"],
                   f"{r['mb_per_s']:.1f} MB/s, server CPU "
                   f"{cpu * 1000 / r['messages']:.2f} ms/msg")


def bodies_row(ctx, side, fmt):
    """FETCH 1:* BODY.PEEK[] ctx.repeat times after one cold pass; the
    median of the warm passes. Every byte is checked against the sizes
    of what was appended."""
    b = mixedbox(ctx, side, fmt)
    b.fill()
    want = sum(len(m) for m in _mixed(ctx))
    port, pw = b.srv.ports["imap"], b.srv.password
    runs = []
    for _ in range(1 + ctx.repeat):
        secs, count, nbytes = imap_load.fetch_bodies(port, b.USER, pw)
        if count != ctx.n or nbytes != want:
            raise RuntimeError(f"FETCH gave {count} bodies, {nbytes} "
                               f"bytes; expected {ctx.n}, {want}")
        runs.append(secs)
    warm = statistics.median(runs[1:] or runs)
    return Measure(ctx.n / warm, f"{want / 1e6 / warm:.0f} MB/s, first "
                   f"pass {ctx.n / runs[0]:,.0f} msg/s")


for _fmt, _cname, _dname in FORMATS:
    _pair = f"Commune {_cname} vs Dovecot {_dname}"
    row(f"imap-append-{_fmt}",
        f"IMAP APPEND (LITERAL+, 8 in flight) of {{n}} mixed msgs, one "
        f"session: {_pair}", "msg/s", higher=True)(
        lambda ctx, side, fmt=_fmt: append_row(ctx, side, fmt))
    row(f"imap-bodies-{_fmt}",
        f"IMAP FETCH 1:* BODY.PEEK[] of the {{n}} appended msgs "
        f"(median): {_pair}", "msg/s", higher=True)(
        lambda ctx, side, fmt=_fmt: bodies_row(ctx, side, fmt))


# --- the big mailbox: SELECT + FETCH, SEARCH ---------------------------------

class ImapBigBox:
    """One side's INBOX of ctx.big small messages, served over IMAP."""

    USER = "big"

    def __init__(self, ctx, side, fmt):
        self.ctx = ctx
        path = ctx.cached(("big-mbox", ctx.big), lambda: _big_mbox(ctx))
        self.managed = ctx.server(side, fmt, [self.USER],
                                  protocols=("imap",))
        self.srv = self.managed.srv
        kw = {"fsync": False} if side == "dovecot" else {}
        self.srv.import_mbox(self.USER, path, timeout=ctx.timeout, **kw)
        self.opened = False

    def meta(self):
        secs, count, _size = imap_load.fetch_meta(
            self.srv.ports["imap"], self.USER, self.srv.password)
        self.opened = True
        if count != self.ctx.big:
            raise RuntimeError(f"SELECT shows {count} messages, expected "
                               f"{self.ctx.big}")
        return secs

    def close(self):
        self.managed.ctx.release(self.srv)


def _big_mbox(ctx):
    path = os.path.join(ctx.tmp("big-mbox"), "big.mbox")
    msggen.write_mbox(path, ctx.big, msggen.small)
    os.chmod(path, 0o644)
    return path


def imap_bigbox(ctx, side, fmt):
    def make():
        b = ImapBigBox(ctx, side, fmt)
        return b, b.close
    return ctx.shared(("imap-bigbox", side, fmt), make)


def meta_row(ctx, side, fmt):
    """SELECT + UID FETCH 1:* (UID FLAGS RFC822.SIZE): the first one
    after the import (in the note) and the median of ctx.repeat more."""
    b = imap_bigbox(ctx, side, fmt)
    first = None if b.opened else b.meta()
    times = [b.meta() for _ in range(ctx.repeat)]
    note = f"min {benchlib.fmt_num(min(times))}"
    if first is not None:
        note += f", first {benchlib.fmt_num(first)}"
    return Measure(statistics.median(times), note)


def _expected(ctx, kind):
    """Which of the ctx.big messages (0-based) each search must find,
    computed from the generator, never from a server."""
    def body():
        hits = set()
        for i in range(ctx.big):
            m = msggen.small(i)
            if BODY_TERM in m[m.find(b"\r\n\r\n"):].lower():
                hits.add(i)
        return hits
    if kind == "from":
        return {i for i in range(ctx.big) if i % 97 == 13}
    if kind == "subject":
        return {i for i in range(ctx.big) if str(i).startswith("4242")}
    return ctx.cached(("imap-body-hits", ctx.big), body)


# The search terms (msggen.small: From "sender{i % 97}", Subject "...
# #{i}", text from a pool of common words).
BODY_TERM = b"budget quarter"
SEARCHES = {
    "from": 'FROM "sender13@"',
    "subject": 'SUBJECT "#4242"',
    "body": f'BODY "{BODY_TERM.decode()}"',
}


def search_row(ctx, side, fmt, kind):
    """UID SEARCH, median of ctx.repeat (after one untimed warm-up); the
    hits must be exactly the expected messages (UIDs 1..big in import
    order)."""
    b = imap_bigbox(ctx, side, fmt)
    if not b.opened:
        b.meta()
    want = {i + 1 for i in _expected(ctx, kind)}
    port, pw = b.srv.ports["imap"], b.srv.password
    times = []
    for _ in range(1 + ctx.repeat):
        secs, uids = imap_load.search(port, b.USER, pw, SEARCHES[kind])
        if uids != want:
            raise RuntimeError(f"SEARCH {SEARCHES[kind]}: {len(uids)} hits, "
                               f"expected {len(want)} "
                               f"({len(uids ^ want)} differ)")
        times.append(secs)
    warm = times[1:] or times
    return Measure(statistics.median(warm),
                   f"{len(want):,} hits, min {benchlib.fmt_num(min(warm))}")


for _fmt, _cname, _dname in FORMATS:
    _pair = f"Commune {_cname} vs Dovecot {_dname}"
    row(f"imap-meta-{_fmt}",
        f"IMAP SELECT + UID FETCH 1:* (UID FLAGS RFC822.SIZE), {{big}}-msg "
        f"INBOX, warm (median): {_pair}", "s", higher=False)(
        lambda ctx, side, fmt=_fmt: meta_row(ctx, side, fmt))
    for _kind in SEARCHES:
        row(f"imap-search-{_kind}-{_fmt}",
            f"IMAP UID SEARCH {SEARCHES[_kind]} on the {{big}}-msg INBOX "
            f"(median): {_pair}", "s", higher=False)(
            lambda ctx, side, fmt=_fmt, k=_kind: search_row(ctx, side,
                                                            fmt, k))


# --- the mixed multi-client load ---------------------------------------------

def mixed_row(ctx, side, fmt, clients):
    """clients clients over min(clients, 10) accounts of MIXED_BASE
    messages; sessions of LOGIN, SELECT, MIXED_ROUNDS x (FETCH flags,
    FETCH body, STORE, APPEND, UID STORE \\Deleted, UID EXPUNGE),
    LOGOUT. Commands per second over the whole run."""
    k = min(clients, 10)
    us = users(k)
    path = ctx.cached(("imap-mixed-base", MIXED_BASE),
                      lambda: _small_mbox(ctx, MIXED_BASE))
    sessions = max(2 * clients, ctx.n // 200)
    with ctx.server(side, fmt, us, protocols=("imap",)) as srv:
        for u in us:
            srv.import_mbox(u, path)
        cpu0 = benchlib.cpu_seconds(srv.proc.pid)
        r = imap_load.mixed(srv.ports["imap"], us, srv.password, clients,
                            sessions, rounds=MIXED_ROUNDS, base=MIXED_BASE,
                            timeout=ctx.timeout)
        cpu = benchlib.cpu_seconds(srv.proc.pid) - cpu0
        if r["errors"]:
            raise RuntimeError("; ".join(r["errors"])[:500])
        left = [srv.count(u) for u in us]
    extra = sum(left) - MIXED_BASE * k
    if extra and side == "commune":
        raise RuntimeError(f"messages left {left}, expected {MIXED_BASE} "
                           "each (every APPEND is expunged again)")
    if extra:
        # Seen with Dovecot mbox and 10 sessions per mailbox: UID
        # EXPUNGE answered OK (after a FETCH showing \Deleted) yet the
        # message is still there. Reported, not hidden.
        ctx.note(f"{side} {fmt}, {clients} clients: {extra} appended "
                 "messages were still in the mailboxes after their "
                 "UID EXPUNGE had been answered OK.")
    retries = (f", {r['retries']} STORE retries (appended message not "
               f"yet in the session)" if r["retries"] else "")
    lost = f", {extra} not expunged" if extra else ""
    return Measure(r["ops_per_s"],
                   f"{r['ops']:,} commands{retries}{lost}, {sessions} sessions, "
                   f"server "
                   f"CPU {cpu * 1000 / r['ops']:.2f} ms/cmd")


def _small_mbox(ctx, n):
    path = os.path.join(ctx.tmp("imap-mixed"), "base.mbox")
    msggen.write_mbox(path, n, msggen.small)
    os.chmod(path, 0o644)
    return path


for _fmt, _cname, _dname in FORMATS:
    for _clients in (10, 100):
        row(f"imap-mixed{_clients}-{_fmt}",
            f"IMAP mixed load (login, select, fetch, store, append, "
            f"expunge), {_clients} clients: Commune {_cname} vs Dovecot "
            f"{_dname}", "cmd/s", higher=True)(
            lambda ctx, side, fmt=_fmt, c=_clients: mixed_row(ctx, side,
                                                              fmt, c))


# --- many IDLE connections ----------------------------------------------------

def _server_pids(srv):
    return [srv.proc.pid] + benchlib._children_of(srv.proc.pid)


def idle_row(ctx, side):
    """ctx.idle connections logged in, INBOX selected, in IDLE. The
    server's memory (sum of Pss over its processes, which is its RSS for
    Commune's single process) before and with them; the figure is the
    growth per connection. Then one APPEND per account must reach every
    connection as an EXISTS, so none of them was dead."""
    n = ctx.idle
    k = min(IDLE_ACCOUNTS, max(1, n // 100))
    us = users(k)
    conf = DOVECOT_IDLE_CONF.format(procs=n + 100, clients=2 * n + 100)
    # Started servers inherit this: a socket per connection, and on
    # Commune a descriptor of the selected mailbox file per session too.
    limit = imap_load.raise_nofile(3 * n + 1000)
    if limit < 3 * n + 1000:
        ctx.note(f"RLIMIT_NOFILE is {limit}: {n:,} IDLE connections "
                 "may not fit (raise the hard limit, e.g. as root)")
    with ctx.server(side, "mbox", us, protocols=("imap",),
                    dovecot_conf=conf) as srv:
        port, pw = srv.ports["imap"], srv.password
        for u in us:
            # Opens every INBOX once, so the base figure has the
            # per-account state a connection shares.
            imap_load.fetch_meta(port, u, pw)
        time.sleep(0.5)
        rss0, pss0 = imap_load.rss_kib(_server_pids(srv))
        t0 = time.monotonic()
        with imap_load.IdleHold(port, us, pw, n, procs=4,
                                timeout=ctx.timeout) as hold:
            secs = time.monotonic() - t0
            time.sleep(1.0)
            pids = _server_pids(srv)
            rss1, pss1 = imap_load.rss_kib(pids)
            msg = [msggen.small(0)]
            for u in us:
                imap_load.append(port, u, pw, msg)
            hold.check_exists()
    per = (pss1 - pss0) / n
    return Measure(per, f"{pss1 / 1024:,.0f} MiB Pss with {n:,} "
                   f"({pss0 / 1024:,.0f} before; RSS sum "
                   f"{rss1 / 1024:,.0f} MiB, {len(pids)} processes); "
                   f"set up in {secs:.0f} s")


row("imap-idle", "IMAP: {idle} connections in IDLE, 100 per account, "
    "server memory growth per connection (Pss), .mbox / mbox", "KiB/conn",
    higher=False)(idle_row)
