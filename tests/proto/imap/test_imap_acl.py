# SPDX-License-Identifier: MIT
"""ACL (RFC 4314) and the shared namespace "~user/box" through the real
`commune serve`: alice owns mailboxes, dave (a second multi-mailbox
account) reaches them as ~alice/... . Every right letter is checked by
an operation that needs it, with the right and without it; rights are
granted and revoked over IMAP and with `commune mailbox acl`; a mailbox
without "l" or "r" answers exactly like one that does not exist; and
hostile shared names are refused with the server staying up."""
import os
import re

import pytest

from imap_helpers import PW, Raw, deliver, message

OWNER = "alice"
OTHER = "dave"
BOX = "Shared"
SHARED = f"~{OWNER}/{BOX}"


@pytest.fixture
def srv(imap, accounts):
    accounts.ok("account", "create", OTHER, "--password", PW)
    accounts.ok("mailbox", "create", OWNER, BOX)
    deliver(accounts, OWNER, message("shared one"), "--mailbox", BOX)
    deliver(accounts, OWNER, message("shared two"), "--mailbox", BOX)
    imap.commune = accounts
    return imap


def raw(srv, user):
    r = Raw(srv)
    r.login(user)
    return r


def tagged(lines):
    return lines[-1].split(" ", 1)[1]


def grant(srv, rights, box=BOX, who=OTHER):
    """alice sets who's rights on box over IMAP."""
    r = raw(srv, OWNER)
    lines = r.cmd("G", f'SETACL {box} {who} "{rights}"')
    assert tagged(lines).startswith("OK"), lines
    r.cmd("Z", "LOGOUT")


def status_of(lines):
    return tagged(lines).split(" ")[0:2]


def test_capability_and_namespace(srv):
    r = raw(srv, OTHER)
    caps = r.cmd("C", "CAPABILITY")[0]
    assert " ACL " in caps + " " and "RIGHTS=texk" in caps
    lines = r.cmd("N", "NAMESPACE")
    assert lines[0] == '* NAMESPACE (("" "/")) (("~" "/")) NIL'


def test_no_rights_looks_nonexistent(srv):
    """Neither "l" nor "r": the same NO [NONEXISTENT] as a mailbox or
    a user that does not exist, for every command."""
    r = raw(srv, OTHER)
    for cmd in ("SELECT {}", "EXAMINE {}", "STATUS {} (MESSAGES)",
                "GETACL {}", "MYRIGHTS {}", "DELETE {}",
                "APPEND {} {{3+}}\r\nx\r\n"):
        got = []
        for name in (SHARED, f"~{OWNER}/Nope", "~nobody/Shared",
                     f"~{OWNER}/INBOX"):
            got.append(tagged(r.cmd("T", cmd.format(name))))
        assert len(set(got)) == 1, (cmd, got)
        assert got[0].startswith("NO [NONEXISTENT]"), got
    lines = r.cmd("L", 'LIST "" "~*"')
    assert lines == ["L OK LIST completed."]
    # an "i" only mailbox (a drop box) takes APPEND but stays unlisted
    grant(srv, "i")
    lines = r.cmd("A", f"APPEND {SHARED} {{3+}}\r\nx\r\n")
    assert tagged(lines).startswith("OK [APPENDUID"), lines
    assert r.cmd("L", 'LIST "" "~*"') == ["L OK LIST completed."]
    assert tagged(r.cmd("S", f"SELECT {SHARED}")).startswith(
        "NO [NONEXISTENT]")


def test_lookup_and_read(srv):
    r = raw(srv, OTHER)
    # l without r: listed, but SELECT and STATUS are refused
    grant(srv, "l")
    lines = r.cmd("L", 'LIST "" "~*"')
    assert f'* LIST (\\HasNoChildren) "/" "{SHARED}"' in lines, lines
    assert '* LIST (\\Noselect \\HasChildren) "/" "~alice"' in lines
    assert tagged(r.cmd("S", f"SELECT {SHARED}")).startswith("NO [NOPERM]")
    assert tagged(r.cmd("S", f"STATUS {SHARED} (MESSAGES)")).startswith(
        "NO [NOPERM]")
    lines = r.cmd("M", f"MYRIGHTS {SHARED}")
    assert lines[0] == f'* MYRIGHTS "{SHARED}" l'
    # r without l: not listed, but readable
    grant(srv, "r")
    assert r.cmd("L", 'LIST "" "~*"') == ["L OK LIST completed."]
    lines = r.cmd("S", f"STATUS {SHARED} (MESSAGES)")
    assert lines[0] == f'* STATUS "{SHARED}" (MESSAGES 2)', lines
    lines = r.cmd("S", f"SELECT {SHARED}")
    assert "* 2 EXISTS" in lines
    # no i, e, s, w, t: READ-ONLY (RFC 4314 §5.2)
    assert tagged(lines).startswith("OK [READ-ONLY]"), lines
    lines = r.cmd("F", "FETCH 1 BODY[]")
    assert "shared one" in "\n".join(lines)
    assert tagged(lines).startswith("OK")
    # LIST-STATUS and a listing by the user's name
    grant(srv, "lr")
    lines = r.cmd("L", f'LIST "" "~{OWNER}/%" RETURN (STATUS (MESSAGES))')
    assert f'* STATUS "{SHARED}" (MESSAGES 2)' in lines, lines


def flags_of(r, seq=1):
    lines = r.cmd("F", f"FETCH {seq} FLAGS")
    mo = re.search(r"FLAGS \(([^)]*)\)", lines[0])
    return set(mo.group(1).split()) if mo else None


def test_seen_write_delete_expunge(srv):
    r = raw(srv, OTHER)
    # "s": a body fetch sets \Seen, STORE \Seen works; nothing else
    grant(srv, "lrs")
    assert tagged(r.cmd("S", f"SELECT {SHARED}")).startswith(
        "OK [READ-WRITE]")
    r.cmd("F", "FETCH 1 BODY[]")
    assert flags_of(r, 1) == {"\\Seen"}
    assert tagged(r.cmd("T", "STORE 2 +FLAGS (\\Seen)")).startswith("OK")
    assert flags_of(r, 2) == {"\\Seen"}
    assert tagged(r.cmd("T", "STORE 2 +FLAGS (\\Flagged)")).startswith(
        "NO [NOPERM]")
    assert tagged(r.cmd("T", "STORE 2 +FLAGS (\\Deleted)")).startswith(
        "NO [NOPERM]")
    # a mixed STORE changes what it may (RFC 4314 §4 SHOULD NOT fail)
    assert tagged(r.cmd("T", "STORE 1 -FLAGS (\\Seen $Work)")).startswith(
        "OK")
    assert flags_of(r, 1) == set()
    # FLAGS (replace) changes only what "s" covers
    assert tagged(r.cmd("T", "STORE 2 FLAGS (\\Flagged)")).startswith("OK")
    assert flags_of(r, 2) == set()
    assert tagged(r.cmd("T", "STORE 2 FLAGS (\\Seen $X)")).startswith("OK")
    assert flags_of(r, 2) == {"\\Seen"}
    assert tagged(r.cmd("E", "EXPUNGE")).startswith("NO [NOPERM]")
    # "w" without "s": other flags and keywords, and a body fetch leaves
    # \Seen alone
    grant(srv, "lrw")
    r.cmd("S", f"SELECT {SHARED}")
    r.cmd("F", "FETCH 1 BODY[]")
    assert flags_of(r, 1) == set()
    assert tagged(r.cmd("T", "STORE 1 +FLAGS ($Work \\Flagged)")).startswith(
        "OK")
    assert flags_of(r, 1) == {"$Work", "\\Flagged"}
    assert tagged(r.cmd("T", "STORE 1 +FLAGS (\\Seen)")).startswith(
        "NO [NOPERM]")
    # FLAGS (replace) without "s": \Seen of message 2 stays
    assert tagged(r.cmd("T", "STORE 2 FLAGS ($Y \\Draft)")).startswith(
        "OK")
    assert flags_of(r, 2) == {"\\Seen", "$Y", "\\Draft"}
    assert tagged(r.cmd("T", "STORE 2 FLAGS ()")).startswith("OK")
    assert flags_of(r, 2) == {"\\Seen"}
    # no replacing across two store calls with UNCHANGEDSINCE
    assert tagged(r.cmd("T", "STORE 2 (UNCHANGEDSINCE 99999999999999999) "
                             "FLAGS ($Z)")).startswith("NO [NOPERM]")
    # "t" and "e": \Deleted and EXPUNGE
    grant(srv, "lrt")
    r.cmd("S", f"SELECT {SHARED}")
    assert tagged(r.cmd("T", "STORE 2 +FLAGS (\\Deleted)")).startswith("OK")
    assert tagged(r.cmd("E", "EXPUNGE")).startswith("NO [NOPERM]")
    # CLOSE without "e" closes without expunging (RFC 4314 §4)
    assert tagged(r.cmd("C", "CLOSE")).startswith("OK")
    r.cmd("S", f"SELECT {SHARED}")
    assert "* 2 EXISTS" in r.cmd("N", "NOOP") + r.cmd("S", f"SELECT {SHARED}")
    grant(srv, "lrte")
    r.cmd("S", f"SELECT {SHARED}")
    lines = r.cmd("E", "EXPUNGE")
    assert "* 2 EXPUNGE" in lines and tagged(lines).startswith("OK"), lines
    # the owner sees the shared changes (\Seen is shared too)
    o = raw(srv, OWNER)
    o.cmd("S", f"SELECT {BOX}")
    assert flags_of(o, 1) == {"$Work", "\\Flagged"}
    assert "* 1 EXISTS" in o.cmd("S", f"SELECT {BOX}")


def test_insert_and_copy_move(srv):
    r = raw(srv, OTHER)
    lines = r.cmd("A", "APPEND INBOX {6+}\r\nhello!\r\n")
    assert tagged(lines).startswith("OK"), lines
    grant(srv, "lr")
    lines = r.cmd("A", f"APPEND {SHARED} {{3+}}\r\nabc\r\n")
    assert tagged(lines).startswith("NO [NOPERM]"), lines
    r.cmd("S", "SELECT INBOX")
    r.cmd("T", "STORE 1 +FLAGS (\\Seen \\Flagged $Kw)")
    assert tagged(r.cmd("C", f"COPY 1 {SHARED}")).startswith("NO [NOPERM]")
    # "i": APPEND and COPY; flags without "s"/"w"/"t" are dropped
    grant(srv, "lri")
    lines = r.cmd("A", f"APPEND {SHARED} (\\Seen \\Flagged \\Deleted) "
                       "{3+}\r\nabc\r\n")
    assert tagged(lines).startswith("OK [APPENDUID"), lines
    assert tagged(r.cmd("C", f"COPY 1 {SHARED}")).startswith("OK [COPYUID")
    lines = r.cmd("S", f"SELECT {SHARED}")
    assert "* 4 EXISTS" in lines
    # PERMANENTFLAGS shows what the rights allow (RFC 4314 §5.1.1)
    assert "* OK [PERMANENTFLAGS ()] Flags permitted." in lines, lines
    assert flags_of(r, 3) == set() and flags_of(r, 4) == set()
    grant(srv, "lris")
    r.cmd("S", "SELECT INBOX")
    assert tagged(r.cmd("C", f"COPY 1 {SHARED}")).startswith("OK [COPYUID")
    lines = r.cmd("S", f"SELECT {SHARED}")
    assert "* OK [PERMANENTFLAGS (\\Seen)] Flags permitted." in lines
    assert flags_of(r, 5) == {"\\Seen"}
    grant(srv, "lriw")
    lines = r.cmd("S", f"SELECT {SHARED}")
    assert any(line.startswith("* OK [PERMANENTFLAGS (\\Answered "
                               "\\Flagged \\Draft $Kw \\*)]")
               for line in lines), lines
    r.cmd("S", "SELECT INBOX")
    assert tagged(r.cmd("C", f"COPY 1 {SHARED}")).startswith("OK [COPYUID")
    r.cmd("S", f"SELECT {SHARED}")
    assert flags_of(r, 6) == {"\\Flagged", "$Kw"}
    # the copies beyond the first four go again
    grant(srv, "lrite")
    r.cmd("S", f"SELECT {SHARED}")
    r.cmd("T", "STORE 5:6 +FLAGS (\\Deleted)")
    assert r.cmd("E", "EXPUNGE").count("* 5 EXPUNGE") == 2
    # MOVE out of a shared mailbox needs "t" and "e" there
    grant(srv, "lri")
    r.cmd("S", f"SELECT {SHARED}")
    assert tagged(r.cmd("M", "MOVE 4 INBOX")).startswith("NO [NOPERM]")
    grant(srv, "lrite")
    r.cmd("S", f"SELECT {SHARED}")
    assert tagged(r.cmd("M", "MOVE 4 INBOX")).startswith("OK")
    assert "* 3 EXISTS" in r.cmd("S", f"SELECT {SHARED}")


def test_create_delete_rename_post(srv):
    r = raw(srv, OTHER)
    grant(srv, "lr")
    sub = f"{SHARED}/Sub"
    assert tagged(r.cmd("C", f"CREATE {sub}")).startswith("NO [NOPERM]")
    # top level of another account: never
    assert tagged(r.cmd("C", f"CREATE ~{OWNER}/Top")).startswith(
        "NO [NOPERM]")
    grant(srv, "lrk")
    assert tagged(r.cmd("C", f"CREATE {sub}")).startswith("OK")
    # the new mailbox inherits its parent's ACL (RFC 4314 §4 CREATE)
    lines = r.cmd("M", f"MYRIGHTS {sub}")
    assert lines[0] == f'* MYRIGHTS "{sub}" lrkc', lines
    assert f"{BOX}/Sub" in srv.commune.ok("mailbox", "list", OWNER)
    assert tagged(r.cmd("D", f"DELETE {sub}")).startswith("NO [NOPERM]")
    assert tagged(r.cmd("R", f"RENAME {sub} {SHARED}/Sub2")).startswith(
        "NO [NOPERM]")
    # "x": DELETE and RENAME (with "k" on the new parent)
    grant(srv, "lrkx", box=f"{BOX}/Sub")
    assert tagged(r.cmd("R", f"RENAME {sub} {SHARED}/Sub2")).startswith(
        "OK"), "k on Shared, x on Sub"
    assert tagged(r.cmd("R", f"RENAME {SHARED}/Sub2 INBOX/Sub2")
                  ).startswith("NO [CANNOT]")
    assert tagged(r.cmd("D", f"DELETE {SHARED}/Sub2")).startswith("OK")
    assert f"{BOX}/Sub" not in srv.commune.ok("mailbox", "list",
                                                   OWNER)
    # "p" is kept and shown, not enforced by IMAP (RFC 4314 §2.1)
    grant(srv, "lrp")
    assert r.cmd("M", f"MYRIGHTS {SHARED}")[0] == \
        f'* MYRIGHTS "{SHARED}" lrp'


def test_admin_and_rights_letters(srv):
    r = raw(srv, OTHER)
    grant(srv, "lr")
    for cmd in (f"GETACL {SHARED}", f"SETACL {SHARED} {OTHER} +a",
                f"DELETEACL {SHARED} {OTHER}",
                f"LISTRIGHTS {SHARED} anyone"):
        assert tagged(r.cmd("A", cmd)).startswith("NO [NOPERM]"), cmd
    # obsolete "c" and "d" (RFC 4314 §2.1.1: c = k, d = xte)
    grant(srv, "lrcda")
    lines = r.cmd("G", f"GETACL {SHARED}")
    assert lines[0] == f'* ACL "{SHARED}" "{OWNER}" lrswipkxteacd ' \
                       f'"{OTHER}" lrkxteacd', lines
    lines = r.cmd("L", f"LISTRIGHTS {SHARED} Anyone")
    assert lines[0] == (f'* LISTRIGHTS "{SHARED}" "Anyone" "" '
                        "l r s w i p k x t e a c d"), lines
    lines = r.cmd("L", f"LISTRIGHTS {SHARED} {OWNER}")
    assert lines[0] == f'* LISTRIGHTS "{SHARED}" "{OWNER}" lrswipkxtea'
    # with "a" dave may grant anyone rights, not change the owner's
    assert tagged(r.cmd("S", f"SETACL {SHARED} anyone +l")).startswith("OK")
    assert tagged(r.cmd("S", f"SETACL {SHARED} {OWNER} l")).startswith(
        "NO [CANNOT]")
    assert tagged(r.cmd("S", f"SETACL {SHARED} nobody l")).startswith(
        "NO [CANNOT]")
    assert tagged(r.cmd("S", f"SETACL {SHARED} {OTHER} lrQ")).startswith(
        "BAD")
    assert tagged(r.cmd("S", f"SETACL {SHARED} -{OTHER} l")).startswith(
        "BAD")
    assert tagged(r.cmd("S", f'SETACL {SHARED} "" l')).startswith("BAD")
    # "-" removes, "+" adds
    assert tagged(r.cmd("S", f"SETACL {SHARED} {OTHER} -kxtec")).startswith(
        "OK")
    assert r.cmd("M", f"MYRIGHTS {SHARED}")[0] == \
        f'* MYRIGHTS "{SHARED}" lra'
    # anyone's rights count for everybody
    lines = r.cmd("G", f"GETACL {SHARED}")
    assert lines[0] == f'* ACL "{SHARED}" "{OWNER}" lrswipkxteacd ' \
                       f'"{OTHER}" lra "anyone" l', lines
    # own mailboxes: every right, also under the shared name
    assert r.cmd("M", "MYRIGHTS INBOX")[0] == \
        '* MYRIGHTS "INBOX" lrswipkxteacd'
    lines = r.cmd("S", f"SELECT ~{OTHER}/INBOX")
    assert tagged(lines).startswith("OK [READ-WRITE]"), lines


def test_revoke(srv):
    r = raw(srv, OTHER)
    grant(srv, "lrs")
    assert tagged(r.cmd("S", f"EXAMINE {SHARED}")).startswith("OK")
    o = raw(srv, OWNER)
    assert tagged(o.cmd("D", f"DELETEACL {BOX} {OTHER}")).startswith("OK")
    assert o.cmd("G", f"GETACL {BOX}")[0] == \
        f'* ACL "{BOX}" "{OWNER}" lrswipkxteacd'
    assert tagged(r.cmd("S", f"EXAMINE {SHARED}")).startswith(
        "NO [NONEXISTENT]")
    assert r.cmd("L", 'LIST "" "~*"') == ["L OK LIST completed."]


def test_cli_acl_and_storage(srv):
    c = srv.commune
    c.ok("mailbox", "acl", OWNER, BOX, OTHER, "lr")
    c.ok("mailbox", "acl", OWNER, BOX, "anyone", "+l")
    assert c.ok("mailbox", "acl", OWNER, BOX) == \
        f"{OTHER}\tlr\nanyone\tl\n"
    c.ok("mailbox", "acl", OWNER, BOX, OTHER, "+kd")
    assert c.ok("mailbox", "acl", OWNER, BOX).startswith(
        f"{OTHER}\tlrkxtecd\n")
    r = raw(srv, OTHER)
    assert tagged(r.cmd("S", f"EXAMINE {SHARED}")).startswith("OK")
    # kept in account.info with the mailbox's entry, letters only
    info = open(os.path.join(c.base, "Accounts", "alice.macnt",
                             "account.info")).read()
    assert re.search(r"ACL = \{\s*dave = lrkxte;\s*anyone = l;\s*\};", info)
    # a rewrite of the entry (a new keyword) keeps it; RENAME moves it
    o = raw(srv, OWNER)
    o.cmd("S", f"SELECT {BOX}")
    assert tagged(o.cmd("T", "STORE 1 +FLAGS (NewKeyword)")).startswith("OK")
    o.cmd("U", "UNSELECT")
    assert tagged(o.cmd("R", f"RENAME {BOX} Moved")).startswith("OK")
    assert c.ok("mailbox", "acl", OWNER, "Moved").startswith(
        f"{OTHER}\tlrkxtecd\n")
    assert tagged(r.cmd("S", f"EXAMINE ~{OWNER}/Moved")).startswith("OK")
    c.ok("mailbox", "acl", OWNER, "Moved", OTHER, "none")
    assert c.ok("mailbox", "acl", OWNER, "Moved") == "anyone\tl\n"
    # usage and refusals
    assert c.run("mailbox", "acl", OWNER, "Moved", OTHER, "lrQ"
                 ).returncode == 2
    assert c.run("mailbox", "acl", OWNER, "Moved", OTHER).returncode == 2
    assert c.run("mailbox", "acl", OWNER, "Nope").returncode == 1
    assert c.run("mailbox", "acl", OWNER, "Moved", "nobody", "l"
                 ).returncode == 1
    assert c.run("mailbox", "acl", OWNER, "Moved", OWNER, "l"
                 ).returncode == 1
    # DELETE takes the ACL with it (RFC 4314 §4)
    c.ok("mailbox", "delete", OWNER, "Moved")
    c.ok("mailbox", "create", OWNER, "Moved")
    assert c.ok("mailbox", "acl", OWNER, "Moved") == ""


HOSTILE = ["~", "~/x", "~alice", "~alice/", "~alice//x", "~alice/../x",
           "~../x", "~alice/.x", "~alice/x/../../y", "~alice/~dave/x",
           "~alice/x.mbox", "~/etc/passwd", "~alice/" + "a" * 600,
           "~" + "b" * 400 + "/x", '"~alice/a\\\\b"']


def test_hostile_shared_names(srv):
    grant(srv, "lrswipkxtea")
    r = raw(srv, OTHER)
    before = sorted(os.listdir(os.path.join(srv.commune.base,
                                            "Accounts")))
    for name in HOSTILE:
        for cmd in ("SELECT {}", "CREATE {}", "DELETE {}",
                    "STATUS {} (MESSAGES)", "GETACL {}",
                    "SETACL {} anyone lr", "RENAME {} INBOX/x",
                    "APPEND {} {{1+}}\r\nx\r\n", "MYRIGHTS {}"):
            lines = r.cmd("H", cmd.format(name))
            assert tagged(lines).startswith(("NO", "BAD")), (cmd, name,
                                                              lines)
    lines = r.cmd("L", 'LIST "" "~alice/../*"')
    assert tagged(lines).startswith("OK") and len(lines) == 1, lines
    assert sorted(os.listdir(os.path.join(srv.commune.base,
                                          "Accounts"))) == before
    for acct in ("alice", "dave"):
        p = srv.commune.run("check", acct)
        assert p.returncode == 0, p.stdout + p.stderr
    assert tagged(r.cmd("N", "NOOP")).startswith("OK")


def test_subscribe_shared(srv):
    """SUBSCRIBE needs no right (RFC 4314 §4); LSUB shows the name."""
    grant(srv, "lr")
    r = raw(srv, OTHER)
    assert tagged(r.cmd("S", f"SUBSCRIBE {SHARED}")).startswith("OK")
    assert tagged(r.cmd("S", f"SUBSCRIBE ~{OWNER}/inbox")).startswith("OK")
    lines = r.cmd("L", 'LSUB "" "*"')
    assert f'* LSUB () "/" "{SHARED}"' in lines, lines
    assert f'* LSUB () "/" "~{OWNER}/INBOX"' in lines, lines
    lines = r.cmd("L", 'LIST (SUBSCRIBED) "" "~*"')
    assert f'* LIST (\\Subscribed \\HasNoChildren) "/" "{SHARED}"' \
        in lines, lines
    assert srv.commune.ok("mailbox", "subscriptions", OTHER) == \
        f"~{OWNER}/INBOX\n{SHARED}\n"
    assert tagged(r.cmd("U", f"UNSUBSCRIBE {SHARED}")).startswith("OK")
    for name in ("~alice/../x", "~/x", "~alice"):
        assert tagged(r.cmd("S", f"SUBSCRIBE {name}")).startswith("NO")
    assert srv.commune.ok("mailbox", "subscriptions", OTHER) == \
        f"~{OWNER}/INBOX\n"


def test_concurrent_owner_and_sharer(srv):
    """Owner and sharer append to and flag one mailbox at once: the
    owner's account lock keeps them apart."""
    import threading
    grant(srv, "lrswite")
    errors = []

    def worker(user, name, tag):
        try:
            r = raw(srv, user)
            for i in range(15):
                lines = r.cmd("A", f"APPEND {name} (\\Seen) {{8+}}\r\n"
                                   f"{tag}-{i:04d}\r\n")
                assert tagged(lines).startswith("OK [APPENDUID"), lines
            r.cmd("S", f"SELECT {name}")
            lines = r.cmd("T", "STORE 1:* +FLAGS.SILENT ($" + tag + ")")
            assert tagged(lines).startswith("OK"), lines
            r.cmd("Z", "LOGOUT")
        except Exception as e:      # reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=a) for a in
               ((OWNER, BOX, "own"), (OTHER, SHARED, "oth"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert not any(t.is_alive() for t in threads)
    r = raw(srv, OTHER)
    lines = r.cmd("S", f"EXAMINE {SHARED}")
    assert "* 32 EXISTS" in lines, lines
    p = srv.commune.run("check", OWNER)
    assert p.returncode == 0, p.stdout + p.stderr


def test_status_items_of_shared(srv):
    """STATUS MAILBOXID and DELETED-STORAGE are the owner's mailbox's."""
    grant(srv, "lr")
    o = raw(srv, OWNER)
    o.cmd("S", f"SELECT {BOX}")
    o.cmd("T", "STORE 1 +FLAGS.SILENT (\\Deleted)")
    items = "(MESSAGES MAILBOXID DELETED-STORAGE)"
    own = o.cmd("S", f"STATUS {BOX} {items}")[0]
    r = raw(srv, OTHER)
    lines = r.cmd("S", f"STATUS {SHARED} {items}")
    assert tagged(lines).startswith("OK"), lines
    assert lines[0].split(" (", 1)[1] == own.split(" (", 1)[1], \
        (lines, own)
    assert re.search(r"DELETED-STORAGE [1-9]", own), own
