# SPDX-License-Identifier: MIT
"""A private Debian Dovecot on loopback, used as the MIME oracle.

Starts `dovecot -c <temp conf> -F` with a passwd-file user and a maildir
in a temporary directory, never the system service, and stops it by its
PID. Messages go in over IMAP APPEND (imaplib); the few that IMAP cannot
carry (NUL bytes) are dropped into the maildir directly. fetch() returns
the raw IMAP text of one FETCH item, literals included, as bytes.
"""
import imaplib
import os
import re
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

DOVECOT = "/usr/sbin/dovecot"

CONF = """\
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
info_log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
mail_location = maildir:{d}/mail
mail_fsync = never
mail_save_crlf = yes
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/home
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""


# imaplib.append() rewrites every CR, LF and CRLF of the message to CRLF;
# the corpus tests line ends on purpose, so send the literal unchanged.
imaplib.MapCRLF = re.compile(br"(?!)")


def available():
    return os.access(DOVECOT, os.X_OK)


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def imap_raw(data):
    """Rebuilds the wire text of an imaplib FETCH answer (literals too)."""
    out = b""
    for item in data:
        if isinstance(item, tuple):
            out += item[0] + b"\r\n" + item[1]
        elif item is not None:
            out += item
    return out


class Dovecot:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="commune-dovecot-")
        self.port = _free_port()
        self.proc = None
        self.imap = None
        self.count = 0

    def start(self):
        d = self.dir
        pw = pwd.getpwnam("dovecot") if os.getuid() == 0 else None
        uid = pw.pw_uid if pw else os.getuid()
        gid = pw.pw_gid if pw else os.getgid()
        for sub in ("run", "state", "mail", "home"):
            os.makedirs(os.path.join(d, sub))
        with open(os.path.join(d, "passwd"), "w") as f:
            f.write("t:{PLAIN}t::::::\n")
        conf = os.path.join(d, "dovecot.conf")
        with open(conf, "w") as f:
            f.write(CONF.format(d=d, uid=uid, gid=gid, port=self.port))
        if pw:
            for root, dirs, files in os.walk(d):
                for n in dirs + files:
                    os.chown(os.path.join(root, n), uid, gid)
            os.chown(d, uid, gid)
        self.proc = subprocess.Popen([DOVECOT, "-c", conf, "-F"],
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self._connect()
        return self

    def _connect(self):
        deadline = time.time() + 20
        while True:
            try:
                self.imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
                break
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError("dovecot did not start; see "
                                       + os.path.join(d, "dovecot.log"))
                time.sleep(0.1)
        self.imap.login("t", "t")
        self.imap.select("INBOX")

    def stop(self):
        if self.imap is not None:
            try:
                self.imap.logout()
            except Exception:
                pass
            self.imap = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if os.environ.get("COMMUNE_KEEP_DOVECOT"):
            print("dovecot directory kept:", self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def add(self, msg):
        """Stores msg (bytes); returns its sequence number."""
        if b"\0" in msg:
            self._drop(msg)
        else:
            typ, data = self.imap.append("INBOX", None, None, msg)
            if typ != "OK":
                raise RuntimeError(f"APPEND failed: {data}")
        self.imap.noop()
        self.count += 1
        return self.count

    def _drop(self, msg):
        """Writes msg straight into the maildir (IMAP cannot carry NUL)."""
        name = "%d.M%dP%d.commune" % (time.time(), self.count, os.getpid())
        tmp = os.path.join(self.dir, "mail", "tmp", name)
        with open(tmp, "wb") as f:
            f.write(msg)
        if os.getuid() == 0:
            pw = pwd.getpwnam("dovecot")
            os.chown(tmp, pw.pw_uid, pw.pw_gid)
        os.rename(tmp, os.path.join(self.dir, "mail", "new", name))

    def fetch(self, seq, item):
        """Raw text of one FETCH item (the value after its name), or None
        when the server answered NO/BAD (text in self.last_error)."""
        self.imap.untagged_responses.clear()
        try:
            typ, data = self.imap.fetch(str(seq), "(" + item + ")")
        except imaplib.IMAP4.abort as e:
            # Dovecot drops the connection when a BINARY decode fails
            # half-way ("Base64 data ends prematurely"): record that and
            # log in again.
            self.last_error = "disconnected: " + str(e)
            self._connect()
            return None
        except (OSError, EOFError) as e:
            self.last_error = "disconnected: " + str(e)
            self._connect()
            return None
        except imaplib.IMAP4.error as e:
            self.last_error = str(e)
            return None
        if typ != "OK":
            self.last_error = repr(data)
            return None
        raw = imap_raw(data)
        return raw
