# SPDX-License-Identifier: MIT
"""A private Debian Dovecot on loopback: the differential oracle of the
IMAP protocol tests (SORT, THREAD, ...).

`Dovecot().start()` writes a config into a temporary directory (base_dir,
state, log, passwd-file, maildir), starts `dovecot -c CONF -F` on a free
127.0.0.1 port with TLS off and returns; `client()` gives a logged-in
imaplib connection, `raw()` a socket-level client for exact bytes;
`stop()` ends it by its master PID (SIGTERM, then SIGKILL). The system
Dovecot service and /etc/dovecot are never touched. As root the mail
processes run as the packaged `dovecot` user, owning only the temp
directory. Needs dovecot-imapd (`scripts/deps.sh test` installs it).
"""
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

DOVECOT = "/usr/sbin/dovecot"
USER, PASSWORD = "t", "t"
START_TIMEOUT = 20.0

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
default_internal_user = {internal}
default_login_user = {login}
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
  chroot =
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
"""


def available():
    return os.access(DOVECOT, os.X_OK)


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Dovecot:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="commune-dovecot-")
        self.port = _free_port()
        self.proc = None

    def start(self):
        if not available():
            raise RuntimeError("dovecot-imapd is not installed: run "
                               "`scripts/deps.sh test` as root")
        d = self.dir
        if os.getuid() == 0:
            pw = pwd.getpwnam("dovecot")
            uid, gid = pw.pw_uid, pw.pw_gid
            internal, login = "dovecot", "dovenull"
        else:
            uid, gid = os.getuid(), os.getgid()
            internal = login = pwd.getpwuid(uid).pw_name
        for sub in ("run", "state", "mail", "home"):
            os.makedirs(os.path.join(d, sub))
        with open(os.path.join(d, "passwd"), "w") as f:
            f.write(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
        conf = os.path.join(d, "dovecot.conf")
        with open(conf, "w") as f:
            f.write(CONF.format(d=d, uid=uid, gid=gid, port=self.port,
                                internal=internal, login=login))
        if os.getuid() == 0:
            os.chmod(d, 0o755)
            for root, dirs, files in os.walk(d):
                for n in dirs + files:
                    os.chown(os.path.join(root, n), uid, gid)
            os.chown(d, uid, gid)
        self.proc = subprocess.Popen([DOVECOT, "-c", conf, "-F"],
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                self.client().logout()
                return self
            except (OSError, imaplib.IMAP4.error):
                if (time.monotonic() > deadline or
                        self.proc.poll() is not None):
                    log = self.log()
                    self.stop()
                    raise RuntimeError("dovecot did not start:\n" + log)
                time.sleep(0.1)

    def log(self):
        try:
            with open(os.path.join(self.dir, "dovecot.log")) as f:
                return f.read()
        except OSError:
            return ""

    def client(self):
        """A logged-in imaplib client."""
        m = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        m.login(USER, PASSWORD)
        return m

    def connect(self, timeout=30):
        """A plain socket to the IMAP listener (for a raw client)."""
        return socket.create_connection(("127.0.0.1", self.port),
                                        timeout=timeout)

    def stop(self):
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
