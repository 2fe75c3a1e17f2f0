# SPDX-License-Identifier: MIT
"""SEARCH with CHARSET and RFC 5051 i;unicode-casemap through the real
`commune serve`: key strings in legacy charsets (ISO-8859-x,
windows-125x, KOI8-R, ISO-2022-JP, Shift_JIS, EUC-JP, GB2312, Big5)
against headers with RFC 2047 words and bodies in base64/QP and those
charsets. The answers are compared with Debian's Dovecot's, recorded in
golden/search_dovecot.json by record_search_golden.py."""
import json
import os

import pytest

import search_corpus
from imap_helpers import Raw, deliver

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "golden", "search_dovecot.json")) as f:
    GOLDEN = json.load(f)

# label -> (what Commune answers, why), where it differs on purpose.
DEVIATIONS = {}


@pytest.fixture
def loaded(imap, accounts):
    for _, msg in search_corpus.MESSAGES:
        deliver(accounts, "alice", msg)
    c = Raw(imap)
    c.login()
    assert c.cmd("s", "SELECT INBOX")[-1].startswith("s OK")
    return c


def test_golden_is_complete():
    assert sorted(GOLDEN) == sorted(search_corpus.label(s)
                                    for s in search_corpus.SEARCHES)


def test_searches_match_dovecot(loaded):
    wrong = {}
    for i, search in enumerate(search_corpus.SEARCHES):
        loaded.send(search_corpus.command(f"t{i}", search))
        lines = loaded.until_tagged(f"t{i}")
        assert lines[-1].startswith(f"t{i} OK"), lines
        got = search_corpus.parse_search(lines)
        name = search_corpus.label(search)
        want = DEVIATIONS.get(name, (GOLDEN[name],))[0]
        if got != want:
            wrong[name] = (got, want)
    assert wrong == {}


def test_unknown_charset(loaded):
    lines = loaded.cmd("b", "SEARCH CHARSET X-NO-SUCH-CHARSET BODY x")
    assert lines[-1].startswith("b NO [BADCHARSET (UTF-8 US-ASCII ")
    assert "KOI8-R" in lines[-1] and "ISO-2022-JP" in lines[-1]
    # modifiers and paths never reach iconv_open()
    for i, cs in enumerate(("UTF-8//IGNORE", "../../etc/x", '""')):
        lines = loaded.cmd(f"c{i}", f"SEARCH CHARSET {cs} BODY x")
        assert lines[-1].startswith(f"c{i} NO [BADCHARSET ("), lines
    # the server is still there and the charset is per command
    assert loaded.cmd("d", "SEARCH BODY noir")[0] == "* SEARCH 11"


def test_casemap(loaded):
    """RFC 5051: titlecase, then NFKD; compatibility forms fold too."""
    cases = [
        ("SUBJECT", "SOFIA", []),
        ("BODY", "CAFE\u0301", [11]),            # decomposed key
        ("BODY", "\u0421\u042a\u0415\u0428\u042c", [2, 8]),
        ("BODY", "\uff34\uff21\uff37\uff21", []),   # fullwidth TAWA
        ("SUBJECT", "\u03c3\u03bf\u03c6\u03af", [10]),
        ("BODY", "\u0422\u0410\u0412\u0410", []),
        ("BODY", "\u30bf\u30ef\u30fc", [4]),
        ("BODY", "\uff2e\uff2f\uff29\uff32", [11]),  # fullwidth NOIR
    ]
    for i, (key, text, want) in enumerate(cases):
        loaded.send(search_corpus.command(f"k{i}", ("UTF-8", key, text)))
        lines = loaded.until_tagged(f"k{i}")
        assert search_corpus.parse_search(lines) == want, (text, lines)


def test_esearch_with_charset(imap, accounts):
    for _, msg in search_corpus.MESSAGES:
        deliver(accounts, "alice", msg)
    c = Raw(imap)
    c.login()
    c.cmd("e", "ENABLE IMAP4rev2")
    c.cmd("s", "SELECT INBOX")
    data = "\u043f\u0440\u0438\u0432\u0435\u0442".encode("koi8-r")
    c.send(f"u UID SEARCH RETURN (COUNT) CHARSET KOI8-R TEXT "
           f"{{{len(data)}+}}\r\n".encode() + data + b"\r\n")
    lines = c.until_tagged("u")
    assert lines[0] == '* ESEARCH (TAG "u") UID COUNT 1', lines
