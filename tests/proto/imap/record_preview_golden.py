#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Records Debian Dovecot's FETCH PREVIEW of test_imap_preview.CASES
into golden/preview_dovecot.json, for test_imap_preview.py. Needs
dovecot-imapd; starts a private Dovecot on loopback
(tests/mime/dovecot_oracle.py) and stops it by PID. Rerun after
changing the cases."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "mime"))

import dovecot_oracle  # noqa: E402
import test_imap_preview  # noqa: E402


def main():
    answers = []
    with dovecot_oracle.Dovecot() as dc:
        for i, (msg, _) in enumerate(test_imap_preview.CASES):
            dc.add(msg)
            typ, data = dc.imap.fetch(str(i + 1), "(PREVIEW)")
            assert typ == "OK", data
            item = data[0]
            if isinstance(item, tuple):
                answers.append(item[1].decode())
            else:
                text = item.decode().split("(PREVIEW ", 1)[1]
                answers.append(json.loads(text[:-1]))
    out = os.path.join(HERE, "golden", "preview_dovecot.json")
    with open(out, "w") as f:
        json.dump(answers, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("wrote", out)


if __name__ == "__main__":
    main()
