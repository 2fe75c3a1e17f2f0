# SPDX-License-Identifier: MIT
"""RFC 5322 date parsing (src/mime/mime-date.c) against Python's
email.utils, a second, independent reader of the same RFC.

`mime-dump --date` reads dates on stdin and prints "TIME OFFSET" or
"ERROR". Python and Commune must agree on every date in AGREE; the
cases where they may not are listed with the reason.
"""
import email.utils
import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("COMMUNE_BUILD", os.path.join(ROOT, "build"))
MIME_DUMP = os.path.join(BUILD, "tests", "mime", "mime-dump")

AGREE = [
    "Fri, 21 Nov 1997 09:55:06 -0600",
    "Tue, 1 Jul 2003 10:52:37 +0200",
    "Thu, 13 Feb 1969 23:32:54 -0330",
    "Mon, 7 Feb 1994 21:52:25 -0800 (PST)",
    "21 Nov 1997 09:55:06 GMT",
    "21 Nov 1997 09:55 +0000",
    "Sat, 29 Feb 2020 23:59:59 +1400",
    "Sun, 31 Dec 2000 00:00:00 -1200",
    "1 Jan 2038 03:14:08 +0000",
    "Wed, 12 Feb 1997 16:29:51 -0500",
    "12 Feb 1997 16:29:51 EST",
    "12 Feb 1997 16:29:51 edt",
    "12 Feb 1997 16:29:51 CST",
    "12 Feb 1997 16:29:51 MDT",
    "12 Feb 1997 16:29:51 PDT",
    "12 Feb 1997 16:29:51 UT",
    "12 Feb 1997 16:29:51 UTC",
    "Thu, 1 Jan 1970 00:00:00 +0000",
    "1 Jan 99 12:00:00 +0100",
    "1 Jan 03 12:00:00 +0100",
    "1 Jan 1999 23:59:59 -0000",
    "Mon,  1  Jan  2001  10:00:00  +0530",
]

# Where Python differs, and why Commune is right (RFC 5322):
DIFFER = {
    # §4.3: two-digit years 50..99 are 1950..1999; Python uses 69.
    "1 Jan 60 00:00:00 +0000": "-315619200 0",
    # §4.3: three-digit years add 1900; Python leaves them.
    "1 Jan 103 00:00:00 +0000": "1041379200 0",
    # §3.3: no such day; Python does not check.
    "31 Feb 2000 00:00:00 +0000": "ERROR",
    # §4.3: unknown zones count as -0000 (Python: local time).
    "1 Jan 2000 00:00:00 XYZ": "946684800 0",
    # §4.3: CFWS is allowed anywhere, comments included.
    "Sat, (c) 1 Jan 2000 00:00:00 +0000": "946684800 0",
    "not a date": "ERROR",
}


def dump(dates):
    out = subprocess.run([MIME_DUMP, "--date"], capture_output=True,
                         input="\n".join(dates) + "\n", text=True,
                         timeout=60, check=True).stdout
    return out.splitlines()


def python_answer(date):
    t = email.utils.parsedate_tz(date)
    if t is None:
        return "ERROR"
    return "%d %d" % (email.utils.mktime_tz(t), (t[9] or 0) // 60)


def test_dates_agree_with_python():
    got = dump(AGREE)
    bad = [(d, g, python_answer(d)) for d, g in zip(AGREE, got)
           if g != python_answer(d)]
    assert not bad, bad


def test_dates_where_python_differs():
    got = dump(list(DIFFER))
    bad = [(d, g, want) for (d, want), g in zip(DIFFER.items(), got)
           if g != want]
    assert not bad, bad
