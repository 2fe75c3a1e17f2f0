# SPDX-License-Identifier: MIT
"""Fixtures of the IMAP protocol tests: accounts and
`commune serve` with imap (and imaps, lmtp) listeners."""

import pytest

PW = "pw"


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
