# SPDX-License-Identifier: MIT
"""Messages in legacy charsets and the SEARCHes run over them, shared
by test_imap_search_charset.py (Commune) and record_search_golden.py
(Debian's Dovecot, the oracle). Each search is (charset, key, text):
text is sent as a literal in that charset."""
import base64
import quopri


def _b64(text, cs):
    return base64.b64encode(text.encode(cs))


def _word(text, cs, enc="B"):
    if enc == "B":
        return b"=?" + cs.encode() + b"?B?" + _b64(text, cs) + b"?="
    q = quopri.encodestring(text.encode(cs), header=True)
    return b"=?" + cs.encode() + b"?Q?" + q + b"?="


def _msg(subject, ctype, cte, body, extra=b""):
    return (b"From: Sender <sender@example.net>\r\n"
            b"To: alice@localhost\r\n"
            b"Subject: " + subject + b"\r\n" + extra +
            b"MIME-Version: 1.0\r\n"
            b"Content-Type: " + ctype + b"\r\n"
            b"Content-Transfer-Encoding: " + cte + b"\r\n\r\n" +
            body + b"\r\n")


def _qp(text, cs):
    return quopri.encodestring(text.encode(cs)).replace(b"\n", b"\r\n")


HTML = ("<html><body><p>Gr&uuml;&szlig;e, <b>K\u00f6ln</b> "
        "\u00c4RGER</p></body></html>")

MESSAGES = [
    ("latin1_qp", _msg(_word("Caf\u00e9 cr\u00e8me", "ISO-8859-1", "Q"),
                       b"text/plain; charset=iso-8859-1",
                       b"quoted-printable",
                       _qp("Cr\u00e8me br\u00fbl\u00e9e \u00e0 la "
                           "fran\u00e7aise", "iso-8859-1"))),
    ("koi8_b64", _msg(_word("\u041f\u0440\u0438\u0432\u0435\u0442 "
                            "\u043c\u0438\u0440", "KOI8-R"),
                      b"text/plain; charset=koi8-r", b"base64",
                      _b64("\u041f\u0440\u0438\u0432\u0435\u0442, "
                           "\u043c\u0438\u0440! \u0421\u044a\u0435"
                           "\u0448\u044c \u0435\u0449\u0451.",
                           "koi8-r"))),
    ("iso2022jp", _msg(_word("\u65e5\u672c\u8a9e\u306e\u4ef6\u540d",
                             "ISO-2022-JP"),
                       b"text/plain; charset=ISO-2022-JP", b"7bit",
                       "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8"
                       "\u3067\u3059\u3002".encode("iso-2022-jp"))),
    ("sjis_b64", _msg(b"Tokyo", b"text/plain; charset=Shift_JIS",
                      b"base64",
                      _b64("\u6771\u4eac\u30bf\u30ef\u30fc\u3078\u3088"
                           "\u3046\u3053\u305d", "shift_jis"))),
    ("big5_qp", _msg(b"Big5", b"text/plain; charset=big5",
                     b"quoted-printable",
                     _qp("\u4e2d\u6587\u6e2c\u8a66\u90f5\u4ef6",
                         "big5"))),
    ("gb2312_b64", _msg(b"GB", b"text/plain; charset=gb2312", b"base64",
                        _b64("\u7b80\u4f53\u4e2d\u6587\u6d4b\u8bd5",
                             "gb2312"))),
    ("eucjp_8bit", _msg(b"EUC", b"text/plain; charset=euc-jp", b"8bit",
                        "\u65e5\u672c\u8a9e\u306e\u30e1\u30fc\u30eb"
                        .encode("euc-jp"))),
    ("cp1251_8bit", _msg(b"Cyrillic", b"text/plain; charset=windows-1251",
                         b"8bit",
                         "\u0421\u044a\u0435\u0448\u044c \u0436\u0435 "
                         "\u0435\u0449\u0451 \u044d\u0442\u0438\u0445 "
                         "\u043c\u044f\u0433\u043a\u0438\u0445 "
                         "\u0444\u0440\u0430\u043d\u0446\u0443\u0437"
                         "\u0441\u043a\u0438\u0445 \u0431\u0443\u043b"
                         "\u043e\u043a".encode("cp1251"))),
    ("html_alt", _msg(b"Alternative",
                      b"multipart/alternative; boundary=B", b"7bit",
                      b"--B\r\nContent-Type: text/plain; charset=utf-8\r\n"
                      b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                      + _qp("Plain part \u00c4RGER", "utf-8") +
                      b"\r\n--B\r\nContent-Type: text/html; charset=utf-8"
                      b"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
                      _b64(HTML, "utf-8") + b"\r\n--B--")),
    ("greek", _msg(_word("\u03a3\u039f\u03a6\u038a\u0391 test", "UTF-8"),
                   b"text/plain; charset=iso-8859-7", b"8bit",
                   "\u03a3\u03bf\u03c6\u03af\u03b1 \u03ba\u03b1\u03b9 "
                   "\u03b3\u03bd\u03ce\u03c3\u03b7".encode("iso-8859-7"))),
    ("decomposed", _msg(b"NFD", b"text/plain; charset=utf-8", b"8bit",
                        "Un cafe\u0301 noir".encode("utf-8"))),
    ("split_words", _msg(b"=?UTF-8?Q?Gr=C3=BC?=\r\n =?UTF-8?Q?=C3=9Fe?= "
                         b"von hier", b"text/plain; charset=us-ascii",
                         b"7bit", b"Hello World")),
    ("attachment", _msg(b"Attach", b"multipart/mixed; boundary=M", b"7bit",
                        b"--M\r\nContent-Type: text/plain\r\n\r\nSee file."
                        b"\r\n--M\r\nContent-Type: application/octet-stream"
                        b"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
                        base64.b64encode(b"the secretword inside") +
                        b"\r\n--M--")),
]

# Harder cases: broken encodings, words split by encodings and folds,
# embedded messages, unknown charsets.
MESSAGES += [
    ("qp_soft_break", _msg(b"Soft", b"text/plain; charset=utf-8",
                           b"quoted-printable",
                           b"Une tarte fran=\r\n=C3=A7aise, tr=C3=A8s=\r\n"
                           b" bonne.")),
    ("b64_split_char", _msg(b"Split", b"text/plain; charset=utf-8",
                            b"base64",
                            base64.encodebytes(
                                ("\u0416\u0443\u0440\u043d\u0430\u043b "
                                 * 12).encode()).replace(b"\n", b"\r\n"))),
    ("folded_subject", _msg(b"Mixed =?UTF-8?B?w5xiZXI=?=\r\n\tfolded "
                            b"=?ISO-8859-1?Q?M=FCnchen?= end",
                            b"text/plain", b"7bit", b"x")),
    ("bad_word", _msg(b"=?X-UNKNOWN?Q?Caf=E9?= and =?UTF-8?B?!!!?= tail",
                      b"text/plain; charset=x-unknown-cs", b"8bit",
                      "r\u00e9sum\u00e9 inconnu".encode("utf-8"))),
    ("rfc822_inner", _msg(b"Fwd", b"multipart/mixed; boundary=O", b"7bit",
                          b"--O\r\nContent-Type: text/plain\r\n\r\n"
                          b"See below.\r\n--O\r\n"
                          b"Content-Type: message/rfc822\r\n\r\n"
                          b"Subject: =?UTF-8?Q?Inner_=C3=A9t=C3=A9?=\r\n"
                          b"Content-Type: text/plain; charset=iso-8859-1\r\n"
                          b"Content-Transfer-Encoding: quoted-printable\r\n"
                          b"\r\nL'=E9t=E9 int=E9rieur.\r\n--O--")),
    ("sharp_s", _msg(b"Strasse", b"text/plain; charset=utf-8", b"8bit",
                     "Die Stra\u00dfe und die STRASSE".encode("utf-8"))),
    ("line_span", _msg(b"Span", b"text/plain", b"7bit",
                       b"first half\r\nsecond half")),
]

SEARCHES = [
    ("UTF-8", "SUBJECT", "caf\u00e9"),
    ("UTF-8", "SUBJECT", "CAF\u00c9 CR\u00c8ME"),
    ("ISO-8859-1", "BODY", "BR\u00dbL\u00c9E"),
    ("UTF-8", "BODY", "fran\u00e7aise"),
    ("KOI8-R", "TEXT", "\u041f\u0420\u0418\u0412\u0415\u0422"),
    ("UTF-8", "SUBJECT", "\u043f\u0440\u0438\u0432\u0435\u0442 \u043c"
     "\u0438\u0440"),
    ("UTF-8", "BODY", "\u0441\u044a\u0435\u0448\u044c"),
    ("ISO-2022-JP", "BODY", "\u30c6\u30ad\u30b9\u30c8"),
    ("UTF-8", "SUBJECT", "\u4ef6\u540d"),
    ("SHIFT_JIS", "BODY", "\u6771\u4eac"),
    ("UTF-8", "BODY", "\u30bf\u30ef\u30fc"),
    ("BIG5", "BODY", "\u6e2c\u8a66"),
    ("GB2312", "BODY", "\u4e2d\u6587"),
    ("EUC-JP", "BODY", "\u30e1\u30fc\u30eb"),
    ("WINDOWS-1251", "BODY", "\u0431\u0443\u043b\u043e\u043a"),
    ("UTF-8", "BODY", "\u041c\u042f\u0413\u041a\u0418\u0425"),
    ("UTF-8", "BODY", "\u00e4rger"),
    ("UTF-8", "BODY", "k\u00f6ln"),
    ("ISO-8859-7", "TEXT", "\u03c3\u03bf\u03c6\u03af\u03b1"),
    ("UTF-8", "SUBJECT", "\u03c3\u03bf\u03c6\u03af\u03b1"),
    ("UTF-8", "BODY", "caf\u00e9"),
    ("UTF-8", "SUBJECT", "gr\u00fc\u00dfe von"),
    ("US-ASCII", "BODY", "WORLD"),
    ("UTF-8", "BODY", "secretword"),
    ("UTF-8", "TEXT", "sender@EXAMPLE.net"),
    ("UTF-8", "FROM", "SENDER"),
    ("UTF-8", "BODY", "fran\u00e7aise, tr\u00e8s"),
    ("UTF-8", "BODY", "\u0436\u0443\u0440\u043d\u0430\u043b \u0436"),
    ("UTF-8", "SUBJECT", "\u00fcber"),
    ("UTF-8", "SUBJECT", "M\u00fcnchen end"),
    ("UTF-8", "SUBJECT", "folded m\u00fcnchen"),
    ("UTF-8", "SUBJECT", "tail"),
    ("UTF-8", "BODY", "r\u00e9sum\u00e9"),
    ("UTF-8", "BODY", "int\u00e9rieur"),
    ("UTF-8", "TEXT", "inner \u00e9t\u00e9"),
    ("UTF-8", "BODY", "inner \u00e9t\u00e9"),
    ("UTF-8", "BODY", "subject: inner"),
    ("UTF-8", "TEXT", "subject: inner"),
    ("UTF-8", "BODY", "see below"),
    ("UTF-8", "BODY", "strasse"),
    ("UTF-8", "BODY", "STRA\u00dfE"),
    ("UTF-8", "BODY", "half second"),
    ("UTF-8", "BODY", "half\r\nsecond"),
    ("UTF-8", "HEADER", ("Content-Transfer-Encoding", "BASE64")),
    ("UTF-8", "HEADER", ("X-Missing", "")),
    ("UTF-8", "HEADER", ("Subject", "")),
]


def label(search):
    cs, key, text = search
    if isinstance(text, tuple):
        return f"{cs} {key} {text[0]} {text[1]!r}"
    return f"{cs} {key} {text!r}" if "\r" in text else f"{cs} {key} {text}"


def command(tag, search):
    """The SEARCH command as bytes, the text as a LITERAL+ literal
    (HEADER: the field name as an atom first)."""
    cs, key, text = search
    if isinstance(text, tuple):
        key, text = f"{key} {text[0]}", text[1]
    data = text.encode(cs.replace("WINDOWS-", "cp"))
    return (f"{tag} SEARCH CHARSET {cs} {key} {{{len(data)}+}}\r\n"
            .encode() + data + b"\r\n")


def parse_search(lines):
    """Sequence numbers of the "* SEARCH" line among lines (str)."""
    for line in lines:
        if line.startswith("* SEARCH"):
            return [int(x) for x in line.split()[2:]]
    raise AssertionError(f"no SEARCH response: {lines}")
