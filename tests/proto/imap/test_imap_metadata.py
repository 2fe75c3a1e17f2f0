# SPDX-License-Identifier: MIT
"""METADATA and METADATA-SERVER (RFC 5464) against the real `commune
serve`: server and mailbox entries, /private and /shared, GETMETADATA
with DEPTH and MAXSIZE ([METADATA LONGENTRIES]), NIL for missing
entries, binary values (literal8), the limits ([METADATA MAXSIZE],
[METADATA TOOMANY]), bad entry names, the computed /private/specialuse
(RFC 6154 §4) and /shared/vendor/commune/class entries, persistence
across sessions, RENAME and DELETE."""
import re
import time

from imap_helpers import Raw

VALUE_MAX = 16 * 1024           # STORE_METADATA_VALUE_MAX
ENTRIES_MAX = 64                # STORE_METADATA_ENTRIES_MAX


class Client(Raw):
    """Raw client that also reads literals inside responses."""

    def read_until_tagged(self, tag, timeout=30):
        out = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise EOFError(out + self.buf)
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            out += line + b"\r\n"
            m = re.search(rb"~?\{(\d+)\}$", line)
            if m:
                n = int(m.group(1))
                while len(self.buf) < n:
                    chunk = self.sock.recv(65536)
                    if not chunk:
                        raise EOFError(out + self.buf)
                    self.buf += chunk
                out += self.buf[:n]
                self.buf = self.buf[n:]
                continue
            if line.startswith(tag.encode() + b" "):
                return out
        raise TimeoutError(out)

    def bcmd(self, tag, data):
        if isinstance(data, str):
            data = data.encode()
        self.send(tag.encode() + b" " + data + b"\r\n")
        return self.read_until_tagged(tag)


def login(imap, user="alice"):
    c = Client(imap)
    c.login(user)
    return c


def test_capabilities(imap):
    c = login(imap)
    caps = c.cmd("c", "CAPABILITY")[0].split()
    assert "METADATA" in caps and "METADATA-SERVER" in caps


def test_server_entries(imap):
    c = login(imap)
    assert c.cmd("a", 'GETMETADATA "" /shared/comment') == [
        '* METADATA "" (/shared/comment NIL)',
        "a OK GETMETADATA completed."]
    assert c.cmd("b", 'SETMETADATA "" (/shared/comment "Hello there" '
                 '/private/vendor/x/y "v1")') == [
        "b OK SETMETADATA completed."]
    assert c.cmd("c", 'GETMETADATA "" (/shared/comment /private/nope)') \
        == ['* METADATA "" (/shared/comment "Hello there" '
            '/private/nope NIL)', "c OK GETMETADATA completed."]
    # names are case-insensitive
    assert c.cmd("d", 'GETMETADATA "" /SHARED/Comment') == [
        '* METADATA "" (/shared/comment "Hello there")',
        "d OK GETMETADATA completed."]
    # another session sees it; NIL removes it
    c2 = login(imap)
    assert c2.cmd("e", 'GETMETADATA (DEPTH infinity) "" /private') == [
        '* METADATA "" (/private/vendor/x/y "v1")',
        "e OK GETMETADATA completed."]
    # DEPTH 0 names the entry asked for even when it is a bare root
    assert c2.cmd("e2", 'GETMETADATA "" /private') == [
        '* METADATA "" (/private NIL)', "e2 OK GETMETADATA completed."]
    assert c2.cmd("f", 'SETMETADATA "" (/shared/comment NIL)') == [
        "f OK SETMETADATA completed."]
    assert c.cmd("g", 'GETMETADATA (DEPTH infinity) "" /shared') == [
        "g OK GETMETADATA completed."]
    # the server entries of one account are not another's
    c3 = login(imap, "bob")
    assert c3.cmd("h", 'GETMETADATA (DEPTH infinity) "" /private') == [
        "h OK GETMETADATA completed."]


def test_mailbox_entries_depth_maxsize(imap):
    c = login(imap)
    c.cmd("m", "CREATE Work")
    assert c.cmd("a", 'SETMETADATA Work (/private/comment "mine" '
                 '/shared/comment "ours" /private/vendor/a "1" '
                 '/private/vendor/a/b "22" /private/vendor/a/b/c "333")'
                 )[-1] == "a OK SETMETADATA completed."
    lines = c.cmd("b", 'GETMETADATA (DEPTH 1) Work /private/vendor/a')
    assert lines == ['* METADATA "Work" (/private/vendor/a "1" '
                     '/private/vendor/a/b "22")',
                     "b OK GETMETADATA completed."]
    lines = c.cmd("c", 'GETMETADATA (DEPTH infinity) Work /private')
    assert lines == ['* METADATA "Work" (/private/comment "mine" '
                     '/private/vendor/a "1" /private/vendor/a/b "22" '
                     '/private/vendor/a/b/c "333")',
                     "c OK GETMETADATA completed."]
    lines = c.cmd("d", 'GETMETADATA (MAXSIZE 2 DEPTH infinity) Work '
                  '/private/vendor')
    assert lines == ['* METADATA "Work" (/private/vendor/a "1" '
                     '/private/vendor/a/b "22")',
                     "d OK [METADATA LONGENTRIES 3] GETMETADATA "
                     "completed."]
    lines = c.cmd("e", 'GETMETADATA Work (/shared/comment '
                  '/private/comment)')
    assert lines == ['* METADATA "Work" (/shared/comment "ours" '
                     '/private/comment "mine")',
                     "e OK GETMETADATA completed."]
    # RENAME carries them, DELETE drops them
    c.cmd("r", "RENAME Work Play")
    assert c.cmd("f", "GETMETADATA Play /shared/comment") == [
        '* METADATA "Play" (/shared/comment "ours")',
        "f OK GETMETADATA completed."]
    assert c.cmd("g", "GETMETADATA Work /shared/comment")[-1].startswith(
        "g NO [NONEXISTENT]")
    c.cmd("d1", "DELETE Play")
    c.cmd("d2", "CREATE Play")
    assert c.cmd("h", "GETMETADATA Play /shared/comment") == [
        '* METADATA "Play" (/shared/comment NIL)',
        "h OK GETMETADATA completed."]


def test_values_literals_and_binary(imap):
    c = login(imap)
    text = b"two\r\nlines \"quoted\" \xc3\xa9"
    c.send(b"a SETMETADATA INBOX (/private/comment {%d+}\r\n" % len(text)
           + text + b" /private/vendor/bin ~{5+}\r\nab\x00cd)\r\n")
    assert c.read_until_tagged("a").endswith(
        b"a OK SETMETADATA completed.\r\n")
    out = c.bcmd("b", "GETMETADATA INBOX (/private/comment "
                 "/private/vendor/bin)")
    assert out == (b'* METADATA "INBOX" (/private/comment {%d}\r\n'
                   % len(text) + text +
                   b" /private/vendor/bin ~{5}\r\nab\x00cd)\r\n"
                   b"b OK GETMETADATA completed.\r\n")
    # inbox in any case is INBOX
    out = c.bcmd("c", "GETMETADATA inbox /private/vendor/bin")
    assert out.startswith(b'* METADATA "INBOX" (/private/vendor/bin ~{5}')


def test_limits_and_errors(imap):
    c = login(imap)
    big = b"x" * (VALUE_MAX + 1)
    c.send(b"a SETMETADATA INBOX (/private/big {%d+}\r\n" % len(big) + big
           + b")\r\n")
    assert c.read_until_tagged("a").endswith(
        b"a NO [METADATA MAXSIZE %d] Value too long.\r\n" % VALUE_MAX)
    ok = b"y" * VALUE_MAX
    c.send(b"b SETMETADATA INBOX (/private/big {%d+}\r\n" % len(ok) + ok
           + b")\r\n")
    assert c.read_until_tagged("b").endswith(b"b OK SETMETADATA "
                                             b"completed.\r\n")
    # entries per mailbox: all or nothing
    pairs = " ".join(f'/private/n{i} "v"' for i in range(ENTRIES_MAX))
    lines = c.cmd("c", f"SETMETADATA INBOX ({pairs})")
    assert lines[-1].startswith("c NO [METADATA TOOMANY]"), lines
    assert c.cmd("d", "GETMETADATA INBOX /private/n0") == [
        '* METADATA "INBOX" (/private/n0 NIL)',
        "d OK GETMETADATA completed."]
    # bad names and syntax: BAD, and the session goes on
    for i, cmd in enumerate((
            'SETMETADATA INBOX (/public/x "v")',
            'SETMETADATA INBOX (/private "v")',
            'SETMETADATA INBOX (/private/a* "v")',
            'SETMETADATA INBOX (/private//a "v")',
            'SETMETADATA INBOX (/private/a/ "v")',
            'SETMETADATA INBOX (/private/a)',
            'SETMETADATA INBOX (/private/a FOO)',
            'SETMETADATA INBOX /private/a "v"',
            'GETMETADATA INBOX /nowhere',
            'GETMETADATA (DEPTH 2) INBOX /private',
            'GETMETADATA (MAXSIZE -1) INBOX /private/a',
            'GETMETADATA (BOGUS 1) INBOX /private/a',
            'GETMETADATA INBOX ()',
            'GETMETADATA INBOX')):
        assert c.cmd(f"e{i}", cmd)[-1].startswith(f"e{i} BAD"), cmd
    assert c.cmd("f", "GETMETADATA Nope /private/comment")[-1].startswith(
        "f NO [NONEXISTENT]")
    assert c.cmd("g", 'SETMETADATA Nope (/private/comment "x")')[-1]\
        .startswith("g NO [NONEXISTENT]")
    assert c.cmd("h", "NOOP") == ["h OK NOOP completed."]


def test_special_use_and_class_entries(imap, accounts):
    c = login(imap)
    c.cmd("m1", "CREATE Sent")
    c.cmd("m2", "CREATE Calendar")
    assert c.cmd("a", "GETMETADATA Sent /private/specialuse") == [
        '* METADATA "Sent" (/private/specialuse "\\\\Sent")',
        "a OK GETMETADATA completed."]
    assert c.cmd("b", 'SETMETADATA Calendar (/private/specialuse '
                 '"\\\\Archive" /shared/vendor/commune/class '
                 '"IPF.Appointment")') == ["b OK SETMETADATA completed."]
    assert '* LIST (\\HasNoChildren \\Archive) "/" "Calendar"' in \
        c.cmd("c", 'LIST "" Calendar')
    assert c.cmd("d", "GETMETADATA (DEPTH infinity) Calendar /shared") \
        == ['* METADATA "Calendar" (/shared/vendor/commune/class '
            '"IPF.Appointment")', "d OK GETMETADATA completed."]
    # the CLI sees the same class
    p = accounts.run("mailbox", "class", "alice", "Calendar")
    assert p.stdout.decode().strip() == "IPF.Appointment"
    accounts.ok("mailbox", "class", "alice", "Calendar", "IPF.Task")
    assert c.cmd("e", "GETMETADATA Calendar /shared/vendor/commune/class") \
        == ['* METADATA "Calendar" (/shared/vendor/commune/class '
            '"IPF.Task")', "e OK GETMETADATA completed."]
    # NIL: no special use (the default by name no longer applies) and
    # the mail class
    assert c.cmd("f", 'SETMETADATA Sent (/private/specialuse NIL)') == [
        "f OK SETMETADATA completed."]
    assert '* LIST (\\HasNoChildren) "/" "Sent"' in \
        c.cmd("g", 'LIST "" Sent')
    c.cmd("h", 'SETMETADATA Calendar (/shared/vendor/commune/class NIL)')
    p = accounts.run("mailbox", "class", "alice", "Calendar")
    assert p.stdout.decode().strip() == "-"
    # refused values
    assert c.cmd("i", 'SETMETADATA Sent (/private/specialuse "\\\\All")'
                 )[-1].startswith("i NO [USEATTR]")
    assert c.cmd("j", 'SETMETADATA Sent (/private/specialuse "Bogus")'
                 )[-1].startswith("j NO [USEATTR]")
    assert c.cmd("k", 'SETMETADATA Sent (/shared/vendor/commune/class '
                 '"IPF Bad")')[-1].startswith("k NO [CANNOT]")
    assert c.cmd("l", 'SETMETADATA "" (/private/specialuse "\\\\Sent")'
                 )[-1].startswith("l NO [CANNOT]")


# ------------------------------------------------- Dovecot as the oracle

DOVECOT_SPECIAL = r"""
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \Sent
    auto = subscribe
  }
  mailbox Drafts {
    special_use = \Drafts
    auto = create
  }
  mailbox Trash {
    special_use = \Trash
    auto = create
  }
  mailbox Junk {
    special_use = \Junk
    auto = create
  }
}
mail_attribute_dict = file:%h/dovecot-attributes
protocol imap {
  imap_metadata = yes
}
"""


def tokens(data):
    """Atoms, quoted strings, literals ({n} and ~{n}) and parentheses of
    one response, as Python values (None for NIL)."""
    out, i = [], 0
    while i < len(data):
        ch = data[i:i + 1]
        if ch in b" \r\n":
            i += 1
        elif ch in b"()":
            out.append(ch.decode())
            i += 1
        elif ch == b'"':
            j, val = i + 1, b""
            while data[j:j + 1] != b'"':
                if data[j:j + 1] == b"\\":
                    j += 1
                val += data[j:j + 1]
                j += 1
            out.append(val)
            i = j + 1
        else:
            m = re.match(rb"~?\{(\d+)\}\r\n", data[i:])
            if m:
                n = int(m.group(1))
                start = i + m.end()
                out.append(data[start:start + n])
                i = start + n
                continue
            m = re.match(rb"[^ ()\r\n]+", data[i:])
            out.append(None if m.group(0) == b"NIL" else m.group(0))
            i += m.end()
    return out


def metadata_answer(out):
    """(sorted entry/value pairs, response code) of a GETMETADATA."""
    pairs, code = [], None
    for line in re.split(rb"(?=^\* |^a )", out, flags=re.M):
        if line.startswith(b"* METADATA "):
            t = tokens(line[len(b"* METADATA "):])
            body = t[2:-1]          # mailbox, "(", ..., ")"
            pairs += [(body[k].lower(), body[k + 1])
                      for k in range(0, len(body), 2)]
        elif line.startswith(b"a "):
            m = re.match(rb"a (\w+) (\[[^\]]*\])?", line)
            code = (m.group(1), m.group(2))
    return sorted(pairs), code


def special_list(lines):
    """{name: special-use attributes} of LIST or LSUB lines."""
    got = {}
    for line in lines:
        m = re.match(r'\* (?:LIST|LSUB) \(([^)]*)\) "/" "?([^"]*)"?$', line)
        if m:
            got[m.group(2)] = sorted(a for a in m.group(1).split()
                                     if a not in ("\\HasChildren",
                                                  "\\HasNoChildren",
                                                  "\\Subscribed",
                                                  "\\Noselect"))
    return got


def test_against_dovecot(imap, monkeypatch):
    """The same LIST/LSUB special-use and GETMETADATA answers as a
    private Debian Dovecot configured with the same folders (quoting,
    order and texts aside)."""
    import dovecot_oracle

    monkeypatch.setattr(dovecot_oracle, "CONF", dovecot_oracle.CONF +
                        DOVECOT_SPECIAL.replace("{", "{{")
                        .replace("}", "}}"))
    ours = login(imap)
    for name in ("Sent", "Drafts", "Trash", "Junk", "Work"):
        ours.cmd("m", f"CREATE {name}")
    ours.cmd("s", "SUBSCRIBE Sent")
    setup = ('SETMETADATA INBOX (/private/vendor/a "1" /private/vendor/a/b '
             '"22" /private/vendor/a/b/c "333" /shared/comment "ours")')
    queries = [
        "GETMETADATA INBOX /shared/comment",
        "GETMETADATA INBOX (/shared/comment /private/comment)",
        "GETMETADATA (DEPTH 1) INBOX /private/vendor/a",
        "GETMETADATA (DEPTH 1) INBOX /private/vendor",
        "GETMETADATA (DEPTH infinity) INBOX /private",
        "GETMETADATA (DEPTH 0) INBOX /private",
        "GETMETADATA (MAXSIZE 2 DEPTH infinity) INBOX /private/vendor",
        "GETMETADATA (MAXSIZE 0) INBOX /shared/comment",
        "GETMETADATA INBOX /SHARED/Comment",
        "GETMETADATA Sent /private/specialuse",
        "GETMETADATA Work /private/specialuse",
    ]
    lists = ['LIST (SPECIAL-USE) "" "*"', 'LIST "" "*" RETURN (SPECIAL-USE)',
             'LIST (SUBSCRIBED SPECIAL-USE) "" "*"', 'LSUB "" "*"']
    with dovecot_oracle.Dovecot() as dv:
        class Peer:
            def connect(self, proto, timeout=30):
                return dv.connect(timeout)
        theirs = Client(Peer())
        theirs.cmd("l", f"LOGIN {dovecot_oracle.USER} "
                   f"{dovecot_oracle.PASSWORD}")
        theirs.cmd("m", "CREATE Work")
        for c in (ours, theirs):
            assert c.cmd("a", setup)[-1].startswith("a OK")
        for q in lists:
            got = special_list(ours.cmd("a", q))
            assert got == special_list(theirs.cmd("a", q)), q
            assert got["Sent"] == ["\\Sent"], (q, got)
        for q in queries:
            got = metadata_answer(ours.bcmd("a", q))
            assert got == metadata_answer(theirs.bcmd("a", q)), q
            assert got[0] or q.endswith(("MAXSIZE 0) INBOX /shared/comment",
                                         "/private/vendor")), (q, got)


def test_other_users_mailbox(imap, accounts):
    """~alice/Shared through ACL (RFC 4314): reading needs "r", /shared
    writes "w", the class "a"; alice's /private entries stay hers and
    dave cannot keep his own there ([METADATA NOPRIVATE])."""
    accounts.ok("account", "create", "dave", "--password", "pw")
    accounts.ok("mailbox", "create", "alice", "Shared", "--class",
                "IPF.Contact")
    accounts.ok("mailbox", "create", "alice", "Hidden")
    alice = login(imap)
    assert alice.cmd("a", 'SETMETADATA Shared (/shared/comment "team" '
                     '/private/comment "mine")')[-1].startswith("a OK")
    alice.cmd("g", 'SETACL Shared dave "lr"')
    dave = login(imap, "dave")
    assert dave.cmd("b", "GETMETADATA ~alice/Shared (/shared/comment "
                    "/private/comment /shared/vendor/commune/class)") == [
        '* METADATA "~alice/Shared" (/shared/comment "team" '
        '/private/comment NIL /shared/vendor/commune/class '
        '"IPF.Contact")',
        "b OK GETMETADATA completed."]
    assert dave.cmd("c", "GETMETADATA (DEPTH infinity) ~alice/Shared "
                    "/private") == ["c OK GETMETADATA completed."]
    assert dave.cmd("d", 'SETMETADATA ~alice/Shared (/shared/comment '
                    '"x")')[-1].startswith("d NO [NOPERM]")
    alice.cmd("g2", 'SETACL Shared dave "lrw"')
    assert dave.cmd("e", 'SETMETADATA ~alice/Shared (/shared/comment '
                    '"ours")') == ["e OK SETMETADATA completed."]
    assert dave.cmd("f", 'SETMETADATA ~alice/Shared (/private/comment '
                    '"x")')[-1].startswith("f NO [METADATA NOPRIVATE]")
    assert dave.cmd("h", 'SETMETADATA ~alice/Shared '
                    '(/shared/vendor/commune/class "IPF.Task")')[-1]\
        .startswith("h NO [NOPERM]")
    # no rights at all: as if it did not exist
    assert dave.cmd("i", "GETMETADATA ~alice/Hidden /shared/comment")[-1]\
        .startswith("i NO [NONEXISTENT]")
    assert alice.cmd("j", "GETMETADATA Shared (/shared/comment "
                     "/private/comment)") == [
        '* METADATA "Shared" (/shared/comment "ours" '
        '/private/comment "mine")', "j OK GETMETADATA completed."]
