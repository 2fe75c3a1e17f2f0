# SPDX-License-Identifier: MIT
# A package, so that this directory's conftest.py is imported as
# proto.conftest and never shadows tests/conftest.py (which test modules
# may import as "conftest").
