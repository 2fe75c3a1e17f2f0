# SPDX-License-Identifier: MIT
"""The crash and fault suites start the daemon with the protocol tests'
`serve` fixture (tests/proto/conftest.py)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from proto.conftest import serve  # noqa: E402,F401
