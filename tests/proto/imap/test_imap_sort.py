# SPDX-License-Identifier: MIT
"""SORT, ESORT, SORT=DISPLAY and THREAD (RFC 5256, 5267, 5957) through
the real `commune serve`, compared with a private Debian Dovecot on
loopback: the same tricky messages (Re:/Fwd:/[tags], encoded subjects,
missing and invalid dates, References/In-Reply-To chains, loops,
missing parents, duplicate Message-IDs) go into both with the same
internal dates, and every sort key, REVERSE, ESORT RETURN option and
both threading algorithms must give the same answer. Plus the errors:
bad criteria BAD, unknown charsets NO [BADCHARSET], the server stays up.
"""
import re

import pytest

from dovecot_oracle import Dovecot
from imap_helpers import Raw, client

# (internal date, message). Dates repeat on purpose (ties fall back to
# the sequence number); sizes repeat too (messages 9 and 10).
CORPUS = [
    ("01-Mar-2021 10:00:00 +0000",
     b"From: Bob <bob@example.org>\r\nTo: carol@example.org\r\n"
     b"Cc: dave@example.org\r\nSubject: Re: hello\r\n"
     b"Date: Mon, 1 Mar 2021 09:00:00 +0000\r\n"
     b"Message-ID: <1@example>\r\nReferences: <2@example>\r\n\r\nbody 1\r\n"),
    ("01-Mar-2021 09:00:00 +0000",
     b"From: alice@example.org\r\nTo: Zed <zed@example.org>\r\n"
     b"Subject: hello\r\nDate: Sun, 28 Feb 2021 09:00:00 +0000\r\n"
     b"Message-ID: <2@example>\r\n\r\nbody two\r\n"),
    ("02-Mar-2021 09:00:00 +0000",
     b"From: =?utf-8?q?Zo=C3=AB?= <zoe@example.org>\r\n"
     b"To: \"Smith, John\" <john@example.org>\r\n"
     b"Subject: [list] Fwd: hello (fwd)\r\n"
     b"Message-ID: <3@example>\r\nReferences: <2@example>\r\n\r\nb3\r\n"),
    ("28-Feb-2021 08:00:00 +0000",
     b"From: Yann <yann@example.org>\r\nTo: bob@example.org\r\n"
     b"Subject: =?UTF-8?B?UmU6IFtGd2Q6IGhlbGxvXQ==?=\r\n"
     b"Date: not a date at all\r\n"
     b"Message-ID: <4@example>\r\nReferences: <2@example> <3@example>\r\n"
     b"In-Reply-To: <3@example>\r\n\r\nbody number four\r\n"),
    ("03-Mar-2021 09:00:00 +0000",
     b"To: undisclosed-recipients:;\r\nSubject: \r\n"
     b"Date: Wed, 3 Mar 2021 09:00:00 +0000\r\n"
     b"Message-ID: <5@example>\r\n\r\nempty subject\r\n"),
    ("03-Mar-2021 09:00:00 +0000",
     b"From: nobody@example.org\r\n"
     b"Date: Wed, 3 Mar 2021 08:00:00 -0100\r\n"
     b"Message-ID: <6@example>\r\n\r\nno subject at all\r\n"),
    ("04-Mar-2021 09:00:00 +0000",
     b"From: Carol <carol@example.org>\r\nTo: alice@example.org\r\n"
     b"Subject: Re: Re: world\r\n"
     b"Date: Thu, 4 Mar 2021 09:00:00 +0000\r\n"
     b"Message-ID: <1@example>\r\n"
     b"References: <missing@example> <1@example>\r\n\r\ndup id\r\n"),
    ("05-Mar-2021 09:00:00 +0000",
     b"From: eve@example.org\r\nSubject: loop a\r\n"
     b"Date: Fri, 5 Mar 2021 09:00:00 +0000\r\n"
     b"Message-ID: <8@example>\r\nReferences: <9@example>\r\n\r\nla\r\n"),
    ("05-Mar-2021 09:00:00 +0000",
     b"From: eve@example.org\r\nSubject: loop b\r\n"
     b"Date: Fri, 5 Mar 2021 09:00:01 +0000\r\n"
     b"Message-ID: <9@example>\r\nReferences: <8@example>\r\n\r\nlb\r\n"),
    ("06-Mar-2021 09:00:00 +0000",
     b"From: frank@example.org\r\nSubject: Re: loop a\r\n"
     b"Date: Sat, 6 Mar 2021 09:00:00 +0000\r\n"
     b"Message-ID: <10@example>\r\nIn-Reply-To: <8@example>\r\n\r\nir\r\n"),
    ("07-Mar-2021 09:00:00 +0000",
     b"From: \"Smith, John\" <JOHN@example.org>\r\nTo: carol@example.org\r\n"
     b"Subject: [PATCH 1/2] world\r\n"
     b"Date: Sun, 7 Mar 2021 09:00:00 +1400\r\n"
     b"Message-ID: <11@example>\r\n\r\npatch\r\n"),
    ("07-Mar-2021 09:00:00 +0000",
     b"From: Ann <ann@example.org>\r\nTo: carol@example.org\r\n"
     b"Subject: WORLD\r\nDate: Sat, 6 Mar 2021 19:00:00 +0000\r\n"
     b"Message-ID: <12@example>\r\n\r\nupper\r\n"),
    ("08-Mar-2021 09:00:00 +0000",
     b"From: Gus <gus@example.org>\r\nSubject: Re: world\r\n"
     b"Date: Mon, 8 Mar 2021 09:00:00 +0000\r\n"
     b"References: <1@example>\r\n\r\nno message-id\r\n"),
    ("09-Mar-2021 09:00:00 +0000",
     b"From: Hal <hal@example.org>\r\nSubject: Fw: [fwd: world]\r\n"
     b"Date: 1 Jan 99 12:00:00 GMT\r\n"
     b"Message-ID: <14@example>\r\n\r\nold\r\n"),
    ("10-Mar-2021 09:00:00 +0000",
     b"From: Ivy <ivy@example.org>\r\nSubject: orphan one\r\n"
     b"Date: Wed, 10 Mar 2021 09:00:00 +0000\r\n"
     b"Message-ID: <15@example>\r\n"
     b"References: <gone1@example> <gone2@example>\r\n\r\norphan\r\n"),
    ("10-Mar-2021 09:00:00 +0000",
     b"From: Jo <jo@example.org>\r\nSubject: Re: orphan one\r\n"
     b"Date: Wed, 10 Mar 2021 10:00:00 +0000\r\n"
     b"Message-ID: <16@example>\r\n"
     b"References: <gone1@example> <gone2@example>\r\n\r\norphan\r\n"),
    ("11-Mar-2021 09:00:00 +0000",
     b"From: Kim <kim@example.org>\r\nSubject: (fwd)\r\n"
     b"Date: Thu, 11 Mar 2021 09:00:00 +0000\r\n"
     b"Message-ID: <17@example>\r\nReferences: <15@example>\r\n"
     b"In-Reply-To: <gone2@example>\r\n\r\nfwd only\r\n"),
    ("12-Mar-2021 09:00:00 +0000",
     b"From: Lee <lee@example.org>\r\n"
     b"Subject: =?ISO-8859-1?Q?[Fwd:_=E9t=E9]?=\r\n"
     b"Date: Fri, 12 Mar 2021 09:00:00 +0000\r\n"
     b"Message-ID: <18@example>\r\nReferences: <17@example> <18@example>\r\n"
     b"\r\nself reference\r\n"),
    ("12-Mar-2021 09:00:00 +0000",
     b"From: Mo <mo@example.org>\r\nSubject: hello\r\n"
     b"Date: Fri, 12 Mar 2021 09:00:00 +0000\r\n"
     b"Message-ID: <19@example>\r\nReferences: <gone3@example>\r\n\r\n"
     b"same subject, other thread\r\n"),
    ("13-Mar-2021 09:00:00 +0000",
     b"From: Ned <ned@example.org>\r\nSubject: Re: hello\r\n"
     b"Date: Sat, 13 Mar 2021 09:00:00 +0000\r\n"
     b"Message-ID: <20@example>\r\n"
     b"References: <gone3@example> <1@example>\r\n\r\n"
     b"deep reference\r\n"),
]

SORT_KEYS = ["ARRIVAL", "CC", "DATE", "FROM", "SIZE", "SUBJECT", "TO",
             "DISPLAYFROM", "DISPLAYTO"]


def fill(m):
    for date, msg in CORPUS:
        typ, data = m.append("INBOX", None, f'"{date}"', msg)
        assert typ == "OK", data
    typ, data = m.select("INBOX")
    assert typ == "OK" and int(data[0]) == len(CORPUS), data


@pytest.fixture(scope="module")
def dovecot():
    d = Dovecot().start()
    m = d.client()
    fill(m)
    m.logout()
    yield d
    d.stop()


@pytest.fixture
def pair(imap, dovecot):
    """(commune client, dovecot client), both with CORPUS selected."""
    mc = client(imap)
    fill(mc)
    md = dovecot.client()
    md.select("INBOX")
    yield mc, md
    mc.logout()
    md.logout()


def untagged(m, cmd, *args):
    """The untagged data of cmd (a SORT, THREAD or ESEARCH line)."""
    m.untagged_responses.clear()
    words = cmd.split()
    typ, data = m._simple_command(words[0], *words[1:], *args)
    assert typ == "OK", (cmd, args, data)
    name = "ESEARCH" if "RETURN" in " ".join(args) else cmd.split()[-1]
    return m.untagged_responses.get(name, [None])[-1]


def both(pair, cmd, *args):
    mc, md = pair
    return untagged(mc, cmd, *args), untagged(md, cmd, *args)


def test_sort_every_key_like_dovecot(pair):
    for key in SORT_KEYS:
        for crit in (f"({key})", f"(REVERSE {key})"):
            ours, theirs = both(pair, "SORT", crit, "UTF-8", "ALL")
            assert ours == theirs, (crit, ours, theirs)
            ours, theirs = both(pair, "UID SORT", crit, "UTF-8", "ALL")
            assert ours == theirs, ("UID", crit, ours, theirs)


def test_sort_combined_keys_like_dovecot(pair):
    for crit in ("(SUBJECT DATE)", "(SUBJECT REVERSE DATE)",
                 "(REVERSE SUBJECT ARRIVAL)", "(FROM REVERSE SIZE)",
                 "(TO CC ARRIVAL)", "(REVERSE ARRIVAL REVERSE SIZE)",
                 "(DISPLAYFROM SUBJECT)", "(DATE REVERSE DISPLAYTO)"):
        ours, theirs = both(pair, "SORT", crit, "UTF-8", "ALL")
        assert ours == theirs, (crit, ours, theirs)


def test_sort_with_search_criteria_like_dovecot(pair):
    for search in (("SUBJECT", "hello"), ("NOT", "FROM", "eve"),
                   ("UID", "3:12"), ("2:*",), ("OR", "TO", "carol",
                                              "LARGER", "150"),
                   ("SUBJECT", "nothing-matches")):
        for crit in ("(SUBJECT)", "(REVERSE DATE)"):
            ours, theirs = both(pair, "SORT", crit, "US-ASCII", *search)
            assert ours == theirs, (crit, search, ours, theirs)


def esearch_items(data):
    """ESEARCH response data without its tag, as {name: value}."""
    words = re.sub(rb'^\(TAG "[^"]*"\) ?', b"", data).split()
    if words[:1] == [b"UID"]:
        words = words[1:]
    assert len(words) % 2 == 0, data
    return dict(zip(words[0::2], words[1::2]))


def test_esort_like_dovecot(pair):
    for ret in ("()", "(MIN)", "(MAX)", "(COUNT)", "(ALL)",
                "(MIN MAX COUNT ALL)"):
        for crit in ("(SUBJECT)", "(REVERSE ARRIVAL)", "(SIZE)"):
            for search in (("ALL",), ("SUBJECT", "nothing-matches")):
                mc, md = pair
                ours = untagged(mc, "SORT", "RETURN", ret, crit, "UTF-8",
                                *search)
                theirs = untagged(md, "SORT", "RETURN", ret, crit,
                                  "UTF-8", *search)
                # the tags differ, and the order of the items is free
                # (RFC 4731 §3.1): compare the items
                assert esearch_items(ours) == esearch_items(theirs), (
                    ret, crit, search, ours, theirs)


def test_thread_like_dovecot(pair):
    for algo in ("ORDEREDSUBJECT", "REFERENCES"):
        for search in (("ALL",), ("NOT", "SUBJECT", "loop"),
                       ("UID", "2:17"), ("SUBJECT", "nothing-matches")):
            ours, theirs = both(pair, "THREAD", algo, "UTF-8", *search)
            assert ours == theirs, (algo, search, ours, theirs)
            ours, theirs = both(pair, "UID THREAD", algo, "UTF-8", *search)
            assert ours == theirs, ("UID", algo, search, ours, theirs)


def test_sort_subject_and_date_rules(imap):
    """RFC 5256 by itself: base subjects compare without Re:/Fwd:/tags
    and case; a missing or broken Date falls back to the internal date;
    ties keep sequence order, also under REVERSE."""
    m = client(imap)
    msgs = [("05-Jan-2020 00:00:00 +0000", "Re: [x] Beta", None),
            ("01-Jan-2020 00:00:00 +0000", "alpha", "garbage"),
            ("03-Jan-2020 00:00:00 +0000", "=?utf-8?q?Fwd=3A_ALPHA?=",
             "Thu, 2 Jan 2020 00:00:00 +0000"),
            ("04-Jan-2020 00:00:00 +0000", "beta (fwd)", None)]
    for date, subj, sent in msgs:
        hdr = f"From: a@b\r\nSubject: {subj}\r\n"
        if sent:
            hdr += f"Date: {sent}\r\n"
        assert m.append("INBOX", None, f'"{date}"',
                        (hdr + "\r\nx\r\n").encode())[0] == "OK"
    m.select("INBOX")
    assert m.sort("(SUBJECT)", "UTF-8", "ALL")[1] == [b"2 3 1 4"]
    assert m.sort("(REVERSE SUBJECT)", "UTF-8", "ALL")[1] == [b"1 4 2 3"]
    assert m.sort("(DATE)", "UTF-8", "ALL")[1] == [b"2 3 4 1"]
    assert m.sort("(SUBJECT REVERSE DATE)", "UTF-8", "ALL")[1] == \
        [b"3 2 1 4"]
    assert m.thread("ORDEREDSUBJECT", "UTF-8", "ALL")[1] == \
        [b"(2 3)(4 1)"]
    m.logout()


def test_sort_errors(imap):
    c = Raw(imap)
    c.login()
    assert c.cmd("a", "SORT (SUBJECT) UTF-8 ALL")[-1].startswith("a BAD")
    c.cmd("s", "SELECT INBOX")
    bad = ["SORT", "SORT () UTF-8 ALL", "SORT (SUBJECT)",
           "SORT (SUBJECT) UTF-8", "SORT (NOPE) UTF-8 ALL",
           "SORT (REVERSE) UTF-8 ALL", "SORT (REVERSE REVERSE DATE) UTF-8 ALL",
           "SORT SUBJECT UTF-8 ALL", "SORT (SUBJECT) UTF-8 NOPE",
           "SORT RETURN (BOGUS) (SUBJECT) UTF-8 ALL",
           "SORT (" + "DATE " * 40 + ") UTF-8 ALL",
           "UID SORT (DATE) UTF-8", "THREAD", "THREAD REFERENCES",
           "THREAD REFERENCES UTF-8", "THREAD NOPE UTF-8 ALL",
           "THREAD (REFERENCES) UTF-8 ALL", "UID THREAD NOPE UTF-8 ALL"]
    for i, cmd in enumerate(bad):
        lines = c.cmd(f"b{i}", cmd)
        assert lines[-1].startswith(f"b{i} BAD"), (cmd, lines)
    for i, cmd in enumerate(["SORT (DATE) X-UNKNOWN ALL",
                             "THREAD REFERENCES ISO-8859-99 ALL",
                             "UID SORT RETURN (COUNT) (DATE) X-NOPE ALL"]):
        lines = c.cmd(f"c{i}", cmd)
        assert lines[-1].startswith(f"c{i} NO [BADCHARSET"), (cmd, lines)
    lines = c.cmd("n", "NOOP")
    assert lines[-1].startswith("n OK")
    c.close()


def test_capabilities(imap):
    m = client(imap)
    caps = m.capabilities
    for cap in ("SORT", "SORT=DISPLAY", "ESORT", "THREAD=ORDEREDSUBJECT",
                "THREAD=REFERENCES"):
        assert cap in caps, caps
    m.logout()


def test_sort_save_and_modseq(imap):
    """SORT RETURN (SAVE) fills "$" (RFC 5182); a MODSEQ key adds the
    highest MODSEQ (RFC 7162 §3.1.5)."""
    m = client(imap)
    fill(m)
    c = Raw(imap)
    c.login()
    c.cmd("s", "SELECT INBOX")
    lines = c.cmd("a", "SORT RETURN (SAVE) (REVERSE SIZE) UTF-8 "
                  "SUBJECT hello")
    assert lines == ["a OK SORT completed."], lines
    lines = c.cmd("b", "SEARCH $")
    want = untagged(m, "SEARCH", "SUBJECT", "hello")
    assert lines[0] == "* SEARCH " + want.decode(), (lines, want)
    # SAVE with MIN/MAX alone keeps those (RFC 5182 §2.1), in sort order
    order = untagged(m, "SORT", "(REVERSE SIZE)", "UTF-8", "ALL").split()
    uids = {int(n) for n in (order[0], order[-1])}
    lines = c.cmd("d", "SORT RETURN (SAVE MIN MAX) (REVERSE SIZE) UTF-8 ALL")
    assert lines[0].startswith("* ESEARCH"), lines
    lines = c.cmd("e", "UID SEARCH $")
    assert {int(n) for n in lines[0].split()[2:]} == uids, (lines, order)
    lines = c.cmd("f", "SORT RETURN (SAVE MAX) (REVERSE SIZE) UTF-8 ALL")
    lines = c.cmd("g", "UID SEARCH $")
    assert lines[0] == f"* SEARCH {int(order[-1])}", (lines, order)
    lines = c.cmd("c", "SORT (ARRIVAL) UTF-8 MODSEQ 1")
    # RFC 7162 §3.1: MODSEQ enabled CONDSTORE with INBOX selected
    assert lines[0].startswith("* OK [HIGHESTMODSEQ "), lines
    assert re.fullmatch(r"\* SORT [0-9 ]+ \(MODSEQ \d+\)", lines[1]), lines
    c.close()
    m.logout()


def random_corpus(seed, count):
    """count messages of random subjects, addresses, dates and
    Message-ID/References/In-Reply-To graphs (loops, gaps, duplicates),
    the same for every run of one seed."""
    import random
    rnd = random.Random(seed)
    leaders = ["", "", "Re: ", "RE: ", "Fwd: ", "Fw: ", "[list] ",
               "Re: [list] ", "re[2]: ", "[x][y] Re: ", "Re: Re: "]
    bases = ["alpha", "Alpha", "beta", "gamma  delta", "", "zeta",
             "\u00e7a va", "\u00dcber", "[tag]"]
    trailers = ["", "", " (fwd)", "  ", "(FWD) "]
    people = ["Ann <ann@x.org>", "bob@x.org", "\"Zed, Z\" <zed@y.org>",
              "=?utf-8?q?=C3=89lise?= <elise@x.org>", "team: a@x.org;",
              "<carl@x.org>", "Dora (comment) <dora@x.org>", None]
    out = []
    for i in range(count):
        subj = rnd.choice(leaders) + rnd.choice(bases) + \
            rnd.choice(trailers)
        if rnd.random() < 0.1:
            subj = "[Fwd: " + subj + "]"
        if rnd.random() < 0.3:
            subj = "=?utf-8?b?%s?=" % __import__("base64").b64encode(
                subj.encode()).decode()
        hdr = ""
        for field in ("From", "To", "Cc"):
            who = rnd.choice(people)
            if who is not None:
                hdr += f"{field}: {who}\r\n"
        hdr += f"Subject: {subj}\r\n"
        r = rnd.random()
        if r < 0.1:
            pass
        elif r < 0.2:
            hdr += "Date: someday\r\n"
        else:
            hdr += ("Date: %d Mar 2021 %02d:%02d:00 %s\r\n" %
                    (rnd.randint(1, 9), rnd.randint(0, 23),
                     rnd.choice([0, 30]), rnd.choice(
                         ["+0000", "-0500", "+1100", "GMT"])))
        r = rnd.random()
        if r < 0.85:
            hdr += f"Message-ID: <m{i}@x>\r\n"
        elif r < 0.93:
            hdr += f"Message-ID: <m{rnd.randrange(max(i, 1))}@x>\r\n"
        refs = [f"<m{rnd.randrange(count)}@x>" if rnd.random() < 0.8
                else f"<gone{rnd.randrange(5)}@x>"
                for _ in range(rnd.choice([0, 0, 1, 1, 2, 3, 5]))]
        if refs:
            hdr += "References: " + " ".join(refs) + "\r\n"
        if rnd.random() < 0.3:
            hdr += f"In-Reply-To: <m{rnd.randrange(count)}@x>\r\n"
        body = "x" * rnd.randrange(20)
        date = "%02d-Mar-2021 %02d:00:00 +0000" % (rnd.randint(1, 9),
                                                  rnd.choice([0, 12]))
        out.append((date, (hdr + "\r\n" + body + "\r\n").encode()))
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_random_corpus_like_dovecot(imap, dovecot, seed):
    """Random subjects and reference graphs: every key and both
    threading algorithms as Dovecot answers them."""
    corpus = random_corpus(seed, 80)
    mc = client(imap)
    md = dovecot.client()
    box = f"R{seed}"
    for m in (mc, md):
        assert m.create(box)[0] == "OK"
        for date, msg in corpus:
            assert m.append(box, None, f'"{date}"', msg)[0] == "OK"
        assert m.select(box)[0] == "OK"
    try:
        for key in SORT_KEYS:
            for crit in (f"({key})", f"(REVERSE {key})"):
                ours = untagged(mc, "SORT", crit, "UTF-8", "ALL")
                theirs = untagged(md, "SORT", crit, "UTF-8", "ALL")
                assert ours == theirs, (seed, crit, ours, theirs)
        for algo in ("ORDEREDSUBJECT", "REFERENCES"):
            ours = untagged(mc, "THREAD", algo, "UTF-8", "ALL")
            theirs = untagged(md, "THREAD", algo, "UTF-8", "ALL")
            assert ours == theirs, (seed, algo, ours, theirs)
    finally:
        mc.logout()
        md.select("INBOX")
        md.delete(box)
        md.logout()


def test_thread_deep_chain(imap):
    """A reply chain 10000 deep, each message with one more reply
    beside it: THREAD REFERENCES nests 10000 levels; the server walks
    it without recursion and stays up."""
    depth = 10000
    msgs = []
    for i in range(depth):
        ref = f"References: <c{i - 1}@x>\r\n" if i else ""
        msgs.append((f"Subject: chain {i}\r\nMessage-ID: <c{i}@x>\r\n"
                     f"{ref}\r\nc\r\n").encode())
        msgs.append((f"Subject: leaf {i}\r\nMessage-ID: <l{i}@x>\r\n"
                     f"References: <c{i}@x>\r\n\r\nl\r\n").encode())
    c = Raw(imap, timeout=120)
    c.login()
    for start in range(0, len(msgs), 1000):
        batch = msgs[start:start + 1000]
        data = b"a APPEND INBOX"
        for m in batch:
            data += b" {%d+}\r\n" % len(m) + m
        c.send(data + b"\r\n")
        assert c.until_tagged("a")[-1].startswith("a OK"), start
    c.cmd("s", "SELECT INBOX")
    lines = c.cmd("t", "THREAD REFERENCES UTF-8 ALL")
    assert lines[-1].startswith("t OK"), lines[-1]
    out = lines[0]
    # chain message 2i+1 has children 2i+2 (its leaf) and 2i+3 (the
    # chain); no Date and one INTERNALDATE second, so sequence order:
    # (1 (2)(3 (4)(5 ... (19999 20000))))
    want = "".join(f"{2 * i + 1} ({2 * i + 2})(" for i in range(depth - 1))
    want += f"{2 * depth - 1} {2 * depth}" + ")" * (depth - 1)
    assert out == f"* THREAD ({want})", out[:200]
    lines = c.cmd("u", "THREAD ORDEREDSUBJECT UTF-8 ALL")
    assert lines[-1].startswith("u OK")
    assert lines[0].count("(") == 2 * depth
    c.close()


@pytest.mark.parametrize("fmt", ["mdir", "mbox"])
def test_sort_thread_after_expunge_elsewhere(imap, accounts, fmt):
    """A message another session expunged stays in this session's view
    until it may be told (RFC 3501 §7.4.1); SORT and THREAD still answer
    OK with it, sorted with the keys it had or empty ones."""
    accounts.ok("mailbox", "create", "alice", "M", "--format", fmt)
    a = client(imap)
    for subj in ("b", "c", "a"):
        assert a.append("M", None, None,
                        f"Subject: {subj}\r\n\r\nx\r\n".encode())[0] == "OK"
    a.select("M")
    b = client(imap)
    b.select("M")
    b.store("3", "+FLAGS", "(\\Deleted)")
    assert b.expunge()[0] == "OK"
    typ, data = a.sort("(SUBJECT)", "UTF-8", "ALL")
    assert typ == "OK" and sorted(data[0].split()) == [b"1", b"2", b"3"]
    typ, data = a.thread("ORDEREDSUBJECT", "UTF-8", "ALL")
    assert typ == "OK", data
    a.noop()
    assert a.sort("(SUBJECT)", "UTF-8", "ALL")[1] == [b"1 2"]
    a.logout()
    b.logout()


def test_esort_save_like_dovecot(pair):
    """RETURN (SAVE ...) leaves the same "$" as in Dovecot: only the
    first/last in sort order with MIN/MAX alone (RFC 5182 §2.1)."""
    for ret in ("(SAVE MIN)", "(SAVE MAX)", "(SAVE MIN MAX)",
                "(SAVE MIN COUNT)", "(SAVE ALL)"):
        saved = []
        for m in pair:
            data = untagged(m, "SORT", "RETURN", ret, "(REVERSE SIZE)",
                            "UTF-8", "SUBJECT", "o")
            typ, found = m.uid("SEARCH", "$")
            assert typ == "OK", found
            saved.append((esearch_items(data), found))
        assert saved[0] == saved[1], (ret, saved)


EDGE_FROMS = ["<>", "undisclosed", "\"\" <empty@x.org>",
              "=?utf-8?q?=C3=A9mile?= <e@x.org>",
              "\"Quoted \\\"Name\\\"\" <q@x.org>",
              "Mixed =?iso-8859-1?q?Caf=E9?= Name <m@x.org>",
              "a@x.org (Comment Name)", "@nolocal.org", "group: ;",
              "Z <Z@X.ORG>", "z@x.org", "  ", "x@[127.0.0.1]",
              "\"a@b\" <c@d>", "=?utf-8?b?5pel5pys?= <jp@x.org>",
              "grp: m1@x.org, m2@x.org;"]
EDGE_DATES = ["Mon, 1 Mar 2021 09:00:00 +0000", "1 Mar 2021 09:00 +0100",
              "Mon, 01 Mar 21 09:00:00 EST", "Mon, 1 Mar 2021 09:00:00",
              "Monday, March 1 2021", "Mon, 1 Mar 2021 25:00:00 +0000",
              "Thu, 1 Jan 1970 00:00:00 +0000",
              "Tue, 1 Jan 2030 00:00:00 -1200",
              "Mon, 1 Mar 2021 09:00:00 +0000 (UTC)",
              "Mon,  1 Mar 2021 08:59:59 -0000",
              "Fri, 31 Dec 9999 23:59:59 +0000"]


def test_edge_addresses_and_dates_like_dovecot(imap, dovecot):
    """Broken and odd addresses (empty, <>, groups, comments, encoded
    and quoted names) and dates (obsolete zones, two-digit years, out
    of range, the epoch) sort as in Dovecot."""
    msgs = []
    for i in range(len(EDGE_FROMS)):
        hdr = (f"From: {EDGE_FROMS[i]}\r\n"
               f"To: {EDGE_FROMS[i * 7 % len(EDGE_FROMS)]}\r\n"
               f"Cc: {EDGE_FROMS[i * 3 % len(EDGE_FROMS)]}\r\n"
               f"Subject: s{i % 4}\r\n"
               f"Date: {EDGE_DATES[i % len(EDGE_DATES)]}\r\n")
        msgs.append(("01-Mar-2021 10:%02d:00 +0000" % (i % 3),
                     (hdr + "\r\nbody\r\n").encode()))
    mc = client(imap)
    md = dovecot.client()
    for m in (mc, md):
        assert m.create("E")[0] == "OK"
        for date, msg in msgs:
            assert m.append("E", None, f'"{date}"', msg)[0] == "OK"
        assert m.select("E")[0] == "OK"
    try:
        for key in SORT_KEYS:
            for crit in (f"({key})", f"(REVERSE {key})"):
                ours = untagged(mc, "SORT", crit, "UTF-8", "ALL")
                theirs = untagged(md, "SORT", crit, "UTF-8", "ALL")
                assert ours == theirs, (crit, ours, theirs)
        for algo in ("ORDEREDSUBJECT", "REFERENCES"):
            ours = untagged(mc, "THREAD", algo, "UTF-8", "ALL")
            theirs = untagged(md, "THREAD", algo, "UTF-8", "ALL")
            assert ours == theirs, (algo, ours, theirs)
    finally:
        mc.logout()
        md.select("INBOX")
        md.delete("E")
        md.logout()


def test_sort_where_dovecot_differs(imap):
    """Where Dovecot 2.3 is not the oracle: a Date before 1970 sorts
    before later ones (Dovecot keeps dates as unsigned 32-bit and puts
    them last), and subjects compare by RFC 5051 i;unicode-casemap with
    NFKD, so U+01C6 (the dz digraph) sorts as "Dz" + caron, before "r"
    (Dovecot does not decompose it and puts it after every Latin
    letter); an encoded-word in an unknown charset stays as written."""
    m = client(imap)
    for subj, date in (("r", "Tue, 2 Mar 2021 09:00:00 +0000"),
                       ("\u01c6", "Sat, 1 Mar 1969 09:00:00 +0000"),
                       ("s", "Mon, 1 Mar 2021 09:00:00 +0000"),
                       ("=?x-unknown?q?Re:_b?=",
                        "Wed, 3 Mar 2021 09:00:00 +0000")):
        msg = f"Subject: {subj}\r\nDate: {date}\r\n\r\nx\r\n".encode()
        assert m.append("INBOX", None, None, msg)[0] == "OK"
    m.select("INBOX")
    assert m.sort("(DATE)", "UTF-8", "ALL")[1] == [b"2 3 1 4"]
    # an encoded-word in an unknown charset is compared as written
    assert m.sort("(SUBJECT)", "UTF-8", "ALL")[1] == [b"4 2 1 3"]
    m.logout()


# (Message-ID, References, In-Reply-To): quoted and odd IDs, comments
# and text around them, IDs without "@", self references, repeated
# references, a References field of 301 IDs, several IDs in Message-ID.
EDGE_IDS = [
    ("<a@x>", None, None),
    ("<b@x>", "<a@x>", None),
    ("<noat>", "<b@x>", None),
    ("<c@x>", "<noat>", None),
    ("<d@x>", None, "<c@x> (John's message of yesterday)"),
    ("<e@x>", None, "John's message <d@x> and <b@x>"),
    ("<\"q l\"@x>", "<a@x>", None),
    ("<f@x>", "<\"q l\"@x>", None),
    ("<g@x>", "<a@x> (comment) <b@x>", None),
    ("<h@x>", "<h@x> <a@x>", None),
    ("<i@x>", "< i2@x >", None),
    ("<j@x>", "<a@x><b@x>", None),
    ("<k@x>", "<a@x> <a@x> <b@x>", None),
    ("<l@x>", " ".join(f"<z{n}@x>" for n in range(300)) + " <a@x>", None),
    ("<m@x>", "<z299@x>", None),
    ("<n@x>", "<z0@x>", None),
    ("<o@x>", "", "<a@x>"),
    ("<p@x>", "garbage", "<b@x>"),
    ("<A@X>", "<a@x>", None),
    ("<r@x> <s@x>", None, "<r@x>"),
    ("<s@x>", "<r@x>", None),
    ("", "<a@x>", None),
    ("<t@x>", "<ghost@x>", "<a@x>"),
]


def test_thread_odd_ids_like_dovecot(imap, dovecot):
    msgs = []
    for i, (mid, refs, irt) in enumerate(EDGE_IDS):
        hdr = (f"Subject: t{i % 3}\r\n"
               f"Date: Mon, 1 Mar 2021 09:{i:02d}:00 +0000\r\n")
        if mid:
            hdr += f"Message-ID: {mid}\r\n"
        if refs is not None:
            hdr += f"References: {refs}\r\n"
        if irt is not None:
            hdr += f"In-Reply-To: {irt}\r\n"
        msgs.append((hdr + "\r\nx\r\n").encode())
    mc = client(imap)
    md = dovecot.client()
    for m in (mc, md):
        assert m.create("T")[0] == "OK"
        for msg in msgs:
            assert m.append("T", None, None, msg)[0] == "OK"
        assert m.select("T")[0] == "OK"
    try:
        for algo in ("REFERENCES", "ORDEREDSUBJECT"):
            ours = untagged(mc, "THREAD", algo, "UTF-8", "ALL")
            theirs = untagged(md, "THREAD", algo, "UTF-8", "ALL")
            assert ours == theirs, (algo, ours, theirs)
    finally:
        mc.logout()
        md.select("INBOX")
        md.delete("T")
        md.logout()


def test_uid_esort_like_dovecot(pair):
    mc, md = pair
    for ret in ("(MIN MAX COUNT ALL)", "()"):
        ours = untagged(mc, "UID SORT", "RETURN", ret, "(REVERSE DATE)",
                        "UTF-8", "UID", "3:15")
        theirs = untagged(md, "UID SORT", "RETURN", ret, "(REVERSE DATE)",
                          "UTF-8", "UID", "3:15")
        strip = re.compile(rb'^\(TAG "[^"]*"\) ')
        assert strip.sub(b"", ours).startswith(b"UID "), ours
        assert strip.sub(b"", theirs).startswith(b"UID "), theirs
        assert esearch_items(ours) == esearch_items(theirs), (ours, theirs)


def test_sort_legacy_charset_like_dovecot(pair):
    """SORT and THREAD take SEARCH's charsets: the key string is
    converted before matching (here ISO-8859-1 "été", in a literal)."""
    for cmd, first in (("SORT", "(REVERSE DATE)"),
                       ("THREAD", "REFERENCES")):
        answers = []
        for m in pair:
            m.untagged_responses.clear()
            m.literal = "\u00e9t\u00e9".encode("iso-8859-1")
            typ, data = m._simple_command(cmd, first, "ISO-8859-1",
                                          "SUBJECT")
            assert typ == "OK", data
            answers.append(m.untagged_responses.get(cmd))
        assert answers[0] == answers[1] and answers[0] != [b""], answers
