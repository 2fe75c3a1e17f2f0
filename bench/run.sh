#!/bin/sh
# SPDX-License-Identifier: MIT
# `make bench`: every benchmark row against Commune (the build in $1) and
# a private Dovecot on loopback; prints one table and writes it to
# bench/out/latest.md. Extra options come from $BENCH_ARGS, e.g.
#   make bench BENCH_ARGS="--only lmtp --messages 2000"
# or call bench/run.py directly (bench/run.py --help).
set -eu
build=${1:-build}
shift 2>/dev/null || true
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
[ -x "$py" ] || py=python3
# shellcheck disable=SC2086
exec "$py" "$here/run.py" --build "$build" ${BENCH_ARGS:-} "$@"
