#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs every benchmark row against Commune and a private Dovecot and
prints one table: workload | Commune | Dovecot | ratio. Ratios above 1
mean Commune did better (Commune/Dovecot for throughput, Dovecot/Commune
for times and instruction counts). The table, the machine and the
command go to bench/out/latest.md, raw figures to bench/out/latest.json.

    bench/run.py --build build                  (what `make bench` runs)
    bench/run.py --only lmtp --messages 1000    (a quick subset)
    bench/run.py --side dovecot                 (one side only)

Exit status: 0 when every measured cell has a figure, 1 otherwise.
"""
import argparse
import glob
import importlib
import json
import os
import shlex
import sys
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH_DIR)
import benchlib  # noqa: E402
import harness  # noqa: E402


def load_rows():
    """Imports bench/rows_*.py; each registers its rows with @row. The
    table lists modules by their ORDER (default 50), then file name."""
    mods = [importlib.import_module(os.path.basename(p)[:-3])
            for p in sorted(glob.glob(os.path.join(BENCH_DIR,
                                                   "rows_*.py")))]
    rank = {m.__name__: (getattr(m, "ORDER", 50), m.__name__)
            for m in mods}
    return sorted(harness.ROWS, key=lambda r: rank.get(r.module, (50, "")))


def parse_args(argv):
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build",
                    help="Meson build dir holding commune (default build)")
    ap.add_argument("--commune-bin", default=None,
                    help="commune binary (default BUILD/commune)")
    ap.add_argument("--side", choices=("both",) + harness.SIDES,
                    default="both")
    ap.add_argument("--only", action="append", default=[],
                    help="run rows whose id contains this (repeatable)")
    ap.add_argument("--list", action="store_true", help="list rows, exit")
    ap.add_argument("-n", "--messages", type=int, default=10000,
                    help="messages per delivery/append row (10000)")
    ap.add_argument("--big", type=int, default=100000,
                    help="messages in the big mailbox (100000)")
    ap.add_argument("--idle", type=int, default=10000,
                    help="connections of the IDLE memory row (10000)")
    ap.add_argument("-c", "--concurrency", type=int, default=4,
                    help="concurrent client connections (4)")
    ap.add_argument("-k", "--recipients", type=int, default=10,
                    help="recipient accounts for delivery rows (10)")
    ap.add_argument("--per-conn", type=int, default=100,
                    help="messages per LMTP connection (100)")
    ap.add_argument("--repeat", type=int, default=5,
                    help="runs of each warm timing, median shown (5)")
    ap.add_argument("--callgrind", action="store_true",
                    help="also count instructions with valgrind")
    ap.add_argument("--syscalls", action="store_true",
                    help="also count fsync-family calls with strace")
    ap.add_argument("--dovecot-extra", metavar="FILE",
                    help="append FILE to every private dovecot.conf "
                    "(tuning; recorded in the report)")
    ap.add_argument("--timeout", type=float, default=1800.0,
                    help="time limit of one row on one side, s (1800)")
    ap.add_argument("--tmpdir", default=os.environ.get("BENCH_TMPDIR",
                                                       "/var/tmp"),
                    help="where mail is written (default /var/tmp: on "
                    "disk, unlike a tmpfs /tmp)")
    ap.add_argument("--out", default=os.path.join(BENCH_DIR, "out"),
                    help="directory for latest.md/latest.json")
    ap.add_argument("--no-save", action="store_true",
                    help="do not write --out files")
    ap.add_argument("--keep", action="store_true",
                    help="keep temp dirs (for debugging)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    if args.dovecot_extra:
        args.dovecot_extra = os.path.abspath(args.dovecot_extra)
        with open(args.dovecot_extra):
            pass
        os.environ["BENCH_DOVECOT_EXTRA"] = args.dovecot_extra
    if args.commune_bin is None:
        args.commune_bin = os.path.join(args.build, "commune")
    args.commune_bin = os.path.abspath(args.commune_bin)
    return args


def machine_text(m):
    return "\n".join(f"- {k}: {v}" for k, v in m.items())


def report(args, cmd, machine, results, secs, notes=()):
    ratio_note = ("ratio > 1 means Commune is better: Commune/Dovecot for "
                  "throughput (msg/s), Dovecot/Commune for times (s) and "
                  "instruction counts (Ir).")
    errs = harness.errors_text(results)
    parts = [
        "# Commune vs Dovecot: latest `make bench`", "",
        f"Command: `{cmd}`  ", f"Run time: {secs / 60:.1f} min", "",
        "Machine:", machine_text(machine), "",
        harness.table(results), "", ratio_note, "",
        "Durability: Commune acknowledges a delivery only after "
        "fsync/fdatasync of the message data (and of the directory when "
        "a file is created); Dovecot runs with mail_fsync=optimized "
        "(its default). `--syscalls` rows count the calls on each side.",
    ]
    if args.dovecot_extra:
        with open(args.dovecot_extra) as f:
            parts += ["", "Dovecot tuning appended to its config "
                      "(--dovecot-extra):", "", "```",
                      f.read().rstrip(), "```"]
    if notes:
        parts += ["", "Notes:"] + [f"- {n}" for n in notes]
    if errs:
        parts += ["", "Cells without a figure:", errs]
    return "\n".join(parts) + "\n"


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    rows = load_rows()
    if args.list:
        for r in rows:
            print(f"{r.id:28} {r.title} [{r.unit}]")
        return 0
    if args.only:
        rows = [r for r in rows if any(o in r.id for o in args.only)]
        if not rows:
            print("run.py: no row matches --only", file=sys.stderr)
            return 2
    sides = harness.SIDES if args.side == "both" else (args.side,)
    cmd = " ".join(shlex.quote(a) for a in
                   ["bench/run.py"] + (sys.argv[1:] if argv is None
                                       else argv))
    ctx = harness.Ctx(args)
    machine = benchlib.machine(ctx.root)
    print("Machine: " + "; ".join(f"{k} {v}" for k, v in machine.items()),
          flush=True)
    if not benchlib.fsync_safe_fs(ctx.root):
        print(f"WARNING: {ctx.root} is on {benchlib.fs_of(ctx.root)[0]}: "
              "fsync is free there; use --tmpdir on a disk", flush=True)
    t0 = time.monotonic()
    try:
        results = harness.run_rows(
            ctx, rows, sides, log=lambda s: print(s, flush=True))
    finally:
        ctx.close()
    secs = time.monotonic() - t0
    machine["load"] = (f"{machine['load']} at start, "
                       f"{benchlib.load_text()} at end (1/5/15 min)")
    text = report(args, cmd, machine, results, secs, ctx.notes)
    print()
    print(harness.table(results))
    print("ratio > 1: Commune better (Commune/Dovecot for throughput, "
          "Dovecot/Commune for times)")
    errs = harness.errors_text(results)
    if errs:
        print("\nCells without a figure:\n" + errs)
    if not args.no_save:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "latest.md"), "w") as f:
            f.write(text)
        with open(os.path.join(args.out, "latest.json"), "w") as f:
            json.dump({"command": cmd, "machine": machine,
                       "results": results, "seconds": secs}, f, indent=1)
        print(f"\nwrote {os.path.join(args.out, 'latest.md')}")
    failed = any(not e.startswith("n/a")
                 for res in results for e in res["errors"].values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
