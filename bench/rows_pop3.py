# SPDX-License-Identifier: MIT
"""Rows of the POP3 issue (#4): RETR of every message of an INBOX, and
many short sessions (login, STAT, RETR, QUIT), Commune vs Dovecot's
pop3 on the same messages (imported into each server before the clock
starts). Format pairs as in rows_store.py: Commune .mbox vs Dovecot
mbox, Commune .mdir vs Dovecot maildir.

The login cost differs by design unless noted: Commune checks a yescrypt
hash (crypt(3)), and remembers a success for five minutes; the bench
Dovecot's passdb has {PLAIN} passwords (bench/dovecot.py).
"""
import os
import statistics

from harness import Measure, row, users
import msggen
import pop3_load

FORMATS = (("mbox", ".mbox", "mbox"), ("mdir", ".mdir", "maildir"))
# Messages in each account of the sessions row.
SESSION_MAILBOX = 50


def _mbox(ctx, n, make, name):
    """An mbox file of messages make(0..n-1), written once per run."""
    def write():
        path = os.path.join(ctx.tmp("pop3-" + name), name + ".mbox")
        msggen.write_mbox(path, n, make=make)
        return path
    return ctx.cached(("pop3-mbox", name, n), write)


def _fill(srv, user, path, n):
    srv.import_mbox(user, path)
    stored = srv.count(user)
    if stored != n:
        raise RuntimeError(f"{user}: {stored} messages imported, not {n}")


def retr(ctx, side, fmt):
    """RETR 1..N in one session (pipelined), ctx.repeat times after one
    cold pass; the median of the warm passes."""
    path = _mbox(ctx, ctx.n, msggen.mixed, "mixed")
    us = users(1)
    with ctx.server(side, fmt, us, protocols=("pop3",)) as srv:
        _fill(srv, us[0], path, ctx.n)
        runs = [pop3_load.retr_all(srv.ports["pop3"], us[0], srv.password,
                                   timeout=ctx.timeout)
                for _ in range(1 + ctx.repeat)]
    for r in runs:
        if r["messages"] != ctx.n:
            raise RuntimeError(f"RETR {r['messages']} of {ctx.n}")
    warm = runs[1:] or runs
    rate = statistics.median(r["msgs_per_s"] for r in warm)
    mb = statistics.median(r["mb_per_s"] for r in warm)
    return Measure(rate, f"{mb:.0f} MB/s, first pass "
                   f"{runs[0]['msgs_per_s']:.0f} msg/s")


def sessions(ctx, side, fmt):
    """ctx.concurrency clients, one account each, ctx.n / 5 sessions of
    USER/PASS, STAT, RETR of one small message, QUIT."""
    path = _mbox(ctx, SESSION_MAILBOX, msggen.small, "small")
    us = users(ctx.concurrency)
    n = max(100, ctx.n // 5)
    with ctx.server(side, fmt, us, protocols=("pop3",)) as srv:
        for u in us:
            _fill(srv, u, path, SESSION_MAILBOX)
        r = pop3_load.sessions(srv.ports["pop3"], us, srv.password, n,
                               timeout=ctx.timeout)
    if r["errors"]:
        raise RuntimeError("; ".join(r["errors"])[:500])
    return Measure(r["sessions_per_s"], f"{n:,} sessions")


for _fmt, _cname, _dname in FORMATS:
    row(f"pop3-retr-{_fmt}",
        f"POP3 RETR of every message of a {{n}}-msg INBOX (mixed sizes): "
        f"Commune {_cname} vs Dovecot {_dname}",
        "msg/s", higher=True)(
        lambda ctx, side, fmt=_fmt: retr(ctx, side, fmt))
    row(f"pop3-sessions-{_fmt}",
        f"POP3 login/STAT/RETR/QUIT sessions, {{c}} clients: "
        f"Commune {_cname} vs Dovecot {_dname}",
        "sessions/s", higher=True)(
        lambda ctx, side, fmt=_fmt: sessions(ctx, side, fmt))
