#!/bin/sh
# SPDX-License-Identifier: MIT
# `make run`: creates the demo base directory ./var (account demo /
# password demo) when it does not exist, then starts `commune serve` on
# loopback with every listener the server has, in the foreground.
set -eu
bin=${1:-build/commune}
base=${COMMUNE_BASE:-./var}

if [ ! -d "$base" ]; then
	echo "Creating demo base directory $base (account demo, password demo)"
	"$bin" --base "$base" account create demo --password demo
	printf 'From: Commune <postmaster@localhost>\r\nTo: demo@localhost\r\nSubject: Welcome to Commune\r\nDate: %s\r\nMessage-ID: <welcome@localhost>\r\n\r\nThis is the demo account. Read README.md to connect a mail client.\r\n' \
		"$(LC_ALL=C date -R)" |
		"$bin" --base "$base" deliver demo >/dev/null
fi

# Self-signed certificate for the TLS listeners (generated once).
cert="$base/Settings/server.crt"
key="$base/Settings/server.key"
if [ ! -f "$cert" ] && command -v openssl >/dev/null; then
	mkdir -p "$base/Settings"
	openssl req -x509 -newkey rsa:2048 -nodes -days 3650 \
		-subj "/CN=localhost" -keyout "$key" -out "$cert" \
		>/dev/null 2>&1 && chmod 600 "$key"
fi

# Default loopback ports, high enough to need no root. A protocol is
# listed only when this build's `commune serve --protocols` knows it.
ports="lmtp=2424 imap=1143 imaps=1993 pop3=1110 pop3s=1995"
known=$("$bin" serve --protocols 2>/dev/null || echo lmtp)
args=""
for p in $ports; do
	proto=${p%%=*}
	port=${p#*=}
	if echo "$known" | grep -qw "$proto"; then
		args="$args --listen $proto=127.0.0.1:$port"
	fi
done

cat <<MSG
Commune demo: base directory $base, account demo / password demo.
Connect on loopback:
MSG
for a in $args; do
	case "$a" in
	--listen) ;;
	*) echo "  ${a%%=*}: 127.0.0.1:${a##*:}" ;;
	esac
done
echo "Stop with Ctrl-C."
# Loopback demo: passwords are accepted before TLS too
# (--allow-plaintext-auth), so any client can try it without a
# certificate exception.
# shellcheck disable=SC2086
exec "$bin" serve --base "$base" --allow-plaintext-auth $args
