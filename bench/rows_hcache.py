# SPDX-License-Identifier: MIT
"""Rows of the header cache filled at delivery: the first header SEARCH
of a {big}-message INBOX right after it was filled, before anything has
read a message's header (cold header cache, page cache warm), Commune
vs Dovecot. Format pairs as in rows_store.py.

Two ways to fill it, each a fresh server and mailbox per row, so no
earlier row has searched it:
- import: `commune import` / `doveadm import` of the big mbox file of
  rows_store.py (Dovecot's with mail_fsync=never, as in rows_imap.py);
- deliver: the same {big} small messages delivered over LMTP ({c}
  connections, one account), as an MTA fills a mailbox.
Then one fresh login, SELECT (not timed) and the timed
`UID SEARCH HEADER Subject "#4242"`; the note gives a second search on
a new login (warm) for comparison. The message count is checked last,
over IMAP (`commune message list` would read the headers first).
"""
from harness import Measure, row
import benchlib
import imap_load
import lmtp_load
import msggen
import rows_imap

FORMATS = (("mbox", ".mbox", "mbox"), ("mdir", ".mdir", "maildir"))
ORDER = 31
CRITERIA = 'HEADER Subject "#4242"'
USER = "cold"


def _want(ctx):
    """0-based indexes of the messages the search must find (msggen
    subjects end in "#{i}")."""
    return {i for i in range(ctx.big) if str(i).startswith("4242")}


def _lmtp_msgs(ctx):
    return ctx.cached(("hcache-lmtp", ctx.big), lambda: [
        msggen.dot_stuff(msggen.small(i)) + b".\r\n"
        for i in range(ctx.big)])


def _fill(ctx, side, srv, how):
    if how == "import":
        path = ctx.cached(("big-mbox", ctx.big),
                          lambda: rows_imap._big_mbox(ctx))
        kw = {"fsync": False} if side == "dovecot" else {}
        srv.import_mbox(USER, path, timeout=ctx.timeout, **kw)
        return
    r = lmtp_load.run_load(srv.ports["lmtp"], [srv.rcpt(USER)],
                           concurrency=ctx.concurrency,
                           per_conn=ctx.per_conn, timeout=ctx.timeout,
                           msgs=_lmtp_msgs(ctx))
    if r["errors"] or r["failed"]:
        raise RuntimeError(f"{r['failed']} not delivered: "
                           f"{'; '.join(r['errors'])[:300]}")


def cold_search(ctx, side, fmt, how):
    """Fills a fresh INBOX, then times the first header search. Import
    keeps the mbox order (UIDs 1..big), so the hits are checked
    exactly; LMTP's concurrent connections interleave, so only their
    count is."""
    want = {i + 1 for i in _want(ctx)}
    with ctx.server(side, fmt, [USER],
                    protocols=("imap", "lmtp")) as srv:
        _fill(ctx, side, srv, how)
        port, pw = srv.ports["imap"], srv.password
        times = []
        # nothing may read the mailbox before: `commune message list`
        # (the harness's count()) would fill the header cache
        for _ in range(2):
            secs, uids = imap_load.search(port, USER, pw, CRITERIA)
            ok = uids == want if how == "import" else \
                len(uids) == len(want)
            if not ok:
                raise RuntimeError(f"SEARCH {CRITERIA}: {len(uids)} "
                                   f"hits, expected {len(want)}")
            times.append(secs)
        _secs, exists, _size = imap_load.fetch_meta(port, USER, pw)
        if exists != ctx.big:
            raise RuntimeError(f"SELECT shows {exists} messages, "
                               f"expected {ctx.big}")
    return Measure(times[0], f"{len(want)} hits, then "
                   f"{benchlib.fmt_num(times[1])} warm")


for _fmt, _cname, _dname in FORMATS:
    _pair = f"Commune {_cname} vs Dovecot {_dname}"
    for _how, _what in (("import", "imported"),
                        ("deliver", "delivered over LMTP ({c} conns)")):
        row(f"hcache-cold-{_how}-{_fmt}",
            f"first IMAP UID SEARCH {CRITERIA} on a {{big}}-msg INBOX just "
            f"{_what}, cold cache: {_pair}", "s", higher=False)(
            lambda ctx, side, fmt=_fmt, how=_how: cold_search(ctx, side,
                                                              fmt, how))
