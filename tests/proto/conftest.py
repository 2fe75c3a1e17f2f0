# SPDX-License-Identifier: MIT
"""Fixtures for protocol tests: a real `commune serve` on loopback.

`serve(["lmtp", "imap"], *extra_args)` starts the daemon on a throwaway
base with one listener per protocol on 127.0.0.1 port 0 (the kernel picks
a free port, so parallel runs never collide) and returns a Server whose
`ports` maps each protocol to its bound port, read from the daemon's
"commune: listening PROTO on ADDR:PORT" lines. At the end of the test
every server still running is stopped with SIGTERM; the test fails when
it does not exit 0 or when a sanitizer printed anything.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest

START_TIMEOUT = 30.0
STOP_TIMEOUT = 60.0

LISTEN_RE = re.compile(r"^commune: listening (\S+) on (\S+):(\d+)$", re.M)
SANITIZER_RE = re.compile(r"(ERROR: AddressSanitizer|ERROR: LeakSanitizer|"
                          r"runtime error:|PANIC)")


class Server:
    """One running `commune serve`; stderr goes to a file."""

    def __init__(self, binary, base, log_path, protocols, args=(), env=None,
                 listen=None):
        self.base = str(base)
        self.log_path = str(log_path)
        self.protocols = list(protocols)
        self.ports = {}
        self.listening = []
        cmd = [binary, "serve", "--base", self.base]
        for spec in listen or [f"{p}=127.0.0.1:0" for p in self.protocols]:
            cmd += ["--listen", spec]
        cmd += [str(a) for a in args]
        full_env = dict(os.environ)
        full_env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        full_env.setdefault("UBSAN_OPTIONS",
                            "print_stacktrace=1:halt_on_error=1")
        if env:
            full_env.update(env)
        self.cmd = cmd
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=self._log, env=full_env)
        self.returncode = None
        self._wait_listening(len(listen) if listen else len(self.protocols))

    def _wait_listening(self, count):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            found = LISTEN_RE.findall(self.log())
            if len(found) >= count:
                for proto, host, port in found:
                    self.ports.setdefault(proto, int(port))
                    self.listening.append((proto, host, int(port)))
                return
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"commune serve exited {self.proc.returncode} before "
                    f"listening:\n{self.log()}")
            time.sleep(0.02)
        self.proc.kill()
        raise AssertionError(f"commune serve did not listen within "
                             f"{START_TIMEOUT} s:\n{self.log()}")

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def connect(self, proto, timeout=30):
        """A plain TCP socket to the protocol's listener."""
        return socket.create_connection(("127.0.0.1", self.ports[proto]),
                                        timeout=timeout)

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        """Signals the daemon (unless sig is None) and waits; returns its
        exit status."""
        if self.returncode is None:
            if sig is not None and self.proc.poll() is None:
                self.proc.send_signal(sig)
            try:
                self.returncode = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self._log.close()
                raise AssertionError(f"commune serve did not stop within "
                                     f"{timeout} s:\n{self.log()}")
            self._log.close()
        return self.returncode

    def sanitizer_report(self):
        """The sanitizer/panic lines in the daemon's stderr, if any."""
        return [l for l in self.log().splitlines() if SANITIZER_RE.search(l)]

    def assert_clean_exit(self):
        code = self.stop()
        report = self.sanitizer_report()
        assert not report, "sanitizer output:\n" + self.log()
        assert code == 0, f"commune serve exited {code}:\n{self.log()}"


@pytest.fixture
def serve(commune, tmp_path):
    """Factory: serve(protocols, *args, env=None, listen=None) -> Server.

    listen, when given, is the list of PROTO=ADDR:PORT specs to use
    instead of one 127.0.0.1:0 listener per protocol.
    """
    servers = []

    def start(protocols, *args, env=None, listen=None):
        log = tmp_path / f"serve-{len(servers)}.log"
        srv = Server(commune.bin, commune.base, log, protocols, args,
                     env=env, listen=listen)
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.assert_clean_exit()


# ---- TLS: shared by the IMAP, POP3 and hostile-client tests ----

@pytest.fixture(scope="session")
def certificate(tmp_path_factory):
    """A self-signed certificate and key for CN=localhost."""
    d = tmp_path_factory.mktemp("cert")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-keyout", str(d / "server.key"),
                    "-out", str(d / "server.crt")],
                   check=True, capture_output=True, timeout=120)
    return d


@pytest.fixture
def tls_base(commune, base, certificate):
    """Puts the certificate where the daemon looks by default."""
    settings = base / "Settings"
    settings.mkdir(exist_ok=True)
    for name in ("server.crt", "server.key"):
        shutil.copy(certificate / name, settings / name)
    return commune
