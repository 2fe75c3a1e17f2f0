# SPDX-License-Identifier: MIT
"""`commune serve` itself: options, listeners, PID file, signals."""
import os
import signal
import socket
import subprocess

import pytest


def run_serve(commune, *args, env=None, timeout=30):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([commune.bin, "serve", *map(str, args)],
                          capture_output=True, env=full_env, timeout=timeout)


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def test_protocols_and_help(commune):
    p = run_serve(commune, "--protocols")
    assert p.returncode == 0
    assert "lmtp" in p.stdout.decode().split()
    p = run_serve(commune, "--help")
    assert p.returncode == 0 and b"--listen" in p.stdout


@pytest.mark.parametrize("args,needle", [
    (["--listen", "smtpx=127.0.0.1:2525"], "unknown protocol 'smtpx'"),
    (["--listen", "lmtp"], "PROTO=ADDR:PORT"),
    (["--listen", "lmtp=127.0.0.1"], "bad address"),
    (["--listen", "lmtp=127.0.0.1:99999"], "bad address"),
    (["--listen", "lmtp=example.com:25"], "bad address"),
    (["--listen", "lmtp=[::1:25"], "bad address"),
    ([], "no --listen"),
    (["--listen", "lmtp=127.0.0.1:0", "--workers", "0"], "--workers"),
    (["--listen", "lmtp=127.0.0.1:0", "--log-level", "loud"], "--log-level"),
    (["--listen", "lmtp=127.0.0.1:0", "--max-message-size", "1T"],
     "--max-message-size"),
    (["--listen", "lmtp=127.0.0.1:0", "extra"], "unexpected argument"),
])
def test_usage_errors(commune, args, needle):
    p = run_serve(commune, "--base", commune.base, *args)
    assert p.returncode == 2, p.stderr
    assert needle in p.stderr.decode()


def test_port_in_use(commune):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        p = run_serve(commune, "--base", commune.base, "--listen",
                      f"lmtp=127.0.0.1:{port}")
    assert p.returncode == 1
    assert "cannot listen" in p.stderr.decode()
    assert "listening" not in p.stderr.decode()


def test_several_listeners(serve):
    listen = ["lmtp=127.0.0.1:0", "lmtp=localhost:0"]
    if ipv6_loopback():
        listen.append("lmtp=[::1]:0")
    srv = serve(["lmtp"], listen=listen)
    assert len(srv.listening) == len(listen)
    for proto, host, port in srv.listening:
        family = socket.AF_INET6 if host.startswith("[") else socket.AF_INET
        with socket.socket(family) as s:
            s.settimeout(10)
            s.connect((host.strip("[]"), port))
            assert s.recv(100).startswith(b"220 ")


def test_pidfile_and_sigint(serve, tmp_path):
    pidfile = tmp_path / "commune.pid"
    srv = serve(["lmtp"], "--pidfile", pidfile)
    assert int(pidfile.read_text()) == srv.proc.pid
    assert srv.stop(signal.SIGINT) == 0
    assert not pidfile.exists()


def test_base_from_environment(commune, tmp_path):
    base = tmp_path / "envbase"
    proc = subprocess.Popen(
        [commune.bin, "serve", "--listen", "lmtp=127.0.0.1:0"],
        env=dict(os.environ, COMMUNE_BASE=str(base)),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(20):     # other start-up notes may come first
            line = proc.stderr.readline().decode()
            if not line or line.startswith("commune: listening"):
                break
        assert line.startswith("commune: listening lmtp on 127.0.0.1:")
        assert (base / "Accounts").is_dir()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        # A failed assertion must not leave the server running.
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)


def test_sigterm_closes_idle_sessions(serve):
    srv = serve(["lmtp"])
    s = srv.connect("lmtp")
    assert s.recv(100).startswith(b"220 ")
    srv.send_signal(signal.SIGTERM)
    data = b""
    while True:
        chunk = s.recv(1000)
        if not chunk:
            break
        data += chunk
    assert data.startswith(b"421 4.3.2 ")
    assert srv.stop(sig=None) == 0
