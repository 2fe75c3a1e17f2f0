# SPDX-License-Identifier: MIT
"""The tricky-message corpus of the MIME differential test.

Each entry is (name, message bytes). Messages are written with LF and
turned to CRLF by crlf() where the entry wants it, so both line-end
conventions (and mixes) are covered explicitly.
"""


def crlf(s):
    if isinstance(s, str):
        s = s.encode("utf-8")
    return s.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def lf(s):
    if isinstance(s, str):
        s = s.encode("utf-8")
    return s


SIMPLE = """\
From: Alice Example <alice@example.org>
To: Bob <bob@example.com>
Subject: Hello there
Date: Mon, 7 Feb 1994 21:52:25 -0800
Message-ID: <1234@local.machine.example>

Hi Bob,
this is a test.
"""

ENVELOPE_FULL = """\
Date: Tue, 1 Jul 2003 10:52:37 +0200
From: "Joe Q. Public" <john.q.public@example.com>
Sender: Secretary <sec@example.com>
Reply-To: Replies <replies@example.com>, other@example.com
To: Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>
Cc: <boss@nil.test>, "Giant; \\"Big\\" Box" <sysservices@example.net>
Bcc: hidden@example.net
In-Reply-To: <3456@example.net>
Message-ID: <5678.21-Nov-1997@example.com>
Subject: Re: Saying Hello

body
"""

FOLDED = """\
From: Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>
To:A Group(Some people)
     :Chris Jones <c@(Chris's host.)public.example>,
         joe@example.org,
  John <jdoe@one.test> (my dear friend); (the end of the group)
Cc:(Empty list)(start)Hidden recipients  :(nobody(that I know))  ;
Date: Thu,
      13
        Feb
          1969
      23:32
               -0330 (Newfoundland Time)
Message-ID:              <testabcd.1234@silly.test>
Subject: a folded
\tsubject   with  many	spaces
 and lines

Testing.
"""

GROUPS = """\
From: undisclosed-recipients:;
To: friends: a@b.test, "C D" <c@d.test>;, solo@e.test, empty:;
Cc: "quoted group": x@y.test;
Bcc: broken group: a@b.test
Subject: groups

.
"""

ADDR_ODD = """\
From: <@route1.test,@route2.test:user@host.test>
Sender: user
Reply-To: <>
To: "a b"@example.com, user@[192.168.0.1], "quoted\\\\back\\"slash" <q@x.test>
Cc: John Q. Public <jqp@x.test>, Mr . Dot <md@x.test>, =?utf-8?q?J=C3=B6rg?= <j@x.test>
Bcc: ,, a@b.test,,, c@d.test ,
Subject: odd addresses

x
"""

ADDR_BROKEN = """\
From: @
To: <a@b.test
Cc: "unterminated <x@y.test>
Bcc: a@, @b.test, (only comment)
Reply-To: foo bar baz
Sender: Name Only <>
Subject: broken

x
"""

ADDR_COMMENTS = """\
From: john@example.com (John Doe)
To: (leading) jane@example.com (Jane (nested) Doe)
Cc: jim@example.com (Jim) (Second)
Subject: comments

x
"""

EIGHTBIT_HEADERS = """\
From: Jörg Müller <joerg@example.de>
To: "Zoë" <zoe@example.org>
Subject: Grüße aus Köln – ünïcödé
Content-Type: text/plain; charset=utf-8; name="Übersicht.txt"
Content-Description: Beschreibung mit Ümlauten
MIME-Version: 1.0

Grüße
"""

ENCODED_WORDS = """\
From: =?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?= <keld@dkuug.dk>
To: =?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>
Subject: =?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?=
 =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=
MIME-Version: 1.0
Content-Type: text/plain; charset=ISO-8859-1
Content-Transfer-Encoding: quoted-printable

Caf=E9
"""

SUBJECT_QUOTES = """\
From: a@b.test
Subject: "quoted" \\back\\slash "more" "and more"
In-Reply-To: "x\\"y" <a@b>
Message-ID: <"weird\\\\id"@x>

x
"""

SUBJECT_SPECIALS = """\
Subject:    leading and trailing spaces   \t
From: a@b.test
Date:   Fri, 21 Nov 1997 09:55:06 -0600   

x
"""

EMPTY_FIELDS = """\
From:
To:
Subject:
Date:
Message-ID:
In-Reply-To:
Reply-To:
Sender:

body
"""

BLANK_SUBJECT = """\
From: a@b.test
Subject:\x20\x20\x20
Date:\x20

x
"""

DUP_FIELDS = """\
Subject: first subject
From: first@x.test
Subject: second subject
From: second@x.test
Content-Type: text/plain; charset=first
Content-Type: text/html; charset=second
MIME-Version: 1.0

x
"""

NO_HEADERS = "\nbody without header\n"

HEADER_ONLY_NOBLANK = "From: a@b.test\nSubject: no body"

HEADER_ONLY = "From: a@b.test\nSubject: empty body\n\n"

ODD_HEADER_LINES = """\
 continuation first
From: a@b.test
this line has no colon
Subject : space before colon
X-Empty:
Subject\t: tab before colon
To: x@y.test

body
"""

MIME_TYPES = """\
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="=_outer"

preamble text
--=_outer
Content-Type: TEXT/PLAIN; CHARSET=ISO-8859-1; Format=Flowed

upper case type
--=_outer
Content-Type: text/html

no charset given
--=_outer
Content-Type: text/plain (a comment) ; charset = "us-ascii" (another)

comments in type
--=_outer
Content-Type: application/octet-stream; name=file.bin; x-empty=""
Content-Transfer-Encoding: BASE64
Content-ID: <part4@example>
Content-Description: A binary file
Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==
Content-Disposition: ATTACHMENT; FILENAME="file.bin"; size=12
Content-Language: en, de-DE
Content-Location: http://example.com/file.bin

AAECAwQFBgcICQoL
--=_outer
Content-Type: image/png
Content-Disposition: inline
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--=_outer--
epilogue text
"""

MIME_BROKEN_TYPES = """\
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=b1

--b1
Content-Type: text

type without subtype
--b1
Content-Type: ; charset=x

empty type
--b1
Content-Type:

empty field
--b1
Content-Type: garbage/

empty subtype
--b1
Content-Type: /plain

empty main type
--b1
Content-Type: text/plain; charset

param without value
--b1
Content-Type: text/plain; charset=us-ascii; charset=utf-8

duplicate param
--b1
Content-Type: text/plain; name==?utf-8?b?w6TDtsO8?=; x=y

encoded word as value
--b1
Content-Type: text/plain;; a=b ;c=d;

stray semicolons
--b1
Content-Type: application/x-foo; a="unterminated

unterminated quote
--b1--
"""

RFC2231 = """\
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=XX

--XX
Content-Type: application/x-stuff;
 title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A

extended
--XX
Content-Type: message/external-body; access-type=URL;
 URL*0="ftp://";
 URL*1="cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar"

continuations
--XX
Content-Type: application/x-stuff;
 title*0*=us-ascii'en'This%20is%20even%20more%20;
 title*1*=%2A%2A%2Afun%2A%2A%2A%20;
 title*2="isn't it!"

mixed
--XX
Content-Type: application/x-stuff; a*0=x; a*2=z

missing index
--XX
Content-Type: application/x-stuff; b*1=second; b*0=first

out of order
--XX
Content-Disposition: attachment;
 filename*=UTF-8''%E2%82%AC%20rates.txt
Content-Type: text/plain; charset*=us-ascii'en'utf-8

disposition extended
--XX
Content-Type: text/plain; NAME*0=A; name*1=B

case of continuations
--XX--
"""

NESTED = """\
MIME-Version: 1.0
From: nest@example.org
Subject: nested
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain; charset=us-ascii

plain version
--inner
Content-Type: text/html; charset=us-ascii

<p>html version</p>
--inner--

--outer
Content-Type: message/rfc822

From: inner@example.org
To: someone@example.org
Subject: encapsulated
Date: Sat, 1 Jan 2000 00:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/related; boundary="rel"

--rel
Content-Type: text/html

<img src="cid:x">
--rel
Content-Type: image/gif
Content-ID: <x>
Content-Transfer-Encoding: base64

R0lGODlhAQABAAAAACw=
--rel--

--outer
Content-Type: message/rfc822

Subject: plain inner

inner plain body
--outer--
"""

PREAMBLE_EPILOGUE = """\
Content-Type: multipart/mixed; boundary=pe

This is the preamble.
It spans lines.

--pe

part with no headers
--pe
Content-Type: text/plain

second
--pe--

This is the epilogue.
--pe
this boundary is after the end
"""

MISSING_FINAL = """\
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=mf

--mf
Content-Type: text/plain

one
--mf
Content-Type: text/plain

two, and then the message just ends
"""

BOUNDARY_FIRST_LINE = """\
Content-Type: multipart/mixed; boundary=first
Subject: boundary right after header

--first
Content-Type: text/plain

a
--first--"""

BOUNDARY_WHITESPACE = """\
Content-Type: multipart/mixed; boundary="sp"

--sp   \t
Content-Type: text/plain

trailing blanks on the boundary line
--sp--   
after
"""

BOUNDARY_PREFIX = """\
Content-Type: multipart/mixed; boundary="a"

--a
Content-Type: multipart/mixed; boundary="ab"

--ab
Content-Type: text/plain

inner one
--ab
Content-Type: text/plain

inner two
--a
Content-Type: text/plain

outer two closes inner implicitly
--abc
still text: --abc begins with --ab
--a--
"""

SAME_BOUNDARY = """\
Content-Type: multipart/mixed; boundary="same"

--same
Content-Type: multipart/mixed; boundary="same"

--same
Content-Type: text/plain

which one?
--same--
--same--
"""

EMPTY_MULTIPART = """\
Content-Type: multipart/mixed; boundary="nothing"
Subject: no parts

--nothing--
"""

NO_BOUNDARY_PARAM = """\
Content-Type: multipart/mixed
Subject: multipart without boundary

--x
Content-Type: text/plain

x
--x--
"""

NEVER_SEEN_BOUNDARY = """\
Content-Type: multipart/alternative; boundary=zz

no boundary line ever appears
in this body
"""

PART_HEADER_NO_BLANK = """\
Content-Type: multipart/mixed; boundary=hb

--hb
Content-Type: text/plain
--hb
Content-Type: text/html

x
--hb--
"""

LONG_BOUNDARY = ("""\
Content-Type: multipart/mixed; boundary="%s"

--%s
Content-Type: text/plain

long boundary
--%s--
""" % ((("0123456789" * 9),) * 3))

DIGEST = """\
MIME-Version: 1.0
Content-Type: multipart/digest; boundary="dg"

--dg

From: d1@example.org
Subject: digest one

first digest message
--dg
Content-Type: text/plain

explicit text part in a digest
--dg

Subject: digest three
Content-Type: multipart/mixed; boundary=d3
MIME-Version: 1.0

--d3
Content-Type: text/plain

deep
--d3--
--dg--
"""

RFC822_VARIANTS = """\
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=rv

--rv
Content-Type: MESSAGE/RFC822

Subject: upper case message type

x
--rv
Content-Type: message/rfc822
Content-Transfer-Encoding: base64

U3ViamVjdDogYmFzZTY0CgpoaQo=
--rv
Content-Type: message/rfc822

--rv
Content-Type: message/rfc822

Subject: contains outer boundary
Content-Type: text/plain

the next line ends both
--rv
Content-Type: message/global

Subject: global

not parsed as a message
--rv
Content-Type: message/rfc822; name=x.eml
Content-Disposition: attachment; filename=x.eml

no header at all, just text after the blank line?
--rv--
"""

TOP_RFC822 = """\
From: wrapper@example.org
Subject: top level message/rfc822
MIME-Version: 1.0
Content-Type: message/rfc822

From: wrapped@example.org
Subject: wrapped

wrapped body
"""

NO_MIME_VERSION = """\
From: a@b.test
Content-Transfer-Encoding: base64
Content-Disposition: attachment
Content-Description: ignored without MIME?

aGVsbG8K
"""

NO_MIME_VERSION_TYPE = """\
From: a@b.test
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

<b>hi</b>=21
"""

ENCODINGS = """\
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=enc

--enc
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

R3LDvMOfZSBhdXMgS8O2bG4K
--enc
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Gr=FC=DFe soft=
break, lower =e9, bad =ZZ and =4, trailing  \t
end=
--enc
Content-Type: application/octet-stream
Content-Transfer-Encoding: base64

AAEC
AwQF Bgc=
garbage!!
--enc
Content-Type: text/plain
Content-Transfer-Encoding: 8bit

raw 8bit: ümlaut
--enc
Content-Type: text/plain
Content-Transfer-Encoding: x-uuencode

begin 644 x
end
--enc
Content-Type: text/plain
Content-Transfer-Encoding: 7bit (with comment)

seven
--enc
Content-Type: text/plain
Content-Transfer-Encoding:

empty encoding
--enc
Content-Type: text/plain
Content-Transfer-Encoding: binary

binary
--enc
Content-Type: application/octet-stream
Content-Transfer-Encoding: base64

YWJj=ZGVm
--enc
Content-Type: application/octet-stream
Content-Transfer-Encoding: base64

YWJjZA
--enc--
"""

LANG_DISP = """\
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=ld

--ld
Content-Type: text/plain
Content-Language: en-US (English), fr
Content-Disposition: inline; filename="a b.txt"; creation-date="Wed, 12 Feb 1997 16:29:51 -0500"

x
--ld
Content-Type: text/plain
Content-Language: 123, ???
Content-Disposition: "quoted"; x=y

y
--ld
Content-Type: text/plain
Content-Language:
Content-Disposition: ; filename=z
Content-Location: 
 folded/location

z
--ld
Content-Type: text/plain
Content-ID:
Content-Description:
Content-MD5:
Content-Location: "quoted\\location"

empty values
--ld--
"""

MIXED_LINE_ENDS = (b"From: a@b.test\r\nSubject: mixed\n"
                   b"Content-Type: multipart/mixed; boundary=m\r\n\n"
                   b"--m\nContent-Type: text/plain\r\n\r\nline1\nline2\r\n"
                   b"--m\r\n\nbare cr\rhere\r\n--m--\n")

NUL_BYTES = (b"From: nul\0user@x.test\r\nSubject: has \0 nul\r\n"
             b"Content-Type: text/plain; name=\"a\0b\"\r\n"
             b"MIME-Version: 1.0\r\n\r\nbody \0 with nul\r\n")

EIGHTBIT_BOUNDARY = """\
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="ä=_ö"

--ä=_ö
Content-Type: text/plain; charset=utf-8

eight bit boundary
--ä=_ö--
"""

QP_VALID = """\
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=qp

--qp
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

line one=20
soft=
 break and =E9t=E9
trailing blanks are transport padding  \t
last line
--qp
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: Quoted-Printable

=E2=82=AC and lower case =e2=82=ac
--qp
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

ends in a soft line break=
--qp
Content-Type: application/octet-stream
Content-Transfer-Encoding: base64

AAEC
AwQF
BgcI
--qp
Content-Type: text/plain
Content-Transfer-Encoding: base64

bGluZTEKbGluZTINCg==
--qp--
"""

EMPTY_BOUNDARY = """\
Content-Type: multipart/mixed; boundary=""

--
Content-Type: text/plain

empty boundary
----
"""

CASE_BOUNDARY = """\
Content-Type: multipart/mixed; boundary="CaSe"

--case
not a boundary: they are case-sensitive
--CaSe
Content-Type: text/plain

x
--CaSe--
"""

FOLDED_IDS = """\
From: "Folded
 Name" <user@[192.168.0.1 ]>, <@a.test (comment) , @b.test:x@y.test>
Message-ID:
 <folded.id@example.org>
In-Reply-To: <a@example.org>
 <b@example.org>
Subject: 8bit id below
References: <a@example.org>
Content-ID: <ünïcode@example.org>
MIME-Version: 1.0

x
"""

RFC2231_CASE = """\
MIME-Version: 1.0
Content-Type: application/x-stuff; name*0=lower; NAME*1=UPPER;
 file*1*=%41; file*0*=utf-8''%42

x
"""

DIGEST_NESTED = """\
MIME-Version: 1.0
Content-Type: multipart/digest; boundary=dn

--dn
Content-Type: multipart/alternative; boundary=alt

--alt

default inside alternative is text/plain
--alt--
--dn

Subject: default rfc822

body
--dn--
"""

BASE64_WHITESPACE = """\
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii
Content-Transfer-Encoding: base64

  aGVs
	bG8g
  d29y bGQ=  

"""

LONE_CR = (b"From: a@b.test\rX-Bad: y\r\nSubject: lone\rcr\r\n"
           b"Content-Type: text/plain\r\n\r\nbody\rmore\r\n")

LONG_HEADER = ("From: a@b.test\nSubject: " + "long " * 3000 + "\n"
               "X-Long: " + "y" * 20000 + "\n\nbody\n")


def deep_multipart(n):
    s = ""
    for i in range(n):
        # fixed width: no boundary is a prefix of another
        s += "Content-Type: multipart/mixed; boundary=\"d%03d\"\n\n" \
             "--d%03d\n" % (i, i)
    s += "Content-Type: text/plain\n\ndeepest\n"
    for i in reversed(range(n)):
        s += "--d%03d--\n" % i
    return s


def deep_rfc822(n):
    s = ""
    for i in range(n):
        s += "Subject: level %d\nContent-Type: message/rfc822\n\n" % i
    s += "Subject: last\n\nbottom\n"
    return s


def wide_multipart(n):
    s = "Content-Type: multipart/mixed; boundary=w\n\n"
    for i in range(n):
        s += "--w\nContent-Type: text/plain\n\n%d\n" % i
    return s + "--w--\n"


CORPUS = [
    ("simple_lf", lf(SIMPLE)),
    ("simple_crlf", crlf(SIMPLE)),
    ("envelope_full", crlf(ENVELOPE_FULL)),
    ("folded", crlf(FOLDED)),
    ("folded_lf", lf(FOLDED)),
    ("groups", crlf(GROUPS)),
    ("addr_odd", crlf(ADDR_ODD)),
    ("addr_broken", crlf(ADDR_BROKEN)),
    ("addr_comments", crlf(ADDR_COMMENTS)),
    ("eightbit_headers", crlf(EIGHTBIT_HEADERS)),
    ("encoded_words", crlf(ENCODED_WORDS)),
    ("subject_quotes", crlf(SUBJECT_QUOTES)),
    ("subject_specials", crlf(SUBJECT_SPECIALS)),
    ("empty_fields", crlf(EMPTY_FIELDS)),
    ("blank_subject", crlf(BLANK_SUBJECT)),
    ("dup_fields", crlf(DUP_FIELDS)),
    ("no_headers", crlf(NO_HEADERS)),
    ("header_only_noblank", crlf(HEADER_ONLY_NOBLANK)),
    ("header_only", crlf(HEADER_ONLY)),
    ("odd_header_lines", crlf(ODD_HEADER_LINES)),
    ("mime_types", crlf(MIME_TYPES)),
    ("mime_types_lf", lf(MIME_TYPES)),
    ("mime_broken_types", crlf(MIME_BROKEN_TYPES)),
    ("rfc2231", crlf(RFC2231)),
    ("nested", crlf(NESTED)),
    ("nested_lf", lf(NESTED)),
    ("preamble_epilogue", crlf(PREAMBLE_EPILOGUE)),
    ("missing_final", crlf(MISSING_FINAL)),
    ("missing_final_lf", lf(MISSING_FINAL)),
    ("boundary_first_line", crlf(BOUNDARY_FIRST_LINE)),
    ("boundary_whitespace", crlf(BOUNDARY_WHITESPACE)),
    ("boundary_prefix", crlf(BOUNDARY_PREFIX)),
    ("same_boundary", crlf(SAME_BOUNDARY)),
    ("empty_multipart", crlf(EMPTY_MULTIPART)),
    ("no_boundary_param", crlf(NO_BOUNDARY_PARAM)),
    ("never_seen_boundary", crlf(NEVER_SEEN_BOUNDARY)),
    ("part_header_no_blank", crlf(PART_HEADER_NO_BLANK)),
    ("long_boundary", crlf(LONG_BOUNDARY)),
    ("digest", crlf(DIGEST)),
    ("rfc822_variants", crlf(RFC822_VARIANTS)),
    ("top_rfc822", crlf(TOP_RFC822)),
    ("no_mime_version", crlf(NO_MIME_VERSION)),
    ("no_mime_version_type", crlf(NO_MIME_VERSION_TYPE)),
    ("encodings", crlf(ENCODINGS)),
    ("encodings_lf", lf(ENCODINGS)),
    ("lang_disp", crlf(LANG_DISP)),
    ("mixed_line_ends", MIXED_LINE_ENDS),
    ("nul_bytes", NUL_BYTES),
    ("eightbit_boundary", crlf(EIGHTBIT_BOUNDARY)),
    ("long_header", crlf(LONG_HEADER)),
    ("folded_ids", crlf(FOLDED_IDS)),
    ("rfc2231_case", crlf(RFC2231_CASE)),
    ("digest_nested", crlf(DIGEST_NESTED)),
    ("base64_whitespace", crlf(BASE64_WHITESPACE)),
    ("lone_cr", LONE_CR),
    ("only_crlf", b"\r\n"),
    ("qp_valid", crlf(QP_VALID)),
    ("qp_valid_lf", lf(QP_VALID)),
    ("empty_boundary", crlf(EMPTY_BOUNDARY)),
    ("case_boundary", crlf(CASE_BOUNDARY)),
    ("deep_multipart_20", crlf(deep_multipart(20))),
    ("deep_rfc822_20", crlf(deep_rfc822(20))),
    ("deep_multipart_120", lf(deep_multipart(120))),
    ("deep_rfc822_120", lf(deep_rfc822(120))),
    ("wide_multipart_300", crlf(wide_multipart(300))),
]
