# SPDX-License-Identifier: MIT
"""Shared pytest fixtures: the real `commune` binary and throwaway bases.

COMMUNE_BIN names the binary under test (tests/run-all.sh sets it to the
sanitizer build); default build/commune.
"""
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMMUNE_BIN = os.environ.get("COMMUNE_BIN",
                             os.path.join(ROOT, "build", "commune"))


class Commune:
    """Runs `commune --base BASE ...` and returns CompletedProcess."""

    def __init__(self, base):
        self.base = str(base)
        self.bin = COMMUNE_BIN

    def run(self, *args, input=None, check=False, env=None):
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        if isinstance(input, str):
            input = input.encode()
        cmd = [self.bin] + [str(a) for a in args] + ["--base", self.base]
        p = subprocess.run(cmd, input=input, capture_output=True,
                           env=full_env, timeout=120)
        if check and p.returncode != 0:
            raise AssertionError(
                f"{cmd} exited {p.returncode}: {p.stderr.decode(errors='replace')}")
        return p

    def ok(self, *args, **kw):
        """Runs and asserts exit 0; returns stdout as text."""
        p = self.run(*args, check=True, **kw)
        return p.stdout.decode()


@pytest.fixture
def base(tmp_path):
    d = tmp_path / "base"
    d.mkdir()
    return d


@pytest.fixture
def commune(base):
    return Commune(base)
