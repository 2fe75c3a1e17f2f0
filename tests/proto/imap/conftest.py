# SPDX-License-Identifier: MIT
"""Fixtures of the IMAP protocol tests: accounts, a certificate, and
`commune serve` with imap (and imaps, lmtp) listeners."""
import shutil
import subprocess

import pytest

PW = "pw"


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


@pytest.fixture
def accounts(commune):
    """alice (multi), bob (single-mailbox mbox), carol (single, mdir)."""
    commune.ok("account", "create", "alice", "--password", PW)
    commune.ok("account", "create", "bob", "--password", PW,
               "--type", "mbox")
    commune.ok("account", "create", "carol", "--password", PW,
               "--type", "mdir")
    return commune


@pytest.fixture
def imap(serve, accounts):
    """imap and lmtp, plaintext logins allowed (loopback tests)."""
    return serve(["imap", "lmtp"], "--allow-plaintext-auth")


@pytest.fixture
def tls_imap(serve, accounts, tls_base):
    """imap with STARTTLS and imaps; plaintext logins only after TLS."""
    return serve(["imap", "imaps"])
