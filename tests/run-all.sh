#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs every test against the build in $1 (the sanitizer build of
# `make test`): cmocka unit tests through meson, then the pytest suites
# (store crash/fault, CLI, protocols) with the real `commune` binary,
# then short fuzz runs when clang's libFuzzer is there. Ends with the line
# "N passed, M failed" and exits non-zero on any failure.
set -u
build=${1:-build-test}
here=$(cd "$(dirname "$0")" && pwd)
exec /usr/bin/python3 "$here/run_all.py" "$build"
