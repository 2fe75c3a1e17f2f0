# SPDX-License-Identifier: MIT
"""Rows of the account store issue (#2): LMTP delivery into each mailbox
format, and filling, opening and listing a 100,000-message mailbox.

Format pairs: Commune .mbox vs Dovecot mbox, Commune .mdir vs Dovecot
maildir (one file per message on both sides).
"""
import os
import shutil
import statistics
import time

from harness import Measure, Skip, row, users
import benchlib
import lmtp_load
import msggen

FORMATS = (("mbox", ".mbox", "mbox"), ("mdir", ".mdir", "maildir"))
# Position of these rows in the table (bench/run.py load_rows).
ORDER = 10


# --- LMTP delivery ---------------------------------------------------------

def _messages(ctx):
    """The N messages of the mix, generated once per run."""
    return ctx.cached(("mixed", ctx.n), lambda: lmtp_load.generate(ctx.n))


def deliver(ctx, side, fmt):
    """Delivers ctx.n mixed messages to ctx.recipients fresh accounts and
    checks every acknowledged message was stored."""
    msgs = _messages(ctx)
    us = users(ctx.recipients)
    with ctx.server(side, fmt, us, protocols=("lmtp",)) as srv:
        cpu0 = benchlib.cpu_seconds(srv.proc.pid)
        r = lmtp_load.run_load(srv.ports["lmtp"], [srv.rcpt(u) for u in us],
                               concurrency=ctx.concurrency,
                               per_conn=ctx.per_conn, timeout=ctx.timeout,
                               msgs=msgs)
        cpu = benchlib.cpu_seconds(srv.proc.pid) - cpu0
        if r["errors"] or r["failed"]:
            raise RuntimeError(f"{r['failed']} of {len(msgs)} not "
                               f"delivered: {'; '.join(r['errors'])[:500]}")
        stored = sum(srv.count(u) for u in us)
        if stored != len(msgs):
            raise RuntimeError(f"{len(msgs)} acknowledged but {stored} "
                               "stored")
        return Measure(r["msgs_per_s"],
                       f"{r['mb_per_s']:.1f} MB/s, server CPU "
                       f"{cpu * 1000 / len(msgs):.2f} ms/msg")


for _fmt, _cname, _dname in FORMATS:
    row(f"lmtp-{_fmt}",
        f"LMTP delivery, {{n}} mixed msgs, {{c}} conns, {{k}} accounts: "
        f"Commune {_cname} vs Dovecot {_dname}",
        "msg/s", higher=True)(
        lambda ctx, side, fmt=_fmt: deliver(ctx, side, fmt))


SYNC_CALLS = ("fsync", "fdatasync", "sync_file_range", "syncfs", "msync")


def sync_calls(ctx, side, fmt, n=500):
    """fsync-family calls per delivered message (strace -f -c on the
    server while the first n messages of the mix are delivered). Says
    what each side does for durability; strace makes it slow, so this
    is a count, never a time."""
    if not shutil.which("strace"):
        raise Skip("strace is not installed (apt-get install strace)")
    msgs = _messages(ctx)[:n]
    us = users(ctx.recipients)
    with ctx.server(side, fmt, us, protocols=("lmtp",)) as srv:
        counter = benchlib.SyscallCounter([srv.proc.pid], SYNC_CALLS,
                                          ctx.tmp("strace"))
        try:
            r = lmtp_load.run_load(srv.ports["lmtp"],
                                   [srv.rcpt(u) for u in us],
                                   concurrency=ctx.concurrency,
                                   per_conn=ctx.per_conn,
                                   timeout=ctx.timeout, msgs=msgs)
        finally:
            counts = counter.stop()
        if r["errors"] or r["failed"]:
            raise RuntimeError(f"{r['failed']} not delivered: "
                               f"{'; '.join(r['errors'])[:300]}")
        total = sum(counts.values())
        detail = ", ".join(f"{k} {v / len(msgs):.2f}"
                           for k, v in sorted(counts.items()))
        return Measure(total / len(msgs), detail or "none")


for _fmt, _cname, _dname in FORMATS:
    row(f"sync-{_fmt}",
        f"fsync-family calls per LMTP delivery (strace, first 500 msgs): "
        f"Commune {_cname} vs Dovecot {_dname}",
        "calls/msg", higher=False, when=lambda ctx: ctx.syscalls)(
        lambda ctx, side, fmt=_fmt: sync_calls(ctx, side, fmt))


# --- the 100,000-message mailbox -------------------------------------------

class BigBox:
    """One side's mailbox of ctx.big small messages, filled by importing
    a generated mbox file. Shared by the big-* rows of one format."""

    USER = "big"

    def __init__(self, ctx, side, fmt):
        self.ctx = ctx
        path = ctx.cached(("big-mbox", ctx.big), lambda: self._mbox(ctx))
        self.managed = ctx.server(side, fmt, [self.USER],
                                  protocols=("imap",), daemon=False)
        self.srv = self.managed.srv
        self.out = os.path.join(self.srv.dir, "list.out")
        t0 = time.perf_counter()
        self.srv.import_mbox(self.USER, path, timeout=ctx.timeout)
        self.import_secs = time.perf_counter() - t0
        self.listed = False

    @staticmethod
    def _mbox(ctx):
        path = os.path.join(ctx.tmp("big-mbox"), "big.mbox")
        msggen.write_mbox(path, ctx.big, msggen.small)
        os.chmod(path, 0o644)
        return path

    def list_once(self):
        """Wall seconds of one listing; checks it has every message."""
        cmd = self.srv.list_cmd(self.USER)
        secs, _p = benchlib.timed(cmd, self.ctx.timeout, out_path=self.out)
        self.listed = True
        got = self.srv.list_count(self.out)
        if got != self.ctx.big:
            raise RuntimeError(f"listing shows {got} messages, expected "
                               f"{self.ctx.big}")
        return secs

    def close(self):
        self.managed.ctx.release(self.srv)


def bigbox(ctx, side, fmt):
    return ctx.shared(("bigbox", side, fmt),
                      lambda: _make_bigbox(ctx, side, fmt))


def _make_bigbox(ctx, side, fmt):
    b = BigBox(ctx, side, fmt)
    return b, b.close


def big_import(ctx, side, fmt):
    b = bigbox(ctx, side, fmt)
    return Measure(b.import_secs, f"{ctx.big / b.import_secs:,.0f} msg/s")


def big_list_first(ctx, side, fmt):
    b = bigbox(ctx, side, fmt)
    if b.listed:
        raise Skip("mailbox already listed in this run")
    return Measure(b.list_once())


def big_list_warm(ctx, side, fmt):
    b = bigbox(ctx, side, fmt)
    if not b.listed:
        b.list_once()
    times = [b.list_once() for _ in range(ctx.repeat)]
    return Measure(statistics.median(times),
                   f"min {benchlib.fmt_num(min(times))}")


def big_list_noindex(ctx, side, fmt):
    b = bigbox(ctx, side, fmt)
    try:
        b.srv.drop_index(BigBox.USER)
    except NotImplementedError as e:
        raise Skip(str(e))
    return Measure(b.list_once())


def big_list_callgrind(ctx, side, fmt):
    b = bigbox(ctx, side, fmt)
    if not b.listed:
        b.list_once()
    work = ctx.tmp("callgrind")
    prefix = getattr(b.srv, "callgrind_prefix", lambda: [])()
    ir = benchlib.callgrind(b.srv.list_cmd(BigBox.USER), work,
                            ctx.timeout * 20, prefix=prefix)
    return Measure(ir)


for _fmt, _cname, _dname in FORMATS:
    _pair = f"Commune {_cname} vs Dovecot {_dname}"
    for _id, _title, _unit, _fn, _when in (
            ("import", "import a {big}-msg mbox file into INBOX", "s",
             big_import, None),
            ("list-first", "list {big}-msg INBOX, first open after import",
             "s", big_list_first, None),
            ("list-warm", "list {big}-msg INBOX, warm (median)", "s",
             big_list_warm, None),
            ("list-noindex", "list {big}-msg INBOX after deleting the "
             "index files", "s", big_list_noindex, None),
            ("list-callgrind", "list {big}-msg INBOX, warm, instructions",
             "Ir", big_list_callgrind, lambda ctx: ctx.callgrind)):
        row(f"big-{_id}-{_fmt}", f"{_title}: {_pair}", _unit, higher=False,
            when=_when)(lambda ctx, side, f=_fn, fmt=_fmt: f(ctx, side, fmt))
