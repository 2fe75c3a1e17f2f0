#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Commune's side of the benchmarks, with the same interface as
bench/dovecot.py: a throwaway base directory with a few accounts
(`commune account create`), `commune serve --base DIR --listen
PROTO=127.0.0.1:PORT ...` started in the background and stopped by PID,
and the CLI commands the rows time (`commune message list`,
`commune import`).

The INBOX format ("mbox" or "mdir") is chosen at account creation:
multi-mailbox accounts with that INBOX format when the CLI offers it
(`account create --inbox-format`), else single-mailbox accounts of that
type (`--type mbox|mdir`), whose only mailbox is INBOX.

    bench/commune.py --bin build/commune --format mdir   (prints ports)
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

FORMATS = ("mbox", "mdir")
PROTOCOLS = ("lmtp",)
DOMAIN = "localhost"   # the store's default main domain
DEFAULT_BIN = os.path.join(benchlib.ROOT, "build", "commune")


class Commune:
    """A throwaway Commune base directory, optionally with a running
    `commune serve`. Context manager: start() on enter, stop() on exit."""

    name = "Commune"
    fsync_note = ("fsync of message data and directory before every "
                  "acknowledged delivery (group commit)")

    def __init__(self, workdir=None, fmt="mbox", users=("user1",),
                 password="bench", protocols=PROTOCOLS, keep=False,
                 binary=None, daemon=True):
        fmt = {"maildir": "mdir"}.get(fmt, fmt)
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}")
        self.bin = os.path.abspath(binary or os.environ.get("COMMUNE_BIN")
                                   or DEFAULT_BIN)
        if not os.access(self.bin, os.X_OK):
            raise RuntimeError(f"{self.bin} not found: run `make` first")
        self.fmt = fmt
        self.users = list(users)
        self.password = password
        self.protocols = tuple(protocols) if daemon else ()
        self.keep = keep
        self.own_dir = workdir is None
        self.dir = workdir or tempfile.mkdtemp(prefix="commune-bench-")
        self.base = os.path.join(self.dir, "base")
        self.log = os.path.join(self.dir, "commune.log")
        self.ports = {p: benchlib.free_port() for p in self.protocols}
        self.proc = None
        self.account_mode = None

    # --- CLI ---------------------------------------------------------------

    def cli(self, *args):
        """argv of `commune ARGS --base BASE`."""
        return [self.bin] + [str(a) for a in args] + ["--base", self.base]

    def _create_args(self):
        """Arguments of `account create` that give INBOX our format."""
        p = subprocess.run([self.bin, "account", "create", "--help"],
                           capture_output=True, timeout=30)
        text = (p.stdout + p.stderr).decode(errors="replace")
        if "--inbox-format" in text:
            self.account_mode = f"multi-mailbox account, INBOX.{self.fmt}"
            return ["--type", "multi", "--inbox-format", self.fmt]
        self.account_mode = f"single-mailbox account (NAME.{self.fmt})"
        return ["--type", self.fmt]

    def setup(self):
        """Creates the base directory and the accounts."""
        os.makedirs(self.base, exist_ok=True)
        extra = self._create_args()
        for u in self.users:
            benchlib.run(self.cli("account", "create", u, "--password",
                                  self.password, *extra), 60)

    # --- lifecycle -----------------------------------------------------

    def start(self):
        """Creates the accounts, then starts `commune serve` (when any
        protocol was asked for) and waits until every listener accepts."""
        if self.proc is not None:
            return self
        try:
            self.setup()
            if self.protocols:
                self._serve()
        except Exception:
            self.stop()
            raise
        return self

    def _serve(self):
        # Loopback only: plaintext logins (POP3 USER/PASS, IMAP LOGIN)
        # without TLS, as Dovecot's side allows them.
        argv = [self.bin, "serve", "--base", self.base,
                "--allow-plaintext-auth"]
        for proto, port in self.ports.items():
            argv += ["--listen", f"{proto}=127.0.0.1:{port}"]
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log)
        try:
            for proto, port in self.ports.items():
                benchlib.wait_listening(port, self.proc,
                                        what=f"commune serve ({proto})")
        except Exception as e:
            raise RuntimeError(f"{e}\n{self.tail_log()}")

    def stop(self):
        """SIGTERM by PID (SIGKILL after a timeout); removes the temp dir
        unless keep."""
        if self.proc is not None:
            benchlib.stop_pid(self.proc)
            self.proc = None
        if self.own_dir and not self.keep and os.path.isdir(self.dir):
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def tail_log(self, n=20):
        try:
            with open(self.log, errors="replace") as f:
                return "\n".join(f.read().splitlines()[-n:])
        except OSError:
            return ""

    # --- the interface bench/run.py rows use -----------------------------

    def rcpt(self, user):
        """LMTP recipient address of user."""
        return f"{user}@{DOMAIN}"

    def list_cmd(self, user, mailbox="INBOX"):
        """argv that lists UID, flags, size, internal date (and subject)
        of every message of the mailbox."""
        return self.cli("message", "list", user, mailbox)

    @staticmethod
    def _count_lines(lines):
        # One line per message, starting with its UID; anything else
        # (a header, a summary) is not a message.
        return sum(1 for line in lines if line[:1].isdigit())

    def list_count(self, path):
        """Messages in a list_cmd() output file."""
        with open(path, "rb") as f:
            return self._count_lines(f)

    def count(self, user, mailbox="INBOX", timeout=300):
        """Messages in the mailbox (lines of `commune message list`)."""
        p = benchlib.run(self.list_cmd(user, mailbox), timeout)
        return self._count_lines(p.stdout.splitlines())

    def import_mbox(self, user, path, timeout=1800):
        """Appends every message of the mbox file at path to INBOX."""
        benchlib.run(self.cli("import", user, "INBOX", path), timeout)

    def drop_index(self, user):
        """Deletes the account's index caches (every mailbox path plus
        `.idx`, docs/storage-format.md) so the next open rebuilds them
        from the mailbox files. Returns how many were deleted."""
        accounts = os.path.join(self.base, "Accounts")
        victims = []
        for name in os.listdir(accounts):
            if name.startswith(user + ".") and name.endswith(".idx"):
                victims.append(os.path.join(accounts, name))
        for dirpath, _dirs, files in os.walk(
                os.path.join(accounts, user + ".macnt")):
            victims += [os.path.join(dirpath, f) for f in files
                        if f.endswith(".idx")]
        for v in victims:
            os.unlink(v)
        if not victims:
            raise RuntimeError(f"no index file found for {user}")
        return len(victims)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default=None)
    ap.add_argument("--format", choices=FORMATS, default="mbox")
    ap.add_argument("--users", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=3600)
    args = ap.parse_args()
    users = [f"user{i}" for i in range(1, args.users + 1)]
    with Commune(fmt=args.format, users=users, binary=args.bin) as c:
        print(f"commune pid {c.proc.pid}, base {c.base} "
              f"({c.account_mode})")
        for proto, port in c.ports.items():
            print(f"  {proto}: 127.0.0.1:{port}")
        print(f"  users {', '.join(users)} / password {c.password}",
              flush=True)
        try:
            time.sleep(args.seconds)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
