#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Runs the store's unit test programs (tests/unit/store/*.c, plus lib's
vfs and dict tests that the store writes through) under
`valgrind --error-exitcode=1 --leak-check=full` and fails on any error.

Needs a build WITHOUT sanitizers (valgrind and ASan do not mix), e.g.
  meson setup build-valgrind --buildtype=debug -Db_sanitize=none
  ninja -C build-valgrind
`make valgrind` does both and runs this script: valgrind_store.py BUILD.
Each program is bounded in time (TIMEOUT); prints one line per program
and a total "N passed, M failed".
"""
import glob
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
TIMEOUT = 600
EXTRA = ["test-vfs", "test-dict"]   # lib files the store writes through
VALGRIND = ["valgrind", "--error-exitcode=1", "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect",
            "--show-leak-kinds=definite,indirect",
            "--track-fds=no", "--quiet", "--trace-children=yes",
            # children forked without exec are test scaffolding that
            # _exit()s holding the parent's objects: not leaks
            "--child-silent-after-fork=yes"]


def programs(build):
    names = [os.path.basename(p)[:-2] for p in
             sorted(glob.glob(os.path.join(ROOT, "tests/unit/store",
                                           "test-*.c")))] + EXTRA
    found = []
    for n in names:
        path = os.path.join(build, "tests", "unit", n)
        if os.path.exists(path):
            found.append(path)
    return found


def run(build):
    progs = programs(build)
    if not progs:
        print(f"valgrind: no store test programs in {build}")
        return 0, 1
    passed = failed = 0
    for prog in progs:
        t0 = time.monotonic()
        env = dict(os.environ, CMOCKA_MESSAGE_OUTPUT="stdout")
        try:
            p = subprocess.run(VALGRIND + [prog], capture_output=True,
                               timeout=TIMEOUT, env=env,
                               cwd=os.path.join(build, "tests", "unit"))
            rc, out = p.returncode, (p.stdout + p.stderr).decode(
                errors="replace")
        except subprocess.TimeoutExpired:
            rc, out = -1, "timed out"
        name = os.path.basename(prog)
        secs = time.monotonic() - t0
        if rc == 0:
            passed += 1
            print(f"valgrind PASS {name} ({secs:.1f} s)", flush=True)
        else:
            failed += 1
            print(f"valgrind FAIL {name} (exit {rc}, {secs:.1f} s)\n{out}",
                  flush=True)
    return passed, failed


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1
                            else "build-valgrind")
    passed, failed = run(build)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed or not passed else 0)


if __name__ == "__main__":
    main()
