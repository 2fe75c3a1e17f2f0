#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Records tests/mime/golden/*.json from Debian's Dovecot.

Usage: tests/mime/record_golden.py [name...]   (default: whole corpus)

Starts a private Dovecot (mime_oracle.py), stores every corpus
message, and FETCHes ENVELOPE, BODY, BODYSTRUCTURE and a list of
BODY[section]<partial>, BINARY[] and BINARY.SIZE[] items chosen from
Dovecot's own BODYSTRUCTURE. Each golden file keeps, per item, the raw
IMAP text (ENVELOPE/BODY/BODYSTRUCTURE) or the section bytes, latin-1
mapped so JSON holds them losslessly. test_mime_dovecot.py compares
mime-dump's output with these files, so `make test` needs no Dovecot.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import corpus  # noqa: E402
import mime_oracle  # noqa: E402
import imapval  # noqa: E402

GOLDEN = os.path.join(HERE, "golden")


def section_items(bodystructure):
    """The FETCH items to record for one message."""
    items = ["BODY[]", "BODY[HEADER]", "BODY[TEXT]", "BODY[1]",
             "BODY[HEADER.FIELDS (FROM TO SUBJECT X-MISSING)]",
             "BODY[HEADER.FIELDS (subject Content-Type)]",
             "BODY[HEADER.FIELDS.NOT (FROM SUBJECT)]",
             "BODY[]<0.10>", "BODY[]<3.2>", "BODY[]<100000.5>",
             "BODY[TEXT]<2.5>", "BODY[HEADER]<0.0>",
             "BODY[99]", "BODY[1.5.7]", "BODY[99.MIME]",
             "BODY[99.HEADER]", "BODY[99.TEXT]", "BODY[1.1]",
             "BODY[1.1.1]", "BODY[1.1.MIME]", "BINARY[99]",
             "BODY[HEADER.FIELDS (X-EMPTY \"SUBJECT\")]",
             "BODY[HEADER.FIELDS.NOT ()]", "BODY[0]", "BODY[1.0]",
             "BODY[MIME]", "BODY[HEADER]<5.100>",
             "BINARY[]", "BINARY.SIZE[]", "BINARY[]<4.6>", "BINARY[HEADER]"]
    try:
        parts = list(imapval.body_parts(imapval.parse(bodystructure)))
    except (imapval.ParseError, IndexError, ValueError):
        parts = []
    if len(parts) > 60:
        parts = parts[:30] + parts[-30:]
    for n, (path, kind) in enumerate(parts):
        items.append("BODY[%s]" % path)
        items.append("BODY[%s.MIME]" % path)
        items += ["BINARY[%s]" % path, "BINARY.SIZE[%s]" % path]
        if kind == "message":
            items += ["BODY[%s.HEADER]" % path, "BODY[%s.TEXT]" % path,
                      "BODY[%s.HEADER.FIELDS (SUBJECT FROM)]" % path,
                      "BODY[%s.HEADER.FIELDS.NOT (SUBJECT)]" % path]
        elif n < 3:
            # HEADER and TEXT of parts that are not message/rfc822
            items += ["BODY[%s.HEADER]" % path, "BODY[%s.TEXT]" % path,
                      "BODY[%s.HEADER.FIELDS (CONTENT-TYPE)]" % path]
        if kind == "leaf":
            items += ["BODY[%s]<1.4>" % path, "BINARY[%s]<1.3>" % path,
                      "BODY[%s.9]" % path, "BODY[%s.1]" % path,
                      "BODY[%s.1.MIME]" % path]
    seen = set()
    return [i for i in items if not (i in seen or seen.add(i))]


def fetch_name(item):
    """BODY[x]<o.n> -> BODY.PEEK[x]<o.n>; the reply names it BODY[x]<o>."""
    if item.startswith("BODY["):
        return "BODY.PEEK[" + item[5:]
    if item.startswith("BINARY["):
        return "BINARY.PEEK[" + item[7:]
    return item


def reply_name(item):
    if "<" in item and item.endswith(">"):
        return item[:item.rindex(".")] + ">" if "." in \
            item[item.index("<"):] else item
    return item


def text(b):
    return None if b is None else b.decode("latin-1")


def record_one(dc, name, msg):
    seq = dc.add(msg)
    out = {"name": name, "items": {}}
    for item in ("ENVELOPE", "BODY", "BODYSTRUCTURE"):
        raw = dc.fetch(seq, item)
        val = dict(imapval.fetch_items(raw))[item]
        out["items"][item] = {"imap": text(val)}
    bs = out["items"]["BODYSTRUCTURE"]["imap"].encode("latin-1")
    for item in section_items(bs):
        if os.environ.get("COMMUNE_KEEP_DOVECOT"):
            print(name, item, flush=True)
        raw = dc.fetch(seq, fetch_name(item))
        if raw is None:
            out["items"][item] = {"error": dc.last_error}
            continue
        got = {k.upper(): v for k, v in imapval.fetch_items(raw)}
        want = reply_name(item).upper()
        if want not in got:
            raise RuntimeError(f"{name}: {item}: no {want} in {raw!r}")
        v = got[want]
        if item.startswith("BINARY.SIZE"):
            out["items"][item] = {"size": int(v)}
        else:
            out["items"][item] = {"data": text(imapval.nstring(v))}
    return out


def main():
    names = sys.argv[1:]
    os.makedirs(GOLDEN, exist_ok=True)
    with mime_oracle.Dovecot() as dc:
        for name, msg in corpus.CORPUS:
            if names and name not in names:
                continue
            out = record_one(dc, name, msg)
            path = os.path.join(GOLDEN, name + ".json")
            with open(path, "w") as f:
                json.dump(out, f, indent=1, sort_keys=True,
                          ensure_ascii=True)
                f.write("\n")
            print("recorded", name, len(out["items"]), "items")


if __name__ == "__main__":
    main()
