#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs every libFuzzer target (BUILD/fuzz/fuzz-*) for a fixed time each.
#
#   fuzz/run.sh BUILD SECONDS   run the targets already built in BUILD
#   fuzz/run.sh --smoke         configure/build build-fuzz when needed,
#                               then run each target for 10 seconds
#
# Prints one line per target, "fuzz PASS fuzz-NAME" or "fuzz FAIL
# fuzz-NAME" (tests/run_all.py counts them), or "fuzz FAIL
# toolchain-missing" / "fuzz FAIL build" when nothing could run. Target
# fuzz-NAME starts from a temporary copy of fuzz/NAME/corpus/ (the
# committed seeds stay clean) and uses fuzz/NAME/NAME.dict if present.
# A crashing input is kept in BUILD/fuzz/artifacts/fuzz-NAME/ and the end
# of the log goes to stderr: turn it into a unit test.

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLANG=${CLANG:-clang-14}

usage() {
	echo "usage: fuzz/run.sh BUILD SECONDS | fuzz/run.sh --smoke" >&2
	exit 2
}

# clang and libFuzzer's runtime are both needed; try a one-line link.
toolchain_ok() {
	command -v "$CLANG" >/dev/null 2>&1 || return 1
	probe=$(mktemp -d) || return 1
	printf '%s\n' '#include <stddef.h>' \
		'#include <stdint.h>' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)' \
		'{ (void)d; (void)n; return 0; }' > "$probe/probe.c"
	"$CLANG" -fsanitize=fuzzer,address "$probe/probe.c" \
		-o "$probe/probe" >/dev/null 2>&1
	rc=$?
	rm -rf "$probe"
	return $rc
}

# Configures (once) and builds BUILD's fuzz targets; serialised with flock when available
# so parallel callers do not run two ninjas in one directory.
build_fuzz() {
	build=$1
	mkdir -p "$build" || return 1
	(
		if command -v flock >/dev/null 2>&1; then
			flock 9
		fi
		if [ ! -f "$build/build.ninja" ]; then
			CC=$CLANG meson setup "$build" -Dfuzz=true \
				-Dtests=false --buildtype=debug \
				-Db_sanitize=address,undefined \
				-Db_lundef=false || exit 1
		fi
		# Only the fuzz targets and what they link: a daemon that does
		# not link yet is no reason to stop fuzzing the parsers.
		targets=$(ninja -C "$build" -t targets all |
			sed -n 's|^\(fuzz/fuzz-[A-Za-z0-9_-]*\): .*|\1|p')
		[ -n "$targets" ] || exit 1
		ninja -C "$build" $targets
	) 9>"$build/.fuzz-lock"
}

# run_target EXE SECONDS: prints the PASS/FAIL line.
run_target() {
	exe=$1
	seconds=$2
	name=$(basename "$exe")
	short=${name#fuzz-}
	seeds="$ROOT/fuzz/$short/corpus"
	dict="$ROOT/fuzz/$short/$short.dict"
	artifacts="$(dirname "$exe")/artifacts/$name"
	log="$(dirname "$exe")/$name.log"

	work=$(mktemp -d) || { echo "fuzz FAIL $name"; return 1; }
	mkdir -p "$work/corpus" "$artifacts"
	[ -d "$seeds" ] && cp -R "$seeds/." "$work/corpus/"
	set -- -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$artifacts/" -print_final_stats=1
	[ -f "$dict" ] && set -- "$@" -dict="$dict"
	ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		"$exe" "$@" "$work/corpus" >"$log" 2>&1
	rc=$?
	rm -rf "$work"
	if [ $rc -eq 0 ]; then
		echo "fuzz PASS $name"
		return 0
	fi
	echo "fuzz FAIL $name"
	echo "$name: exit $rc, log $log, inputs in $artifacts" >&2
	tail -n 40 "$log" >&2
	return 1
}

run_all() {
	build=$1
	seconds=$2
	status=0
	found=""
	for exe in "$build"/fuzz/fuzz-*; do
		[ -f "$exe" ] && [ -x "$exe" ] || continue
		found=1
		run_target "$exe" "$seconds" || status=1
	done
	if [ -z "$found" ]; then
		echo "fuzz FAIL no-targets"
		echo "no fuzz-* executables in $build/fuzz" >&2
		return 1
	fi
	return $status
}

case "$1" in
--smoke)
	[ $# -eq 1 ] || usage
	cd "$ROOT" || exit 1
	if ! toolchain_ok; then
		echo "fuzz FAIL toolchain-missing"
		echo "$CLANG with libFuzzer not found: scripts/deps.sh fuzz" >&2
		exit 1
	fi
	log=$(mktemp) || exit 1
	if ! build_fuzz build-fuzz >"$log" 2>&1; then
		echo "fuzz FAIL build"
		tail -n 40 "$log" >&2
		rm -f "$log"
		exit 1
	fi
	rm -f "$log"
	run_all "$ROOT/build-fuzz" 10
	;;
-*|"")
	usage
	;;
*)
	[ $# -eq 2 ] || usage
	case "$2" in
	''|*[!0-9]*) usage ;;
	esac
	build=$(cd "$1" && pwd) || exit 1
	run_all "$build" "$2"
	;;
esac
