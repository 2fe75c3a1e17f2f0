#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the Debian packages Commune needs to build, run and test.
# As root it runs apt-get; otherwise it prints the apt-get line to run.
# Usage: scripts/deps.sh [build|test|bench|fuzz]...   (default: build)
set -e

BUILD_PKGS="gcc make meson ninja-build pkg-config libevent-dev libssl-dev
zlib1g-dev libcrypt-dev libexpat1-dev libsqlite3-dev libcmocka-dev openssl
libunistring-dev libidn-dev"
TEST_PKGS="python3 python3-pytest curl isync fetchmail offlineimap3 procps
dovecot-core dovecot-imapd"
BENCH_PKGS="dovecot-core dovecot-lmtpd dovecot-imapd dovecot-pop3d valgrind strace python3"
FUZZ_PKGS="clang-14 libclang-rt-14-dev libfuzzer-14-dev"

want="$BUILD_PKGS"
for set in "$@"; do
	case "$set" in
	build) ;;
	test) want="$want $TEST_PKGS $FUZZ_PKGS" ;;
	bench) want="$want $BENCH_PKGS" ;;
	fuzz) want="$want $FUZZ_PKGS" ;;
	*) echo "deps.sh: unknown set '$set'" >&2; exit 2 ;;
	esac
done

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "Missing Debian packages. Run as root:" >&2
	echo "  apt-get install -y$missing" >&2
	exit 1
fi
echo "Installing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
# Never start system services from package scripts (Dovecot's postinst
# would): a policy-rc.d answer of 101 forbids it for this run only.
# Commune's benchmarks start their own private Dovecot instead.
policy=/usr/sbin/policy-rc.d
made_policy=""
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy"
	made_policy=1
fi
apt-get update -qq || true
apt-get install -y -qq --no-install-recommends $missing
rc=$?
[ -n "$made_policy" ] && rm -f "$policy"
exit $rc
