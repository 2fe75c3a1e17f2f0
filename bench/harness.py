# SPDX-License-Identifier: MIT
"""The benchmark table's machinery: the row registry, the context rows
get (parameters, servers, temp dirs, shared fixtures), and the runner
that measures every row on both sides and prints one table.

A row is one function registered with @row; it measures one workload on
one side ("commune" or "dovecot") and returns a Measure. The runner
calls it once per side, pairs the figures and computes the ratio so that
a ratio above 1 always means Commune did better:
  higher-is-better units (msg/s, MB/s):  Commune / Dovecot
  lower-is-better units (s, ms, instructions):  Dovecot / Commune
Rows live in bench/rows_*.py (one file per issue); bench/run.py imports
them all, in file name order, then registration order. bench/README.md
shows how to add one.
"""
import atexit
import collections
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH_DIR)
import benchlib  # noqa: E402

SIDES = ("commune", "dovecot")


class Measure:
    """One figure: value in the row's unit, plus an optional note shown
    next to it (e.g. "15.2 MB/s")."""

    def __init__(self, value, note=None):
        self.value = float(value)
        self.note = note

    def __repr__(self):
        return f"Measure({self.value!r}, {self.note!r})"


class Skip(Exception):
    """Raised by a row when the side cannot run it on purpose (shown as
    "n/a" with the reason, not counted as a failure)."""


Row = collections.namedtuple("Row",
                             "id title unit higher fn when sides module")
ROWS = []


def row(id, title, unit, higher=True, when=None, sides=SIDES):
    """Registers fn(ctx, side) -> Measure as a row of the table.

    id:     short unique name, used by --only (substring match)
    title:  workload text; {n}, {big}, {c}, {k} are filled from ctx
    unit:   shown after the title ("msg/s", "s", "Ir")
    higher: True when a bigger number is better (throughput)
    when:   optional predicate ctx -> bool (e.g. only with --callgrind)
    """
    def deco(fn):
        if any(r.id == id for r in ROWS):
            raise ValueError(f"duplicate bench row id {id!r}")
        ROWS.append(Row(id, title, unit, higher, fn, when, tuple(sides),
                        fn.__module__))
        return fn
    return deco


def ratio(r, commune, dovecot):
    """Commune's advantage (>1: Commune better), or None."""
    if commune is None or dovecot is None:
        return None
    if r.higher:
        return commune / dovecot if dovecot > 0 else None
    return dovecot / commune if commune > 0 else None


class Ctx:
    """What a row function gets: the run's parameters (attributes n,
    big, concurrency, recipients, per_conn, repeat, callgrind, syscalls,
    timeout),
    temp dirs, servers and shared fixtures."""

    def __init__(self, args):
        self.args = args
        self.n = args.messages
        self.big = args.big
        self.concurrency = args.concurrency
        self.recipients = args.recipients
        self.per_conn = args.per_conn
        self.repeat = args.repeat
        self.callgrind = args.callgrind
        self.syscalls = args.syscalls
        self.timeout = args.timeout
        self.idle = getattr(args, "idle", 10000)
        self.keep = args.keep
        self.commune_bin = args.commune_bin
        os.makedirs(args.tmpdir, exist_ok=True)
        self.root = tempfile.mkdtemp(prefix="commune-bench-",
                                     dir=args.tmpdir)
        # Dovecot's unprivileged processes must traverse the path.
        os.chmod(self.root, 0o755)
        self.notes = []        # remarks for the report, deduplicated
        self._live = []        # started servers, stopped at exit
        self._shared = {}      # key -> (value, cleanup)
        self._cache = {}
        atexit.register(self.close)

    def fmt_title(self, title):
        return title.format(n=f"{self.n:,}", big=f"{self.big:,}",
                            idle=f"{self.idle:,}",
                            c=self.concurrency, k=self.recipients)

    def note(self, text):
        """Adds a remark printed under the table (once)."""
        if text not in self.notes:
            self.notes.append(text)

    def tmp(self, prefix):
        """A fresh directory under this run's temp root."""
        d = tempfile.mkdtemp(prefix=prefix + "-", dir=self.root)
        os.chmod(d, 0o755)
        return d

    def server(self, side, fmt, users, protocols=None, daemon=True,
               dovecot_conf=""):
        """A started server of side (Commune or Dovecot) in a fresh temp
        dir with the given users; stop it with ctx.release(srv) or let
        the run end. Use as `with ctx.server(...) as srv:`."""
        if side == "commune":
            import commune
            kw = {"protocols": protocols or commune.PROTOCOLS,
                  "binary": self.commune_bin}
            cls = commune.Commune
        elif side == "dovecot":
            import dovecot
            kw = {"protocols": protocols or dovecot.PROTOCOLS,
                  "extra_conf": dovecot_conf}
            cls = dovecot.Dovecot
        else:
            raise ValueError(side)
        srv = cls(workdir=self.tmp(side), fmt=fmt, users=users,
                  daemon=daemon, **kw)
        self._live.append(srv)
        try:
            srv.start()
        except Exception:
            self.release(srv)
            raise
        if getattr(srv, "account_mode", None):
            self.note(f"{srv.name} {srv.fmt} accounts: {srv.account_mode}.")
        return _Managed(self, srv)

    def release(self, srv):
        """Stops srv and deletes its directory (unless --keep)."""
        try:
            srv.stop()
        finally:
            if srv in self._live:
                self._live.remove(srv)
            if not self.keep:
                shutil.rmtree(srv.dir, ignore_errors=True)

    def shared(self, key, make):
        """A fixture several rows share: make() runs once per key and
        returns (value, cleanup or None); cleanup runs at the end."""
        if key not in self._shared:
            self._shared[key] = make()
        return self._shared[key][0]

    def cached(self, key, make):
        """make() once per key (e.g. generated messages)."""
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def close(self):
        """Stops every server and removes the temp root (atexit too)."""
        for key in list(self._shared):
            _value, cleanup = self._shared.pop(key)
            if cleanup:
                try:
                    cleanup()
                except Exception:
                    traceback.print_exc()
        for srv in list(self._live):
            try:
                self.release(srv)
            except Exception:
                traceback.print_exc()
        if not self.keep and os.path.isdir(self.root):
            shutil.rmtree(self.root, ignore_errors=True)


class _Managed:
    """`with ctx.server(...) as srv`: releases srv at the end of the
    block; also usable without `with` (srv = ctx.server(...).srv)."""

    def __init__(self, ctx, srv):
        self.ctx = ctx
        self.srv = srv

    def __enter__(self):
        return self.srv

    def __exit__(self, *exc):
        self.ctx.release(self.srv)


def users(k, prefix="user"):
    return [f"{prefix}{i}" for i in range(1, k + 1)]


def _sigterm(signum, frame):
    # Turn SIGTERM/SIGHUP into SystemExit so finally blocks and atexit
    # stop every server by PID.
    raise SystemExit(128 + signum)


def run_rows(ctx, rows, sides, log=print):
    """Measures rows on sides. Returns a list of result dicts."""
    signal.signal(signal.SIGTERM, _sigterm)
    signal.signal(signal.SIGHUP, _sigterm)
    results = []
    for r in rows:
        if r.when is not None and not r.when(ctx):
            continue
        res = {"id": r.id, "title": ctx.fmt_title(r.title), "unit": r.unit,
               "higher": r.higher, "commune": None, "dovecot": None,
               "errors": {}}
        for side in SIDES:
            if side not in sides:
                continue
            if side not in r.sides:
                res["errors"][side] = "n/a: not measured on this side"
                continue
            t0 = time.monotonic()
            log(f"[{r.id}] {side} ...")
            try:
                m = r.fn(ctx, side)
                res[side] = {"value": m.value, "note": m.note}
                log(f"[{r.id}] {side}: {benchlib.fmt_num(m.value)} "
                    f"{r.unit}{' (' + m.note + ')' if m.note else ''} "
                    f"[{time.monotonic() - t0:.1f} s]")
            except Skip as e:
                res["errors"][side] = f"n/a: {e}"
                log(f"[{r.id}] {side}: n/a: {e}")
            except Exception as e:
                res["errors"][side] = f"{type(e).__name__}: {e}"
                log(f"[{r.id}] {side}: FAILED: {type(e).__name__}: {e}")
                if ctx.args.verbose:
                    traceback.print_exc()
        c = res["commune"]["value"] if res["commune"] else None
        d = res["dovecot"]["value"] if res["dovecot"] else None
        res["ratio"] = ratio(r, c, d)
        results.append(res)
    return results


def _cell(res, side):
    m = res[side]
    if m is None:
        err = res["errors"].get(side)
        if err is None:
            return "-"
        return "n/a" if err.startswith("n/a") else "error"
    s = benchlib.fmt_num(m["value"])
    if m.get("note"):
        s += f" ({m['note']})"
    return s


def table(results):
    """The Markdown table: workload | Commune | Dovecot | ratio."""
    lines = ["| workload | Commune | Dovecot | ratio |",
             "|---|---:|---:|---:|"]
    for res in results:
        arrow = "higher is better" if res["higher"] else "lower is better"
        rt = f"{res['ratio']:.2f}" if res["ratio"] else "-"
        lines.append(f"| {res['title']} ({res['unit']}, {arrow}) | "
                     f"{_cell(res, 'commune')} | {_cell(res, 'dovecot')} | "
                     f"{rt} |")
    return "\n".join(lines)


def errors_text(results):
    out = []
    for res in results:
        for side, err in res["errors"].items():
            out.append(f"- {res['id']} / {side}: {err}")
    return "\n".join(out)
