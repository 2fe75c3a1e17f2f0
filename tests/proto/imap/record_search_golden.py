#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Records what Debian's Dovecot answers to search_corpus.SEARCHES over
search_corpus.MESSAGES into golden/search_dovecot.json, for
test_imap_search_charset.py. Needs dovecot-imapd; starts a private
Dovecot on loopback (tests/mime/dovecot_oracle.py) and stops it by PID.
Rerun after changing the corpus."""
import json
import os
import socket
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "mime"))

import dovecot_oracle  # noqa: E402
import search_corpus  # noqa: E402
from imap_helpers import Raw  # noqa: E402


def main():
    answers = {}
    with dovecot_oracle.Dovecot() as dc:
        for _, msg in search_corpus.MESSAGES:
            dc.add(msg)
        sock = socket.create_connection(("127.0.0.1", dc.port), timeout=30)
        c = Raw(None, sock=sock)
        assert c.cmd("l", "LOGIN t t")[-1].startswith("l OK")
        c.cmd("s", "SELECT INBOX")
        for i, search in enumerate(search_corpus.SEARCHES):
            c.send(search_corpus.command(f"t{i}", search))
            lines = c.until_tagged(f"t{i}")
            assert lines[-1].startswith(f"t{i} OK"), lines
            answers[search_corpus.label(search)] = \
                search_corpus.parse_search(lines)
        c.close()
    out = os.path.join(HERE, "golden", "search_dovecot.json")
    with open(out, "w") as f:
        json.dump(answers, f, indent=1, ensure_ascii=False, sort_keys=True)
        f.write("\n")
    print("wrote", out)


if __name__ == "__main__":
    main()
