#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Server-level crash injection: kill -9 `commune serve` under load.

Starts the real daemon (COMMUNE_BIN, or --bin) with lmtp and imap
listeners on a throwaway base holding accounts of both formats:

  alice  multi-mailbox: INBOX (mbox), Mdir (mdir), Mbox2 (mbox)
  bob    single mailbox, mbox          carol  single mailbox, mdir

and drives it from several threads at once:

- LMTP deliveries to all three accounts (acknowledged on 250);
- one IMAP session per account: APPEND (acknowledged on OK [APPENDUID]),
  flag storms (UID STORE +FLAGS/-FLAGS of keywords and system flags),
  UID COPY and UID MOVE between alice's mbox and mdir mailboxes, \\Deleted +
  UID EXPUNGE;
- a CLI writer (`commune message flag/copy/move/expunge`) running
  concurrently with the server on the LMTP-delivered messages.

Each round the server is killed with SIGKILL at a random moment (and in
some rounds started with COMMUNE_VFS_CRASH_RANDOM=P, so it also dies
inside store writes), then the harness verifies the store with the
server down and after restarting it:

- every acknowledged message is present exactly once, by its token,
  in its mailbox (moved ones only in the target, expunged ones gone);
- nothing is present twice and nothing appears that was never sent;
- acknowledged flags are there (an unacknowledged STORE may or may
  not have happened; whatever is seen is adopted);
- every mailbox can be selected and fetched over IMAP;
- UIDVALIDITY does not change and UIDs are never reused: a UID once seen
  keeps its message, a new message gets a UID above every UID seen;
- `commune check ACCOUNT` is clean for every account.

Every thread is owned by one account and only touches messages it
created, so the model needs no locks across writers; an operation whose
reply was lost to a kill is "maybe" until the next verification adopts
what the store shows. Every loop is bounded in count and time, all
traffic is on loopback, and the server is stopped by PID in `finally`.

Run directly (`make crash`): crash_harness.py --bin BUILD/commune
--rounds 200 prints the totals; tests/crash/test_crash_server.py runs a
short form in `make test`.
"""
import argparse
import os
import random
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time

PW = "pw"
KEYWORDS = ["kwa", "kwb", "kwc", "kwd"]
# flags the load sets and clears and the verification checks (\\Deleted
# is only set on the way to an expunge, and checked apart)
FLAGS = KEYWORDS + ["\\Seen", "\\Flagged", "\\Answered", "\\Draft"]
START_TIMEOUT = 30.0
IO_TIMEOUT = 20.0
LISTEN_RE = re.compile(r"^commune: listening (\S+) on (\S+):(\d+)$", re.M)
SANITIZER_RE = re.compile(r"(ERROR: AddressSanitizer|runtime error:|PANIC)")
# account -> mailboxes (the first one is where LMTP delivers)
LAYOUT = {
    "alice": [("INBOX", "mbox"), ("Mdir", "mdir"), ("Mbox2", "mbox")],
    "bob": [("INBOX", "mbox")],
    "carol": [("INBOX", "mdir")],
}


class HarnessError(AssertionError):
    pass


# ---- the daemon ----

class Daemon:
    """`commune serve` with lmtp + imap on 127.0.0.1, port 0."""

    def __init__(self, binary, base, log_path, env=None):
        self.binary = binary
        self.base = base
        self.log_path = log_path
        self.env = env or {}
        self.proc = None
        self.ports = {}

    def start(self):
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=1")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        env.update(self.env)
        self._log = open(self.log_path, "ab")
        self._start_off = self._log.tell()
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--base", self.base,
             "--listen", "lmtp=127.0.0.1:0", "--listen", "imap=127.0.0.1:0",
             "--allow-plaintext-auth", "--log-level", "warn"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self._log, env=env)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            found = LISTEN_RE.findall(self.log())
            if len(found) >= 2:
                self.ports = {p: int(port) for p, _h, port in found}
                return True
            if self.proc.poll() is not None:
                return False        # died at start (a VFS crash, maybe)
            time.sleep(0.01)
        self.kill()
        raise HarnessError("commune serve did not listen:\n" + self.log())

    def log(self):
        """This run's part of the log."""
        with open(self.log_path, "rb") as f:
            f.seek(self._start_off)
            return f.read().decode(errors="replace")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        """SIGKILL by PID; returns True when it was still running."""
        was = False
        if self.proc is not None:
            if self.proc.poll() is None:
                was = True
                os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
            self._log.close()
            report = [l for l in self.log().splitlines()
                      if SANITIZER_RE.search(l)]
            if report:
                raise HarnessError("daemon reported:\n" + self.log())
            self.proc = None
        return was


# ---- a small raw IMAP client ----

class Imap:
    def __init__(self, port, user):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=IO_TIMEOUT)
        self.buf = b""
        self.n = 0
        self.selected = None
        self.line()
        ok, lines = self.cmd(f"LOGIN {user} {PW}")
        if not ok:
            raise HarnessError(f"login {user}: {lines}")

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read_literal(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("closed")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def cmd(self, text, literal=None):
        """(ok, [lines]); lines of literals are joined into one string."""
        self.n += 1
        tag = f"T{self.n}"
        if literal is not None:
            self.sock.sendall(f"{tag} {text} {{{len(literal)}+}}\r\n"
                              .encode() + literal + b"\r\n")
        else:
            self.sock.sendall(f"{tag} {text}\r\n".encode())
        lines = []
        while True:
            raw = self.line()
            m = re.search(rb"\{(\d+)\}$", raw)
            while m:
                raw += self.read_literal(int(m.group(1))) + self.line()
                m = re.search(rb"\{(\d+)\}$", raw)
            line = raw.decode("utf-8", "replace")
            lines.append(line)
            if line.startswith(tag + " "):
                return line.startswith(tag + " OK"), lines

    def select(self, box):
        if self.selected == box:
            return True
        self.selected = None
        ok, lines = self.cmd(f"SELECT {box}")
        if ok:
            self.selected = box
        return ok

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def message(token, extra=""):
    return (f"From: crash@example.org\r\nTo: x@localhost\r\n"
            f"Subject: {token}\r\nMessage-ID: <{token}@crash.example>\r\n"
            f"\r\nbody {token}\r\n{extra}").encode()


# ---- the model ----

class Entry:
    """One (account, mailbox, token) copy."""
    __slots__ = ("state", "uid", "flags", "unsure")

    def __init__(self, state, uid=None, flags=()):
        self.state = state          # "present", "absent", "maybe"
        self.uid = uid
        self.flags = set(flags)     # acknowledged flag state
        self.unsure = set()         # flags a lost STORE may have changed


class Model:
    def __init__(self):
        self.entries = {}           # (acct, box, token) -> Entry
        self.sent = set()           # (acct, box, token) ever attempted
        self.uid_owner = {}         # (acct, box, uid) -> token
        self.max_uid = {}           # (acct, box) -> highest UID seen
        self.uidvalidity = {}       # (acct, box) -> UIDVALIDITY
        self.lock = threading.RLock()   # guards entries' dict and counters
        self.acked = {k: 0 for k in ("lmtp", "append", "store", "copy",
                                     "move", "expunge", "cli-flag", "cli-copy",
                                     "cli-move", "cli-expunge")}
        self.unacked = 0
        self.kills = 0
        self.vfs_kills = 0
        self.lost = 0
        self.duplicated = 0

    def count(self, kind):
        with self.lock:
            self.acked[kind] += 1

    def put(self, key, entry):
        with self.lock:
            self.sent.add(key)
            self.entries[key] = entry
        return entry

    def snapshot(self):
        with self.lock:
            return list(self.entries.items())

    def note_uid(self, acct, box, uid, token, where):
        """A UID seen (APPENDUID, COPYUID or a listing). One given by the
        server in this round must be above every UID seen before it."""
        key = (acct, box, uid)
        with self.lock:
            if where != "listing" and uid <= self.max_uid.get((acct, box), 0):
                raise HarnessError(f"{acct}/{box}: {where} gave UID {uid} "
                                   f"<= {self.max_uid[(acct, box)]} seen "
                                   f"before ({token})")
            owner = self.uid_owner.get(key)
            if owner is None:
                self.uid_owner[key] = token
            elif owner != token:
                raise HarnessError(f"{acct}/{box} UID {uid} reused: "
                                   f"{owner} then {token} ({where})")


# ---- load threads ----

class Worker(threading.Thread):
    """Base: runs self.step() until stop, or the daemon is gone."""

    def __init__(self, h, name, seed):
        super().__init__(name=name, daemon=True)
        self.h = h
        self.rng = random.Random(seed)
        self.error = None

    def run(self):
        deadline = time.monotonic() + self.h.round_limit
        steps = 0
        try:
            self.setup()
            while (not self.h.stop.is_set() and steps < 5000
                   and time.monotonic() < deadline):
                self.step()
                steps += 1
        except (OSError, EOFError, smtplib.SMTPException):
            pass                    # the daemon was killed
        except HarnessError as e:
            self.error = e
        except Exception as e:      # a model bug: report, do not hide
            self.error = e
        finally:
            self.teardown()

    def setup(self):
        pass

    def teardown(self):
        pass


class LmtpWorker(Worker):
    def setup(self):
        self.lmtp = smtplib.LMTP("127.0.0.1", self.h.daemon.ports["lmtp"],
                                 timeout=IO_TIMEOUT)
        self.lmtp.ehlo("crash.example")

    def step(self):
        h = self.h
        acct = self.rng.choice(list(LAYOUT))
        box = LAYOUT[acct][0][0]
        token = h.token("l")
        key = (acct, box, token)
        h.model.put(key, Entry("maybe"))
        data = message(token, "x" * self.rng.randrange(0, 4000))
        code, _ = self.lmtp.mail("crash@example.org")
        if code == 250:
            code, _ = self.lmtp.rcpt(f"{acct}@localhost")
        if code != 250:
            if code >= 500:
                raise HarnessError(f"LMTP MAIL/RCPT {code} for {acct}")
            h.model.put(key, Entry("absent"))
            self.lmtp.rset()
            return
        self.lmtp.putcmd("data")
        code, _ = self.lmtp.getreply()
        if code != 354:
            self.lmtp.rset()
            return
        self.lmtp.send(smtplib.quotedata(data.decode()).encode()
                       + b"\r\n.\r\n")
        code, _ = self.lmtp.getreply()
        if code == 250:
            h.model.put(key, Entry("present"))
            h.model.count("lmtp")
        elif code >= 500:
            raise HarnessError(f"LMTP {code} for {acct}")
        else:
            h.model.put(key, Entry("absent"))

    def teardown(self):
        try:
            self.lmtp.close()
        except Exception:
            pass


class ImapWorker(Worker):
    """Owns the messages it APPENDs to one account; flags, copies,
    moves and expunges only those."""

    def __init__(self, h, acct, seed):
        super().__init__(h, f"imap-{acct}", seed)
        self.acct = acct
        self.boxes = [b for b, _f in LAYOUT[acct]]

    def setup(self):
        self.imap = Imap(self.h.daemon.ports["imap"], self.acct)

    def teardown(self):
        if hasattr(self, "imap"):
            self.imap.close()

    def mine(self, box=None):
        m = self.h.model
        return [k for k, e in m.snapshot()
                if k[0] == self.acct and k[2].startswith(f"i{self.acct}")
                and e.state == "present" and e.uid is not None
                and (box is None or k[1] == box)]

    def step(self):
        r = self.rng.random()
        own = self.mine()
        if r < 0.3 or len(own) < 3:
            self.append()
        elif r < 0.65:
            self.store(self.rng.choice(own))
        elif r < 0.8 and len(self.boxes) > 1:
            self.copy_move(self.rng.choice(own), self.rng.random() < 0.5)
        elif r < 0.9:
            self.expunge(self.rng.choice(own))
        else:
            self.store(self.rng.choice(own))

    def append(self):
        h = self.h
        box = self.rng.choice(self.boxes)
        token = h.token(f"i{self.acct}")
        key = (self.acct, box, token)
        flags = set(self.rng.sample(FLAGS, self.rng.randrange(0, 3)))
        e = h.model.put(key, Entry("maybe"))
        e.unsure = set(FLAGS)
        ok, lines = self.imap.cmd(
            f"APPEND {box} ({' '.join(sorted(flags))})",
            message(token, "y" * self.rng.randrange(0, 3000)))
        m = re.search(r"\[APPENDUID (\d+) (\d+)\]", lines[-1])
        if ok and m:
            uid = int(m.group(2))
            h.model.note_uid(self.acct, box, uid, token, "APPENDUID")
            h.model.put(key, Entry("present", uid, flags))
            h.model.count("append")
        elif ok:
            raise HarnessError(f"APPEND OK without APPENDUID: {lines}")
        else:
            h.model.put(key, Entry("absent"))

    def store(self, key):
        acct, box, token = key
        e = self.h.model.entries[key]
        if not self.imap.select(box):
            raise HarnessError(f"SELECT {box} failed")
        kw = self.rng.choice(FLAGS)
        add = kw not in e.flags if self.rng.random() < 0.8 else \
            self.rng.random() < 0.5
        e.unsure.add(kw)
        ok, lines = self.imap.cmd(
            f"UID STORE {e.uid} {'+' if add else '-'}FLAGS.SILENT ({kw})")
        if not ok:
            raise HarnessError(f"STORE: {lines}")
        e.unsure.discard(kw)
        (e.flags.add if add else e.flags.discard)(kw)
        self.h.model.count("store")

    def copy_move(self, key, move):
        acct, box, token = key
        e = self.h.model.entries[key]
        target = self.rng.choice([b for b in self.boxes if b != box])
        tkey = (acct, target, token)
        if tkey in self.h.model.entries and \
                self.h.model.entries[tkey].state != "absent":
            return                  # keep one copy per mailbox
        if not self.imap.select(box):
            raise HarnessError(f"SELECT {box} failed")
        ne = Entry("maybe", None, e.flags)
        ne.unsure = set(e.unsure)
        self.h.model.put(tkey, ne)
        if move:
            e.state = "maybe"
        verb = "MOVE" if move else "COPY"
        ok, lines = self.imap.cmd(f"UID {verb} {e.uid} {target}")
        if not ok:
            raise HarnessError(f"{verb}: {lines}")
        m = None
        for line in lines:
            m = re.search(r"\[COPYUID (\d+) (\d+) (\d+)\]", line) or m
        if m is None:
            raise HarnessError(f"{verb} without COPYUID: {lines}")
        uid = int(m.group(3))
        self.h.model.note_uid(acct, target, uid, token, "COPYUID")
        ne.state, ne.uid = "present", uid
        if move:
            e.state = "absent"
        self.h.model.count("move" if move else "copy")

    def expunge(self, key):
        acct, box, token = key
        e = self.h.model.entries[key]
        if not self.imap.select(box):
            raise HarnessError(f"SELECT {box} failed")
        # "maybe" before the STORE is sent: if a kill loses its reply,
        # the \\Deleted may be on disk already, and the CLI's `message
        # expunge` (which takes every \\Deleted message, and runs on
        # while the server is down) may remove it before verification.
        e.unsure.add("\\Deleted")
        e.state = "maybe"
        ok, lines = self.imap.cmd(f"UID STORE {e.uid} +FLAGS.SILENT "
                                  f"(\\Deleted)")
        if not ok:
            raise HarnessError(f"STORE \\Deleted: {lines}")
        ok, lines = self.imap.cmd(f"UID EXPUNGE {e.uid}")
        if not ok:
            raise HarnessError(f"UID EXPUNGE: {lines}")
        e.state = "absent"
        self.h.model.count("expunge")


class CliWorker(Worker):
    """The CLI (`commune message flag/copy/move/expunge`) on LMTP-delivered
    messages while the server runs: separate processes writing the same
    mailboxes as the server's sessions."""

    def step(self):
        h = self.h
        m = h.model
        cands = [k for k, e in m.snapshot()
                 if k[2].startswith("l") and e.state == "present"
                 and e.uid is not None]
        if not cands:
            time.sleep(0.05)
            return
        key = self.rng.choice(cands)
        r = self.rng.random()
        if r < 0.7:
            self.flag(key)
        elif key[0] == "alice" and r < 0.9:
            self.copy_move(key, r < 0.8)
        else:
            self.expunge(key)

    def flag(self, key):
        m = self.h.model
        e = m.entries[key]
        kw = self.rng.choice(FLAGS)
        add = kw not in e.flags
        e.unsure.add(kw)
        p = self.h.cli("message", "flag", key[0], key[1], str(e.uid),
                       ("+" if add else "-") + kw)
        if self.failed(p, key):
            return
        e.unsure.discard(kw)
        (e.flags.add if add else e.flags.discard)(kw)
        m.count("cli-flag")

    def copy_move(self, key, move):
        m = self.h.model
        acct, box, token = key
        e = m.entries[key]
        target = self.rng.choice([b for b, _f in LAYOUT[acct] if b != box])
        tkey = (acct, target, token)
        if tkey in m.entries and m.entries[tkey].state != "absent":
            return
        ne = Entry("maybe", None, e.flags)
        ne.unsure = set(e.unsure)
        m.put(tkey, ne)
        if move:
            e.state = "maybe"
        p = self.h.cli("message", "move" if move else "copy", acct, box,
                       str(e.uid), target)
        if self.failed(p, key):
            return
        uid = int(p.stdout.decode().split()[0])
        m.note_uid(acct, target, uid, token, "CLI " + ("move" if move
                                                       else "copy"))
        ne.state, ne.uid = "present", uid
        if move:
            e.state = "absent"
        m.count("cli-move" if move else "cli-copy")

    def expunge(self, key):
        """+\\Deleted, then `message expunge` (which removes every
        \\Deleted message of the mailbox: only ones on their way out)."""
        m = self.h.model
        acct, box, token = key
        e = m.entries[key]
        e.unsure.add("\\Deleted")
        e.state = "maybe"          # as in ImapWorker.expunge
        p = self.h.cli("message", "flag", acct, box, str(e.uid),
                       "+\\Deleted")
        if self.failed(p, key):
            e.state = "present"     # exit 75: nothing changed
            return
        p = self.h.cli("message", "expunge", acct, box)
        if self.failed(p, key):
            return
        e.state = "absent"
        m.count("cli-expunge")

    def failed(self, p, key):
        """True when the command failed: 75 (temporary) leaves the
        outcome open, anything else is an error."""
        if p.returncode == 0:
            return False
        if p.returncode != 75:
            raise HarnessError(f"CLI on {key}: exit {p.returncode} "
                               f"{p.stderr.decode(errors='replace')}")
        return True


# ---- the harness ----

class Harness:
    def __init__(self, binary, base, seed=0, vfs_random=50,
                 round_limit=10.0, log=print, progress=False):
        self.binary = binary
        self.base = base
        self.rng = random.Random(seed)
        self.seed = seed
        self.vfs_random = vfs_random
        self.round_limit = round_limit
        self.model = Model()
        self.stop = threading.Event()
        self.daemon = None
        self.log_path = os.path.join(base, "..", "serve.log")
        self.ntoken = 0
        self.tlock = threading.Lock()
        self.say = log
        self.progress = progress

    def token(self, prefix):
        with self.tlock:
            self.ntoken += 1
            return f"{prefix}-{self.seed}-{self.ntoken}"

    def cli(self, *args):
        return subprocess.run([self.binary] + list(args)
                              + ["--base", self.base],
                              capture_output=True, timeout=120)

    def cli_ok(self, *args):
        p = self.cli(*args)
        if p.returncode != 0:
            raise HarnessError(f"commune {' '.join(args)}: exit "
                               f"{p.returncode}: "
                               f"{p.stderr.decode(errors='replace')}")
        return p.stdout.decode(errors="replace")

    def setup(self):
        types = {"alice": "multi", "bob": "mbox", "carol": "mdir"}
        for acct, boxes in LAYOUT.items():
            self.cli_ok("account", "create", acct, "--password", PW,
                        "--type", types[acct])
            for box, fmt in boxes[1:]:
                self.cli_ok("mailbox", "create", acct, box, "--format", fmt)

    def start(self, vfs):
        """Starts the daemon (with a random VFS crash when vfs);
        retries without it when it dies before listening."""
        env = {}
        if vfs:
            env["COMMUNE_VFS_CRASH_RANDOM"] = str(self.vfs_random)
        for attempt in range(5):
            self.daemon = Daemon(self.binary, self.base, self.log_path,
                                 env if attempt == 0 else {})
            if self.daemon.start():
                return
            self.daemon.kill()
            self.model.vfs_kills += 1
        raise HarnessError("daemon does not start:\n" + self.daemon.log())

    def round(self, i):
        vfs = self.rng.random() < 0.4
        self.start(vfs)
        self.stop.clear()
        seed = self.rng.randrange(1 << 30)
        threads = [LmtpWorker(self, "lmtp-1", seed + 1),
                   LmtpWorker(self, "lmtp-2", seed + 2),
                   CliWorker(self, "cli", seed + 3)]
        threads += [ImapWorker(self, a, seed + 10 + n)
                    for n, a in enumerate(LAYOUT)]
        for t in threads:
            t.start()
        # kill at a random moment (or the VFS crash does it first)
        end = time.monotonic() + self.rng.uniform(0.05, 1.5)
        while time.monotonic() < end and self.daemon.alive():
            time.sleep(0.01)
        if self.daemon.kill():
            self.model.kills += 1
        else:
            self.model.vfs_kills += 1
        self.stop.set()
        for t in threads:
            t.join(timeout=IO_TIMEOUT + 130)
            if t.is_alive():
                raise HarnessError(f"thread {t.name} hangs")
        for t in threads:
            if t.error is not None:
                raise HarnessError(f"round {i} {t.name}: {t.error!r}")
        self.verify_offline()
        self.start(False)
        try:
            self.verify_online()
        finally:
            self.daemon.kill()

    # -- verification --

    def listing(self, acct, box):
        """{token: [(uid, flags)]} from `commune message list`."""
        out = self.cli_ok("message", "list", acct, box)
        seen = {}
        for line in out.splitlines():
            if not line.strip():
                continue
            parts = line.split("\t")
            if len(parts) < 5:
                raise HarnessError(f"{acct}/{box}: bad listing line {line!r}")
            uid = int(parts[0])
            flags = set(parts[1].strip("()").split())
            seen.setdefault(parts[4], []).append((uid, flags))
        return seen

    def verify_offline(self):
        """With the server down: check, then the model, through the CLI."""
        m = self.model
        for acct in LAYOUT:
            p = self.cli("check", acct)
            if p.returncode != 0:
                raise HarnessError(
                    f"check {acct} after kill {m.kills}: exit "
                    f"{p.returncode}\n{p.stdout.decode(errors='replace')}"
                    f"{p.stderr.decode(errors='replace')}")
        for acct, boxes in LAYOUT.items():
            for box, _fmt in boxes:
                self.verify_box(acct, box, self.listing(acct, box))
        for acct in LAYOUT:
            self.cli_ok("check", acct)

    def verify_box(self, acct, box, seen):
        m = self.model
        prev_max = m.max_uid.get((acct, box), 0)
        uids = []
        for token, copies in seen.items():
            key = (acct, box, token)
            if len(copies) > 1:
                m.duplicated += 1
                raise HarnessError(f"{acct}/{box}: {token} present "
                                   f"{len(copies)} times: {copies}")
            if key not in m.sent:
                raise HarnessError(f"{acct}/{box}: {token!r} never sent")
            uid, flags = copies[0]
            uids.append(uid)
            e = m.entries[key]
            if e.state == "absent":
                raise HarnessError(f"{acct}/{box}: {token} (uid {uid}) "
                                   f"should be gone (expunged/moved/"
                                   f"refused)")
            if e.uid is not None and e.uid != uid:
                raise HarnessError(f"{acct}/{box}: {token} UID {e.uid} "
                                   f"became {uid}")
            if e.uid is None and (acct, box, uid) not in m.uid_owner \
                    and uid <= prev_max:
                raise HarnessError(f"{acct}/{box}: new {token} got UID "
                                   f"{uid} <= {prev_max} seen before")
            m.note_uid(acct, box, uid, token, "listing")
            for kw in FLAGS + ["\\Deleted"]:
                if kw in e.unsure:
                    continue
                want = kw in e.flags
                if kw == "\\Deleted" and not want and kw in flags:
                    continue    # only set before UID EXPUNGE
                if want != (kw in flags):
                    raise HarnessError(
                        f"{acct}/{box}: {token} uid {uid} acknowledged "
                        f"flag {kw} {'set' if want else 'cleared'} but "
                        f"store shows {sorted(flags)}")
            e.state, e.uid = "present", uid
            e.flags = {f for f in flags if f in FLAGS}
            e.unsure.clear()
            if "\\Deleted" in flags:
                # on its way out (an EXPUNGE whose reply was lost):
                # any expunge may take it, so it is no longer owed
                e.unsure.add("\\Deleted")
                e.state = "maybe"
        for key, e in m.entries.items():
            if key[0] != acct or key[1] != box or key[2] in seen:
                continue
            if e.state == "present":
                m.lost += 1
                raise HarnessError(f"{acct}/{box}: acknowledged {key[2]} "
                                   f"(uid {e.uid}) lost")
            e.state = "absent"
        if uids:
            m.max_uid[(acct, box)] = max(prev_max, max(uids))

    def verify_online(self):
        """Restarted server: every mailbox selectable and fetchable,
        UIDVALIDITY unchanged, UIDs match the listing."""
        m = self.model
        for acct, boxes in LAYOUT.items():
            imap = Imap(self.daemon.ports["imap"], acct)
            try:
                for box, _fmt in boxes:
                    ok, lines = imap.cmd(f"EXAMINE {box}")
                    if not ok:
                        raise HarnessError(f"EXAMINE {acct}/{box}: {lines}")
                    uv = None
                    for line in lines:
                        mm = re.search(r"\[UIDVALIDITY (\d+)\]", line)
                        if mm:
                            uv = int(mm.group(1))
                    old = m.uidvalidity.setdefault((acct, box), uv)
                    if old != uv:
                        raise HarnessError(f"{acct}/{box}: UIDVALIDITY "
                                           f"{old} became {uv}")
                    ok, lines = imap.cmd(
                        "UID FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS "
                        "(SUBJECT)] BODY.PEEK[TEXT])")
                    if not ok:
                        raise HarnessError(f"FETCH {acct}/{box}: {lines}")
                    got = {}
                    for line in lines:
                        mu = re.search(r"UID (\d+)", line)
                        ms = re.search(r"Subject: (\S+)", line)
                        if line.startswith("* ") and mu and ms:
                            got[ms.group(1)] = int(mu.group(1))
                            if f"body {ms.group(1)}" not in line:
                                raise HarnessError(
                                    f"{acct}/{box}: body of {ms.group(1)} "
                                    f"unreadable: {line[:200]!r}")
                    want = {k[2]: e.uid for k, e in m.entries.items()
                            if k[0] == acct and k[1] == box
                            and e.state != "absent"}
                    if got != want:
                        raise HarnessError(
                            f"{acct}/{box}: IMAP shows {len(got)} "
                            f"messages, CLI {len(want)}; differ: "
                            f"{set(got.items()) ^ set(want.items())}")
            finally:
                imap.close()

    def run(self, rounds, time_limit):
        self.setup()
        deadline = time.monotonic() + time_limit
        done = 0
        try:
            for i in range(rounds):
                if time.monotonic() > deadline:
                    break
                self.round(i)
                done += 1
                if self.progress and done % 20 == 0:
                    self.say(f"crash: round {done}: {self.totals()}",
                             flush=True)
        finally:
            if self.daemon is not None and self.daemon.proc is not None:
                self.daemon.kill()
        return done

    def totals(self):
        m = self.model
        present = sum(1 for e in m.entries.values() if e.state == "present")
        acked = " ".join(f"{k}={v}" for k, v in m.acked.items())
        return (f"kills={m.kills} vfs-kills={m.vfs_kills} "
                f"acknowledged: {acked} total={sum(m.acked.values())} "
                f"present-at-end={present} "
                f"lost={m.lost} duplicated={m.duplicated}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.environ.get("COMMUNE_BIN"))
    ap.add_argument("--build", help="build dir holding commune")
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--time-limit", type=float, default=3600.0)
    ap.add_argument("--vfs-random", type=int, default=50)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    binary = args.bin or os.path.join(args.build or "build", "commune")
    binary = os.path.abspath(binary)
    tmp = tempfile.mkdtemp(prefix="commune-crash-")
    base = os.path.join(tmp, "base")
    os.mkdir(base)
    h = Harness(binary, base, seed=args.seed, vfs_random=args.vfs_random,
                progress=True)
    print(f"crash: seed {args.seed}, base {base}", flush=True)
    ok = False
    try:
        done = h.run(args.rounds, args.time_limit)
        ok = True
        print(f"crash: {done} rounds {h.totals()}")
    except Exception as e:      # HarnessError, or the harness broke
        print(f"crash: FAILED after {h.model.kills} kills: {e}\n"
              f"crash: {h.totals()}\ncrash: base kept at {base}")
    finally:
        if ok and not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
