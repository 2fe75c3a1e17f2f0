#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A private Dovecot on loopback, for side-by-side benchmarks.

Everything lives in one temp dir: the config file, base_dir (sockets,
pid), state_dir, the log, a passwd-file for users and the mail itself.
It listens on 127.0.0.1 only, on free non-default ports, with TLS off,
and is started as `dovecot -c CONF -F` in the background and stopped by
its master PID (SIGTERM, then SIGKILL of it and its children, by PID).
The system Dovecot service and /etc/dovecot are never touched.

Mail formats: "maildir" (closest to Commune's .mdir), "mbox" (closest to
Commune's .mbox), "sdbox". mail_fsync = optimized, Dovecot's default:
the mail file is fsynced before a delivery or APPEND is acknowledged.

As root the mail processes run as "nobody" (Dovecot refuses mail access
as root; $BENCH_DOVECOT_MAIL_USER picks another user), owning only the
mail dir in the temp dir, and the login/internal processes as the
packaged dovecot/dovenull users. As
another user, every process runs as that user and chroots are off.

    bench/dovecot.py --format maildir --users 4    (prints ports, waits)
"""
import argparse
import os
import pwd
import grp
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

FORMATS = ("maildir", "mbox", "sdbox")
# Mail processes' user when we run as root (Dovecot refuses mail access
# as root). "nobody" exists on every Debian system; nothing else of it
# is touched, and it owns only files inside our temp dir.
MAIL_USER_AS_ROOT = os.environ.get("BENCH_DOVECOT_MAIL_USER", "nobody")
PROTOCOLS = ("lmtp", "imap", "pop3")
DOMAIN = "bench.test"


def _mail_location(fmt, mail):
    if fmt == "maildir":
        return f"maildir:{mail}/%n/Maildir"
    if fmt == "mbox":
        return f"mbox:{mail}/%n/mail:INBOX={mail}/%n/inbox"
    if fmt == "sdbox":
        return f"sdbox:{mail}/%n/sdbox"
    raise ValueError(f"unknown format {fmt!r}")


class Dovecot:
    """A private Dovecot instance. Use as a context manager, or call
    start() and stop() (stop is idempotent and registered with atexit
    by the caller if needed)."""

    name = "Dovecot"
    fsync_note = "mail_fsync=optimized (fsync of each saved mail file)"

    def __init__(self, workdir=None, fmt="maildir", users=("user1",),
                 password="bench", protocols=PROTOCOLS, keep=False,
                 daemon=True, extra_conf=""):
        # Commune's format names map to their closest Dovecot format.
        # daemon is accepted for symmetry with bench/commune.py: doveadm
        # needs the master's auth service, so Dovecot always runs.
        fmt = {"mdir": "maildir"}.get(fmt, fmt)
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}")
        for tool in ("dovecot", "doveadm"):
            if not shutil.which(tool):
                raise RuntimeError(f"{tool} not found: run "
                                   "`scripts/deps.sh build bench` as root")
        self.fmt = fmt
        self.users = list(users)
        self.password = password
        self.protocols = tuple(protocols)
        self.keep = keep
        self.own_dir = workdir is None
        self.dir = workdir or tempfile.mkdtemp(prefix="dovecot-bench-")
        self.mail = os.path.join(self.dir, "mail")
        self.conf = os.path.join(self.dir, "dovecot.conf")
        self.log = os.path.join(self.dir, "dovecot.log")
        self.ports = {p: benchlib.free_port() for p in self.protocols}
        self.proc = None
        self.extra_conf = extra_conf
        self._write_config()

    # --- configuration -------------------------------------------------

    def _identity(self):
        """(mail uid, mail gid, extra config lines) for who we run as."""
        uid, gid = os.getuid(), os.getgid()
        if uid == 0:
            # Dovecot refuses mail access as root, so mail processes
            # run as an unprivileged user that owns only the mail dir.
            pw = pwd.getpwnam(MAIL_USER_AS_ROOT)
            uid, gid = pw.pw_uid, pw.pw_gid
            lines = [f"first_valid_uid = {min(uid, 500)}",
                     f"first_valid_gid = {min(gid, 500)}"]
            for user, key in (("dovecot", "default_internal_user"),
                              ("dovenull", "default_login_user")):
                try:
                    pwd.getpwnam(user)
                except KeyError:
                    lines.append(f"{key} = root")
            try:
                grp.getgrnam("dovecot")
            except KeyError:
                lines.append("default_internal_group = root")
            return uid, gid, lines
        me = pwd.getpwuid(uid).pw_name
        group = grp.getgrgid(gid).gr_name
        lines = [f"default_internal_user = {me}",
                 f"default_internal_group = {group}",
                 f"default_login_user = {me}",
                 f"first_valid_uid = {uid}", f"first_valid_gid = {gid}"]
        for svc in ("imap-login", "pop3-login", "anvil"):
            lines.append(f"service {svc} {{\n  chroot =\n}}")
        return uid, gid, lines

    def _write_config(self):
        run = os.path.join(self.dir, "run")
        state = os.path.join(self.dir, "state")
        for d in (run, state, self.mail):
            os.makedirs(d, exist_ok=True)
        uid, gid, ident = self._identity()
        passwd = os.path.join(self.dir, "passwd")
        with open(passwd, "w") as f:
            ids = f"{uid}:{gid}"
            for u in self.users:
                home = os.path.join(self.mail, u)
                f.write(f"{u}:{{PLAIN}}{self.password}:{ids}::"
                        f"{home}::\n")
        if os.getuid() == 0:
            # Login, auth and mail processes drop to unprivileged users
            # and must reach the sockets, the passwd-file and the mail.
            os.chmod(self.dir, 0o755)
            os.chown(self.mail, uid, gid)
        os.chmod(passwd, 0o644)
        listeners = []
        if "lmtp" in self.protocols:
            listeners.append(
                "service lmtp {\n"
                "  inet_listener lmtp {\n"
                f"    address = 127.0.0.1\n    port = {self.ports['lmtp']}\n"
                "  }\n}")
        if "imap" in self.protocols:
            listeners.append(
                "service imap-login {\n"
                f"  inet_listener imap {{\n    port = {self.ports['imap']}\n"
                "  }\n  inet_listener imaps {\n    port = 0\n  }\n}")
        if "pop3" in self.protocols:
            listeners.append(
                "service pop3-login {\n"
                f"  inet_listener pop3 {{\n    port = {self.ports['pop3']}\n"
                "  }\n  inet_listener pop3s {\n    port = 0\n  }\n}")
        conf = [
            "# Written by bench/dovecot.py: a private benchmark instance.",
            f"instance_name = bench-{os.path.basename(self.dir)}",
            f"base_dir = {run}",
            f"state_dir = {state}",
            f"log_path = {self.log}",
            f"info_log_path = {self.log}",
            f"protocols = {' '.join(self.protocols)}",
            "listen = 127.0.0.1",
            "ssl = no",
            "disable_plaintext_auth = no",
            "auth_mechanisms = plain login",
            f"mail_location = {_mail_location(self.fmt, self.mail)}",
            "mail_fsync = optimized",
            "mail_plugins =",
            "namespace inbox {\n  inbox = yes\n  separator = /\n}",
            "passdb {\n  driver = passwd-file\n"
            f"  args = scheme=PLAIN username_format=%n {passwd}\n}}",
            "userdb {\n  driver = passwd-file\n"
            f"  args = username_format=%n {passwd}\n}}",
            f"postmaster_address = postmaster@{DOMAIN}",
            "lmtp_add_received_header = yes",
            "import_environment = TZ",
            # doveadm run as the mail user (callgrind rows) may connect.
            "service stats {\n  unix_listener stats-writer {\n"
            "    mode = 0666\n  }\n}",
        ] + ident + listeners
        if self.extra_conf:
            # A row's own settings (e.g. the limits of the IDLE row).
            conf.append(self.extra_conf)
        extra = os.environ.get("BENCH_DOVECOT_EXTRA")
        if extra:
            # Site tuning (bench/run.py --dovecot-extra FILE), e.g. the
            # login processes' high-performance mode; read last, so it
            # overrides what is above.
            with open(extra) as f:
                conf += [f"# from {extra}", f.read()]
        with open(self.conf, "w") as f:
            f.write("\n".join(conf) + "\n")

    # --- lifecycle -----------------------------------------------------

    def start(self):
        """Starts the master in the foreground (-F) as our child and waits
        until every listener accepts connections."""
        if self.proc is not None:
            return self
        errlog = open(os.path.join(self.dir, "dovecot.stderr"), "wb")
        self.proc = subprocess.Popen(["dovecot", "-c", self.conf, "-F"],
                                     stdin=subprocess.DEVNULL,
                                     stdout=errlog, stderr=errlog)
        errlog.close()
        try:
            for proto, port in self.ports.items():
                benchlib.wait_listening(port, self.proc,
                                        what=f"dovecot {proto}")
        except Exception:
            msg = self.tail_log()
            self.stop()
            raise RuntimeError(f"dovecot failed to start: {msg}")
        return self

    def stop(self):
        """Stops the master by PID; removes the temp dir unless keep."""
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
        out = []
        for p in (self.log, os.path.join(self.dir, "dovecot.stderr")):
            try:
                with open(p, errors="replace") as f:
                    out += f.read().splitlines()[-n:]
            except OSError:
                pass
        return "\n".join(out[-n:])

    # --- the interface bench/run.py rows use -----------------------------

    def rcpt(self, user):
        """LMTP recipient address of user."""
        return f"{user}@{DOMAIN}"

    def doveadm(self, *args):
        return ["doveadm", "-c", self.conf] + list(args)

    def count(self, user, mailbox="INBOX", timeout=300):
        """Messages in user's mailbox (doveadm mailbox status)."""
        p = self.run_doveadm(timeout, "-f", "flow", "mailbox", "status",
                             "-u", user, "messages", mailbox)
        out = p.stdout.decode().strip()
        return int(out.split("messages=")[1].split()[0])

    def _own(self, path):
        """Hands path to the mail user (as root; else a no-op)."""
        if os.getuid() == 0:
            pw = pwd.getpwnam(MAIL_USER_AS_ROOT)
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def import_mbox(self, user, path, timeout=1800, fsync=True):
        """Copies every message of the mbox file at path into INBOX with
        `doveadm import`. Dovecot may write X-UID headers into a source
        mbox, so it reads a private copy (not timed). fsync=False runs
        it with mail_fsync=never (for fixtures, where the import is not
        what is measured)."""
        src = os.path.join(self.dir, "import")
        os.makedirs(src, exist_ok=True)
        copy = os.path.join(src, "inbox")
        shutil.copyfile(path, copy)
        self._own(src)
        self._own(copy)
        loc = f"mbox:{src}:INBOX={copy}:INDEX=MEMORY"
        try:
            opts = () if fsync else ("-o", "mail_fsync=never")
            self.run_doveadm(timeout, *opts, "import", "-u", user, loc, "",
                             "all")
        finally:
            shutil.rmtree(src, ignore_errors=True)

    def run_doveadm(self, timeout, *args):
        """Runs doveadm; fails on a non-zero exit or on any "Error:" it
        logs (doveadm import exits 0 after failing to save)."""
        p = benchlib.run(self.doveadm(*args), timeout)
        err = p.stderr.decode(errors="replace")
        if "Error:" in err or "Fatal:" in err:
            raise RuntimeError(f"doveadm {args[0]}: {err.strip()[-1000:]}")
        return p

    def list_cmd(self, user, mailbox="INBOX"):
        """argv that lists UID, flags, size, internal date and subject of
        every message of the mailbox (the "open and list" row; the same
        columns as `commune message list`)."""
        return self.doveadm("-f", "tab", "fetch", "-u", user,
                            "uid flags size.virtual date.received "
                            "hdr.subject", "mailbox", mailbox, "all")

    def callgrind_prefix(self):
        """Runs valgrind as the mail user: doveadm would otherwise drop
        root after valgrind opened its output file as root."""
        if os.getuid() != 0:
            return []
        pw = pwd.getpwnam(MAIL_USER_AS_ROOT)
        return ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}",
                "--clear-groups"]

    @staticmethod
    def list_count(path):
        """Messages in a list_cmd() output file (tab format: a header
        line, then one line per message)."""
        with open(path, "rb") as f:
            return max(0, sum(1 for line in f if line.strip()) - 1)

    def drop_index(self, user):
        """Deletes user's index files (dovecot.index*; never the
        dovecot-uidlist or mail files), so the next open rebuilds."""
        home = os.path.join(self.mail, user)
        n = 0
        for dirpath, _dirs, files in os.walk(home):
            for f in files:
                if f.startswith("dovecot.index") or \
                        f.startswith("dovecot.list.index"):
                    os.unlink(os.path.join(dirpath, f))
                    n += 1
        return n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--format", choices=FORMATS, default="maildir")
    ap.add_argument("--users", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=3600,
                    help="stop after this long (default 1 h)")
    args = ap.parse_args()
    users = [f"user{i}" for i in range(1, args.users + 1)]
    with Dovecot(fmt=args.format, users=users) as dc:
        print(f"dovecot pid {dc.proc.pid}, config {dc.conf}")
        for proto, port in dc.ports.items():
            print(f"  {proto}: 127.0.0.1:{port}")
        print(f"  users {', '.join(users)} / password {dc.password}; "
              f"LMTP recipients user1@{DOMAIN} ...", flush=True)
        try:
            time.sleep(args.seconds)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
