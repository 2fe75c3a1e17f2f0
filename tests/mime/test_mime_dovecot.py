# SPDX-License-Identifier: MIT
"""Differential test of the MIME layer against Debian's Dovecot.

Every message of corpus.py goes through `mime-dump` (tests/mime/
mime-dump.c over src/mime), and its ENVELOPE, BODY, BODYSTRUCTURE,
BODY[section]<partial>, BINARY[] and BINARY.SIZE[] answers are compared
with what Dovecot 2.3 answered for the same bytes, recorded in
golden/<name>.json by record_golden.py (rerun it after changing the
corpus; it needs dovecot-imapd, `make test` does not).

Where Commune answers differently on purpose, DEVIATIONS says what it
answers instead and why, citing the RFC; anything else must match to
the byte.
"""
import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import corpus  # noqa: E402

BUILD = os.environ.get("COMMUNE_BUILD", os.path.join(ROOT, "build"))
MIME_DUMP = os.path.join(BUILD, "tests", "mime", "mime-dump")
GOLDEN = os.path.join(HERE, "golden")

# (message, item) -> (what Commune answers, why); message "*" means
# every message. The answer is a dict like the golden ones ({"imap":
# ...}, {"data": ...}, {"size": n}), BAD_SECTION (an error: the FETCH
# is BAD), SIZE_OF_BINARY (BINARY.SIZE[p] equals the length of our
# BINARY[p]) or Replace(old, new) (Dovecot's answer with one change).
BAD_SECTION = {"error": None}
SIZE_OF_BINARY = "size-of-binary"


class Replace:
    def __init__(self, old, new):
        self.old, self.new = old, new


R_SECTION_ZERO = """RFC 3501 §9: section-part = nz-number *("." nz-number).
    0 is not a part number, so the FETCH is BAD. Dovecot answers BODY[0]
    like BODY[1] in a multipart and with "" otherwise."""
R_BINARY_HEADER = """RFC 3516 §6: section-binary = "[" [section-part] "]".
    BINARY takes part numbers only (a header has no transfer encoding to
    undo), so the FETCH is BAD. Dovecot answers it like BODY[HEADER]."""
R_BINARY_SIZE = """RFC 3516 §4.2: BINARY.SIZE[p] is the size of what
    BINARY[p] returns. Dovecot computes it over the whole message and
    fails ([UNKNOWN-CTE], or drops the connection) when any other part
    cannot be decoded, or reports a size that differs from its own
    BINARY[p] (message/rfc822 parts); Commune's always equals the
    length of BINARY[p]."""
R_PARAM_RESYNC = """RFC 2045 §5.1: parameters are ";"-separated. After
    a malformed parameter (";;") Commune resumes at the next ";", so
    the well-formed a=b that follows survives; Dovecot skips characters
    one by one and loses it."""
R_LONG_BOUNDARY = """RFC 2046 §5.1.1 allows 70 characters; this message
    uses 90. Dovecot cuts boundaries to 80 characters, so the close
    delimiter "--<90 chars>--" no longer looks like one and it invents
    an empty second body part. Commune keeps boundaries up to
    MIME_PARSER_MAX_BOUNDARY (200) and sees the one part there is."""
R_RFC2231_CASE = """RFC 2045 §5.1: parameter names are case-insensitive,
    so RFC 2231 §3 sections name*0 and NAME*1 are one parameter. Dovecot
    sorts the sections case-sensitively and splits them."""
R_HEADER_PAST_DELIMITER = """RFC 2046 §5.1.1: a delimiter line ends the
    body part, so an encapsulated message whose header runs into the
    next delimiter has nothing more in its header (and no empty line to
    end it: BODY[p.HEADER], on which both agree, has none either).
    Dovecot's header filter reads on past the delimiter into the next
    body part until it finds an empty line."""
R_RFC822_EMPTY_MIME = """RFC 3501 §6.4.5: MIME is the part's MIME header,
    which here ends with its empty line like every other; Dovecot drops
    that line when the message/rfc822 body is empty."""
R_NOT_MIME_CTE = """RFC 2045 §1, §4: without MIME-Version (or a
    Content-Type) the Content-* fields mean nothing, and both servers'
    BODYSTRUCTURE say "7bit"; Commune's BINARY agrees with that and
    returns the body as it is. Dovecot decodes it as base64 anyway."""
R_BASE64_LENIENT = """RFC 2045 §6.8: characters outside the base64
    alphabet are ignored, "=" padding marks the end of the data, and a
    missing final padding loses nothing that cannot be decoded. Commune
    decodes such bodies (text after the padding, like an appended
    footer, is not data; more base64 after it, as in concatenated
    encodings, is); Dovecot answers NO [PARSE] or drops the
    connection."""
R_QP_LENIENT = """RFC 2045 §6.7: an "=" not followed by two hex digits
    is kept as it is by robust decoders (note to rule 1), and a soft
    line break at the very end of the body is simply the end. Dovecot
    answers NO [PARSE] or drops the connection."""
R_EMPTY_CTE = """RFC 2045 §6.1: an empty Content-Transfer-Encoding is no
    encoding; the default 7bit applies, as both servers' BODYSTRUCTURE
    say. Dovecot's BINARY answers NO [UNKNOWN-CTE]."""

QP_VALID_BINARY = (
    "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=qp\r\n"
    "\r\n--qp\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
    "Content-Transfer-Encoding: binary\r\n\r\nline one \r\n"
    "soft break and \xe9t\xe9\r\ntrailing blanks are transport "
    "padding\r\nlast line\r\n--qp\r\nContent-Type: text/plain; "
    "charset=utf-8\r\nContent-Transfer-Encoding: binary\r\n\r\n"
    "\xe2\x82\xac and lower case \xe2\x82\xac\r\n--qp\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: binary\r\n\r\nends in a soft line "
    "break\r\n--qp\r\nContent-Type: application/octet-stream\r\n"
    "Content-Transfer-Encoding: binary\r\n\r\n\x00\x01\x02\x03"
    "\x04\x05\x06\x07\x08\r\n--qp\r\nContent-Type: text/plain\r\n"
    "Content-Transfer-Encoding: binary\r\n\r\nline1\nline2\r\n\r\n"
    "--qp--\r\n")

DEVIATIONS = {
    ("*", "BODY[0]"): (BAD_SECTION, R_SECTION_ZERO),
    ("*", "BODY[1.0]"): (BAD_SECTION, R_SECTION_ZERO),
    ("*", "BINARY[HEADER]"): (BAD_SECTION, R_BINARY_HEADER),

    ("mime_broken_types", "BODY"): (Replace(
        '("c" "d" "charset"', '("a" "b" "c" "d" "charset"'),
        R_PARAM_RESYNC),
    ("mime_broken_types", "BODYSTRUCTURE"): (Replace(
        '("c" "d" "charset"', '("a" "b" "c" "d" "charset"'),
        R_PARAM_RESYNC),
    ("long_boundary", "BODY"): (Replace(
        '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0)', ""),
        R_LONG_BOUNDARY),
    ("long_boundary", "BODYSTRUCTURE"): (Replace(
        '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 '
        'NIL NIL NIL NIL)', ""), R_LONG_BOUNDARY),
    ("rfc2231_case", "BODY"): (Replace(
        '"NAME*1" "UPPER" "file*" "utf-8\'\'%42%41" "name" "lower"',
        '"file*" "utf-8\'\'%42%41" "name" "lowerUPPER"'), R_RFC2231_CASE),
    ("rfc2231_case", "BODYSTRUCTURE"): (Replace(
        '"NAME*1" "UPPER" "file*" "utf-8\'\'%42%41" "name" "lower"',
        '"file*" "utf-8\'\'%42%41" "name" "lowerUPPER"'), R_RFC2231_CASE),

    ("rfc822_variants", "BODY[2.HEADER.FIELDS (SUBJECT FROM)]"): (
        {"data": ""}, R_HEADER_PAST_DELIMITER),
    ("rfc822_variants", "BODY[2.HEADER.FIELDS.NOT (SUBJECT)]"): (
        {"data": "U3ViamVjdDogYmFzZTY0CgpoaQo=\r\n"},
        R_HEADER_PAST_DELIMITER),
    ("rfc822_variants", "BODY[3.HEADER.FIELDS (SUBJECT FROM)]"): (
        {"data": ""}, R_HEADER_PAST_DELIMITER),
    ("rfc822_variants", "BODY[3.HEADER.FIELDS.NOT (SUBJECT)]"): (
        {"data": ""}, R_HEADER_PAST_DELIMITER),
    ("rfc822_variants", "BODY[6.HEADER.FIELDS.NOT (SUBJECT)]"): (
        {"data": "no header at all, just text after the blank line?\r\n"},
        R_HEADER_PAST_DELIMITER),
    ("rfc822_variants", "BODY[3.MIME]"): (
        {"data": "Content-Type: message/rfc822\r\n\r\n"},
        R_RFC822_EMPTY_MIME),
    ("rfc822_variants", "BINARY.SIZE[2]"): (SIZE_OF_BINARY, R_BINARY_SIZE),
    ("rfc822_variants", "BINARY.SIZE[]"): (SIZE_OF_BINARY, R_BINARY_SIZE),

    ("no_mime_version", "BINARY[1]"): (
        {"data": "aGVsbG8K\r\n"}, R_NOT_MIME_CTE),
    ("no_mime_version", "BINARY[1]<1.3>"): ({"data": "GVs"}, R_NOT_MIME_CTE),
    ("no_mime_version", "BINARY[]"): ({"data": (
        "From: a@b.test\r\nContent-Transfer-Encoding: base64\r\n"
        "Content-Disposition: attachment\r\nContent-Description: ignored "
        "without MIME?\r\n\r\naGVsbG8K\r\n")}, R_NOT_MIME_CTE),
    ("no_mime_version", "BINARY.SIZE[1]"): (SIZE_OF_BINARY, R_NOT_MIME_CTE),
    ("no_mime_version", "BINARY.SIZE[]"): (SIZE_OF_BINARY, R_NOT_MIME_CTE),

    ("qp_valid", "BINARY[3]"): (
        {"data": "ends in a soft line break"}, R_QP_LENIENT),
    ("qp_valid", "BINARY[3]<1.3>"): ({"data": "nds"}, R_QP_LENIENT),
    ("qp_valid", "BINARY[]"): ({"data": QP_VALID_BINARY}, R_QP_LENIENT),
    ("qp_valid", "BINARY[]<4.6>"): ({"data": "-Versi"}, R_QP_LENIENT),
}
for _name in ("encodings", "encodings_lf"):
    DEVIATIONS.update({
        (_name, "BINARY[2]"): ({"data": (
            "Gr\xfc\xdfe softbreak, lower \xe9, bad =ZZ and =4, "
            "trailing\r\nend")}, R_QP_LENIENT),
        (_name, "BINARY[2]<1.3>"): ({"data": "r\xfc\xdf"}, R_QP_LENIENT),
        (_name, "BINARY[3]"): (
            {"data": "\x00\x01\x02\x03\x04\x05\x06\x07"},
            R_BASE64_LENIENT),
        (_name, "BINARY[3]<1.3>"): ({"data": "\x01\x02\x03"},
                                    R_BASE64_LENIENT),
        (_name, "BINARY[9]"): ({"data": "abcdef"}, R_BASE64_LENIENT),
        (_name, "BINARY[9]<1.3>"): ({"data": "bcd"}, R_BASE64_LENIENT),
        (_name, "BINARY[10]"): ({"data": "abcd"}, R_BASE64_LENIENT),
        (_name, "BINARY[10]<1.3>"): ({"data": "bcd"}, R_BASE64_LENIENT),
        (_name, "BINARY[7]"): ({"data": "empty encoding"}, R_EMPTY_CTE),
        (_name, "BINARY[7]<1.3>"): ({"data": "mpt"}, R_EMPTY_CTE),
    })
    for _n in (1, 2, 3, 4, 6, 7, 8, 9, 10):
        DEVIATIONS[(_name, "BINARY.SIZE[%d]" % _n)] = (SIZE_OF_BINARY,
                                                       R_BINARY_SIZE)
for _n in ("1", "2", "3", "4", "5", ""):
    for _name in ("qp_valid", "qp_valid_lf"):
        DEVIATIONS[(_name, "BINARY.SIZE[%s]" % _n)] = (SIZE_OF_BINARY,
                                                       R_BINARY_SIZE)
for _item in ("BINARY[3]", "BINARY[3]<1.3>", "BINARY[]", "BINARY[]<4.6>"):
    DEVIATIONS[("qp_valid_lf", _item)] = DEVIATIONS[("qp_valid", _item)]


def deviation(name, item):
    return DEVIATIONS.get((name, item)) or DEVIATIONS.get(("*", item))


def run_dump(path, items):
    out = subprocess.run([MIME_DUMP, path] + items, capture_output=True,
                         timeout=60, check=True).stdout
    res = {}
    i = 0
    for item in items:
        head = item.encode("latin-1") + b" "
        assert out.startswith(head, i), (item, out[i:i + 100])
        i += len(head)
        nl = out.index(b"\n", i)
        word = out[i:nl]
        i = nl + 1
        if word.startswith(b"ERROR"):
            res[item] = {"error": word[6:].decode("latin-1")}
        elif word == b"NIL":
            res[item] = {"data": None}
        else:
            n = int(word)
            res[item] = out[i:i + n]
            i += n + 1
    return res


def ours_as_golden(item, value):
    if isinstance(value, dict):
        return value
    text = value.decode("latin-1")
    if item in ("ENVELOPE", "BODY", "BODYSTRUCTURE"):
        return {"imap": text}
    if item.startswith("BINARY.SIZE"):
        return {"size": int(text)}
    return {"data": text}


def expected(name, item, golden, ours_binary):
    """What Commune must answer: Dovecot's, or the deviation's."""
    want = golden
    dev = deviation(name, item)
    if dev is None:
        return want
    want = dev[0]
    if isinstance(want, Replace):
        text = golden["imap"]
        assert want.old in text, (name, item, "deviation is stale")
        return {"imap": text.replace(want.old, want.new)}
    if want == SIZE_OF_BINARY:
        return {"size": len(ours_binary(item.replace("BINARY.SIZE",
                                                      "BINARY")))}
    return want


def same(want, got):
    if "error" in want:
        return "error" in got
    return want == got


@pytest.mark.parametrize("name,msg", corpus.CORPUS,
                         ids=[c[0] for c in corpus.CORPUS])
def test_mime_matches_dovecot(tmp_path, name, msg):
    assert os.access(MIME_DUMP, os.X_OK), "build tests/mime/mime-dump"
    with open(os.path.join(GOLDEN, name + ".json")) as f:
        golden = json.load(f)["items"]
    path = tmp_path / "msg"
    path.write_bytes(msg)
    items = sorted(golden)
    got = run_dump(str(path), items)

    def ours_binary(item):
        if item not in got:
            got.update(run_dump(str(path), [item]))
        return got[item]

    bad = []
    for item in items:
        want = expected(name, item, golden[item], ours_binary)
        ours = ours_as_golden(item, got[item])
        if not same(want, ours):
            bad.append("%s:\n  dovecot %r\n  commune %r"
                       % (item, want, ours))
    assert not bad, "%d of %d items differ:\n%s" % (
        len(bad), len(items), "\n".join(bad))


def test_deviations_are_needed():
    """Every listed deviation names a recorded item where Dovecot's
    answer really differs from Commune's."""
    stale = []
    for (name, item), (want, reason) in DEVIATIONS.items():
        assert reason.strip(), (name, item)
        names = [c[0] for c in corpus.CORPUS] if name == "*" else [name]
        found = False
        for n in names:
            with open(os.path.join(GOLDEN, n + ".json")) as f:
                golden = json.load(f)["items"]
            if item not in golden:
                continue
            found = True
            if isinstance(want, dict) and same(want, golden[item]):
                stale.append((n, item))
        if not found:
            stale.append((name, item))
    assert not stale, stale
