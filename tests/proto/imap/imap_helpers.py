# SPDX-License-Identifier: MIT
"""Helpers of the IMAP protocol tests: a raw client for exact bytes,
imaplib clients, delivery through the CLI."""
import imaplib
import socket
import ssl

PW = "pw"
TIMEOUT = 30
AUTH_DELAY = 0.9        # AUTH_FAILURE_DELAY_MSECS, with some slack


def message(subject, body="Hello.\r\n"):
    if isinstance(body, str):
        body = body.encode()
    return (f"From: sender@example.net\r\nTo: alice@localhost\r\n"
            f"Subject: {subject}\r\n\r\n").encode() + body


def deliver(commune, account, data, *args):
    p = commune.run("deliver", account, *args, input=data)
    assert p.returncode == 0, p.stderr
    return int(p.stdout.decode().strip())


def unverified():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def client(srv, user="alice", password=PW):
    """A logged-in imaplib client."""
    m = imaplib.IMAP4("127.0.0.1", srv.ports["imap"], timeout=TIMEOUT)
    m.login(user, password)
    return m


class Raw:
    """A raw IMAP client: send bytes, read lines exactly."""

    def __init__(self, server, proto="imap", timeout=TIMEOUT, sock=None):
        self.sock = sock or server.connect(proto, timeout=timeout)
        self.buf = b""
        self.greeting = self.line()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"connection closed; pending {self.buf!r}")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def until_tagged(self, tag):
        """Lines up to and including the tagged one."""
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if line.startswith(tag + " "):
                return lines

    def cmd(self, tag, text):
        self.send(f"{tag} {text}\r\n")
        return self.until_tagged(tag)

    def login(self, user="alice", password=PW):
        lines = self.cmd("L", f"LOGIN {user} {password}")
        assert lines[-1].startswith("L OK"), lines
        return lines

    def closed(self, timeout=10):
        """True when the server closes the connection (after any data)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                if not self.sock.recv(65536):
                    return True
        except (ConnectionResetError, socket.timeout):
            return False
        except ssl.SSLError:
            return True

    def starttls(self):
        lines = self.cmd("S", "STARTTLS")
        assert lines[-1].startswith("S OK"), lines
        assert self.buf == b""
        self.sock = unverified().wrap_socket(self.sock)

    def close(self):
        self.sock.close()
