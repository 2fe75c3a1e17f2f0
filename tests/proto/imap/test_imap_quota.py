# SPDX-License-Identifier: MIT
"""QUOTA (RFC 9208) through the real `commune serve`: GETQUOTA,
GETQUOTAROOT, SETQUOTA refused, the untagged QUOTA sent with
NO [OVERQUOTA] by APPEND, COPY and MOVE, STATUS DELETED-STORAGE, and
the limits set with `commune account quota` while the server runs.
Nothing refused is stored; the server stays up."""
import re

from imap_helpers import Raw, deliver, message

QUOTA_RE = re.compile(r'^\* QUOTA "" \((.*)\)$')


def quota_of(lines):
    """{resource: (used, limit)} of the one untagged QUOTA in lines."""
    found = [QUOTA_RE.match(l) for l in lines]
    found = [m for m in found if m]
    assert len(found) == 1, lines
    words = found[0].group(1).split()
    return {words[i]: (int(words[i + 1]), int(words[i + 2]))
            for i in range(0, len(words), 3)}


def kib(n):
    return (n + 1023) // 1024


def cli_quota(commune, account):
    """{storage|messages: (used, limit or None)} from the CLI."""
    out = {}
    for line in commune.ok("account", "quota", account).splitlines():
        what, used, limit = line.split("\t")
        out[what] = (int(used), None if limit == "unlimited" else int(limit))
    return out


def append(c, tag, data, box="INBOX", flags=""):
    c.send(f"{tag} APPEND {box} {flags}{{{len(data)}+}}\r\n".encode() + data
           + b"\r\n")
    return c.until_tagged(tag)


def messages(c, box="INBOX"):
    lines = c.cmd("S", f"STATUS {box} (MESSAGES)")
    assert lines[-1].startswith("S OK"), lines
    return int(re.search(r"MESSAGES (\d+)", lines[0]).group(1))


def test_capability_and_no_limits(imap):
    c = Raw(imap)
    caps = c.cmd("C", "CAPABILITY")[0].split()
    for cap in ("QUOTA", "QUOTA=RES-STORAGE", "QUOTA=RES-MESSAGE"):
        assert cap in caps
    assert "QUOTASET" not in caps
    c.login()
    # no limit: no quota root (RFC 9208 allows a mailbox with none)
    lines = c.cmd("A", "GETQUOTAROOT INBOX")
    assert lines == ['* QUOTAROOT "INBOX"', "A OK GETQUOTAROOT completed."]
    lines = c.cmd("B", 'GETQUOTA ""')
    assert lines[-1].startswith("B NO [NONEXISTENT]"), lines
    c.close()


def test_getquota_reports_usage(imap, accounts):
    deliver(accounts, "alice", message("one", "x" * 3000))
    deliver(accounts, "alice", message("two"))
    accounts.ok("mailbox", "create", "alice", "Archive", "--format", "mdir")
    deliver(accounts, "alice", message("three", "y" * 5000), "--mailbox",
            "Archive")
    accounts.ok("account", "quota", "alice", "--storage", "1M",
                "--messages", "10")
    cli = cli_quota(accounts, "alice")
    assert cli["messages"] == (3, 10)
    c = Raw(imap)
    c.login()
    lines = c.cmd("A", "GETQUOTAROOT Archive")
    assert lines[0] == '* QUOTAROOT "Archive" ""'
    q = quota_of(lines)
    # STORAGE in units of 1024 octets (RFC 9208 §5.1), a part counting
    # as a whole (as Dovecot); every mailbox of the account counts
    assert q["STORAGE"] == (kib(cli["storage"][0]), 1024)
    assert cli["storage"][0] > 8000
    assert q["MESSAGE"] == (3, 10)
    lines = c.cmd("B", 'GETQUOTA ""')
    assert lines[-1] == "B OK GETQUOTA completed."
    assert quota_of(lines) == q
    # only the resources that have a limit are listed
    accounts.ok("account", "quota", "alice", "--storage", "unlimited")
    assert quota_of(c.cmd("D", 'GETQUOTA ""')) == {"MESSAGE": (3, 10)}
    assert c.cmd("E", 'GETQUOTA "other"')[-1].startswith(
        "E NO [NONEXISTENT]")
    assert c.cmd("F", "GETQUOTAROOT Nope")[-1].startswith(
        "F NO [NONEXISTENT]")
    assert c.cmd("G", "GETQUOTA")[-1].startswith("G BAD")
    assert c.cmd("H", "GETQUOTAROOT")[-1].startswith("H BAD")
    c.close()


def test_append_over_message_limit(imap, accounts):
    accounts.ok("account", "quota", "alice", "--messages", "2")
    c = Raw(imap)
    c.login()
    assert append(c, "A1", message("1"))[-1].startswith("A1 OK")
    assert append(c, "A2", message("2"))[-1].startswith("A2 OK")
    lines = append(c, "A3", message("3"))
    assert lines[-1].startswith("A3 NO [OVERQUOTA]"), lines
    assert quota_of(lines) == {"MESSAGE": (2, 2)}
    assert messages(c) == 2
    # MULTIAPPEND is all or none
    accounts.ok("account", "quota", "alice", "--messages", "3")
    m = message("m")
    c.send(f"A4 APPEND INBOX {{{len(m)}+}}\r\n".encode() + m +
           f" {{{len(m)}+}}\r\n".encode() + m + b"\r\n")
    assert c.until_tagged("A4")[-1].startswith("A4 NO [OVERQUOTA]")
    assert messages(c) == 2
    assert append(c, "A5", message("5"))[-1].startswith("A5 OK")
    assert c.cmd("N", "NOOP")[-1].startswith("N OK")
    c.close()
    assert cli_quota(accounts, "alice")["messages"] == (3, 3)


def test_storage_limit_and_expunge_frees(imap, accounts):
    accounts.ok("account", "quota", "alice", "--storage", "10K")
    c = Raw(imap)
    c.login()
    big = message("big", "z" * 6000)
    assert append(c, "A1", big)[-1].startswith("A1 OK")
    lines = append(c, "A2", big)
    assert lines[-1].startswith("A2 NO [OVERQUOTA]"), lines
    used, limit = quota_of(lines)["STORAGE"]
    assert limit == 10 and used == kib(len(big))
    assert messages(c) == 1
    # STATUS DELETED and DELETED-STORAGE: what an expunge would free
    assert c.cmd("S", "SELECT INBOX")[-1].startswith("S OK")
    assert c.cmd("F", "STORE 1 +FLAGS (\\Deleted)")[-1].startswith("F OK")
    lines = c.cmd("T", "STATUS INBOX (DELETED DELETED-STORAGE SIZE)")
    assert lines[0] == ('* STATUS "INBOX" (DELETED 1 '
                        f"SIZE {len(big)} "
                        f"DELETED-STORAGE {kib(len(big))})"), lines
    assert c.cmd("X", "EXPUNGE")[-1].startswith("X OK")
    lines = c.cmd("T2", "STATUS INBOX (DELETED-STORAGE)")
    assert lines[0] == '* STATUS "INBOX" (DELETED-STORAGE 0)'
    assert append(c, "A3", big)[-1].startswith("A3 OK")
    c.close()


def test_copy_and_move(imap, accounts):
    accounts.ok("mailbox", "create", "alice", "Other")
    for i in range(2):
        deliver(accounts, "alice", message(f"m{i}"))
    accounts.ok("account", "quota", "alice", "--messages", "3")
    c = Raw(imap)
    c.login()
    assert c.cmd("S", "SELECT INBOX")[-1].startswith("S OK")
    lines = c.cmd("C1", "COPY 1:2 Other")
    assert lines[-1].startswith("C1 NO [OVERQUOTA]"), lines
    assert quota_of(lines) == {"MESSAGE": (2, 3)}
    assert messages(c, "Other") == 0
    assert c.cmd("C2", "UID COPY 1 Other")[-1].startswith("C2 OK")
    # at the limit a move inside the account still works: it adds
    # nothing
    lines = c.cmd("M1", "MOVE 2 Other")
    assert lines[-1].startswith("M1 OK"), lines
    assert messages(c, "Other") == 2
    lines = c.cmd("C3", "COPY 1 Other")
    assert lines[-1].startswith("C3 NO [OVERQUOTA]"), lines
    c.close()


def test_setquota_refused(imap, accounts):
    accounts.ok("account", "quota", "alice", "--messages", "5")
    c = Raw(imap)
    c.login()
    lines = c.cmd("A", 'SETQUOTA "" (STORAGE 100 MESSAGE 1)')
    assert lines[-1].startswith("A NO [NOPERM]"), lines
    for bad in ('SETQUOTA ""', 'SETQUOTA "" (STORAGE)',
                'SETQUOTA "" (STORAGE x)', 'SETQUOTA "" (STORAGE -1)',
                'SETQUOTA "" (STORAGE 99999999999999999999)',
                'SETQUOTA "" STORAGE 1',
                'SETQUOTA "" (' + " ".join(["MESSAGE 1"] * 17) + ")"):
        assert c.cmd("B", bad)[-1].startswith("B BAD"), bad
    assert cli_quota(accounts, "alice")["messages"] == (0, 5)
    assert c.cmd("N", "NOOP")[-1].startswith("N OK")
    c.close()


def test_single_mailbox_account(imap, accounts):
    accounts.ok("account", "quota", "bob", "--messages", "1")
    c = Raw(imap)
    c.login("bob")
    assert append(c, "A1", message("1"))[-1].startswith("A1 OK")
    lines = append(c, "A2", message("2"))
    assert lines[-1].startswith("A2 NO [OVERQUOTA]"), lines
    lines = c.cmd("Q", "GETQUOTAROOT INBOX")
    assert lines[0] == '* QUOTAROOT "INBOX" ""'
    assert quota_of(lines) == {"MESSAGE": (1, 1)}
    c.close()


DOVECOT_QUOTA = """
mail_plugins = $mail_plugins quota
protocol imap {
  mail_plugins = $mail_plugins imap_quota
}
plugin {
  quota = count:User quota
  quota_rule = *:storage=10K:messages=3
  quota_vsizes = yes
}
"""


def sized(subject, size):
    """A CRLF message of exactly size bytes."""
    head = message(subject, "")
    return head + b"x" * (size - len(head) - 2) + b"\r\n"


def outcome(lines):
    """A tagged reply reduced to its status and response code, and the
    resources of the QUOTA responses (the root names differ: Dovecot
    calls its root "User quota")."""
    tagged = lines[-1].split(" ", 1)[1]
    status = " ".join(tagged.split()[:2]) if tagged.startswith("NO [") \
        else tagged.split()[0]
    quotas = [re.sub(r'^\* QUOTA (""|"[^"]*") ', "", l)
              for l in lines if l.startswith("* QUOTA ")]
    return status, quotas


def test_against_dovecot(imap, accounts, monkeypatch):
    """The same answers as a private Debian Dovecot with the count quota
    backend and the same limits (10 KiB, 3 messages): which APPENDs and
    COPYs fit (a message that fills the limit exactly does, one byte
    more does not), the usage GETQUOTAROOT reports, and room again after
    EXPUNGE."""
    import dovecot_oracle

    monkeypatch.setattr(dovecot_oracle, "CONF", dovecot_oracle.CONF +
                        DOVECOT_QUOTA.replace("{", "{{")
                        .replace("}", "}}"))
    accounts.ok("account", "quota", "alice", "--storage", "10K",
                "--messages", "3")
    steps = [("append", sized("a", 4000)), ("append", sized("b", 4000)),
             ("append", sized("c", 2241)), ("quota", None),
             ("append", sized("d", 2240)), ("quota", None),
             ("append", sized("e", 10)), ("copy", "1"),
             ("delete", "1"), ("quota", None), ("append", sized("f", 10)),
             ("append", sized("g", 4001)), ("quota", None)]

    def run(c):
        got = []
        assert c.cmd("c", "CREATE Other")[-1].startswith("c OK")
        assert c.cmd("s", "SELECT INBOX")[-1].startswith("s OK")
        for i, (what, arg) in enumerate(steps):
            tag = f"T{i}"
            if what == "append":
                lines = append(c, tag, arg)
            elif what == "copy":
                lines = c.cmd(tag, f"COPY {arg} Other")
            elif what == "delete":
                assert c.cmd("d", f"STORE {arg} +FLAGS.SILENT (\\Deleted)"
                             )[-1].startswith("d OK")
                lines = c.cmd(tag, "EXPUNGE")
            else:
                lines = c.cmd(tag, "GETQUOTAROOT INBOX")
            status, quotas = outcome(lines)
            if what != "quota":
                quotas = []     # Dovecot sends no QUOTA with its NO
            got.append((what, status, quotas))
        return got

    with dovecot_oracle.Dovecot() as dv:
        class Peer:
            def connect(self, proto, timeout=30):
                return dv.connect(timeout)
        theirs = Raw(Peer())
        theirs.login(dovecot_oracle.USER, dovecot_oracle.PASSWORD)
        expected = run(theirs)
        theirs.close()
    ours = Raw(imap)
    ours.login()
    got = run(ours)
    ours.close()
    assert got == expected
    # and the answers are the interesting ones
    assert [s for _, s, _ in got if s != "OK"] == ["NO [OVERQUOTA]"] * 4
