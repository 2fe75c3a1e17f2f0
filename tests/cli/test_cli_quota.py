# SPDX-License-Identifier: MIT
"""`commune account quota` and the CLI's commands that add messages
(deliver, import, message copy/move) on accounts over quota: usage and
limits printed, limits set and inherited from AccountDefaults, refusals
with a clear message on stderr and exit status 75 (EX_TEMPFAIL, as
docs/cli.md says for over quota) with nothing changed."""
import hashlib
import os

EXIT_USAGE = 2
EXIT_TEMPFAIL = 75


def msg(subject, body="body\n"):
    return (f"From: a@example.org\nTo: b@example.org\nSubject: {subject}\n"
            f"\n{body}").encode()


def mail_files(base):
    """Mailbox files and settings with their content hashes: not the
    caches (index, expunge history, header cache), which any command
    may write, nor account.info, whose counters may only grow
    (docs/architecture.md, "Failed operations change nothing")."""
    out = {}
    for root, _, files in os.walk(base):
        for f in files:
            if f.endswith((".idx", ".exp", ".cache", ".lock")) or \
                    f == "account.info":
                continue
            p = os.path.join(root, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, base)] = hashlib.sha256(
                    fh.read()).hexdigest()
    return out


def quota(commune, account, *args):
    out = {}
    for line in commune.ok("account", "quota", account,
                           *args).splitlines():
        what, used, limit = line.split("\t")
        out[what] = (int(used), limit)
    return out


def deliver(commune, account, data, *args):
    return commune.run("deliver", account, *args, input=data)


def test_quota_show_and_set(commune):
    commune.ok("account", "create", "john")
    assert quota(commune, "john") == {"storage": (0, "unlimited"),
                                      "messages": (0, "unlimited")}
    m = msg("one")
    assert deliver(commune, "john", m).returncode == 0
    q = quota(commune, "john", "--storage", "1M", "--messages", "100")
    assert q["storage"][1] == "1048576"
    assert q["messages"] == (1, "100")
    # the stored bytes, as `mailbox list` counts them
    inbox = commune.ok("mailbox", "list", "john").splitlines()[0]
    assert q["storage"][0] == int(inbox.split("\t")[5])
    settings = open(os.path.join(commune.base, "Accounts", "john.macnt",
                                 "account.settings")).read()
    assert "MaxAccountSize = 1M;" in settings
    assert "MaxMessages = 100;" in settings
    # a bad value is a usage error and changes nothing, even when the
    # other one is good
    before = mail_files(commune.base)
    for args in (["--storage", "1X"], ["--messages", "5K"],
                 ["--storage", "5", "--messages", "-1"], ["--storage"]):
        p = commune.run("account", "quota", "john", *args)
        assert p.returncode == EXIT_USAGE, args
        assert b"commune:" in p.stderr
    assert mail_files(commune.base) == before
    assert commune.run("account", "quota", "nobody").returncode == 1
    assert quota(commune, "john", "--storage", "default",
                 "--messages", "unlimited") == {
        "storage": (q["storage"][0], "unlimited"),
        "messages": (1, "unlimited")}


def test_domain_and_server_defaults(commune):
    commune.ok("domain", "create", "example.org")
    commune.ok("account", "create", "john")
    commune.ok("account", "create", "mary@example.org")
    with open(os.path.join(commune.base, "Settings",
                           "AccountDefaults.settings"), "w") as f:
        f.write("{ MaxMessages = 3; MaxAccountSize = 10K; }\n")
    os.mkdir(os.path.join(commune.base, "Domains", "example.org",
                          "Settings"))
    with open(os.path.join(commune.base, "Domains", "example.org",
                           "Settings", "AccountDefaults.settings"),
              "w") as f:
        f.write("{ MaxMessages = 1; }\n")
    assert quota(commune, "john")["messages"] == (0, "3")
    assert quota(commune, "mary@example.org") == {
        "storage": (0, "10240"), "messages": (0, "1")}
    assert deliver(commune, "mary@example.org", msg("1")).returncode == 0
    p = deliver(commune, "mary@example.org", msg("2"))
    assert p.returncode == EXIT_TEMPFAIL
    # the domain's defaults file is no account
    assert commune.ok("account", "list", "example.org").split() == [
        "mary@example.org"]


def test_deliver_over_quota(commune):
    commune.ok("account", "create", "john", "--type", "mdir")
    commune.ok("account", "quota", "john", "--messages", "2")
    for i in range(2):
        assert deliver(commune, "john", msg(f"m{i}")).returncode == 0
    before = mail_files(commune.base)
    p = deliver(commune, "john", msg("m2"))
    assert p.returncode == EXIT_TEMPFAIL
    err = p.stderr.decode()
    assert err.startswith("commune: Over quota: account john holds 2 of 2 "
                          "messages"), err
    assert p.stdout == b""
    assert mail_files(commune.base) == before
    commune.ok("account", "quota", "john", "--storage", "100")
    commune.ok("account", "quota", "john", "--messages", "default")
    p = deliver(commune, "john", msg("big", "x" * 200))
    assert p.returncode == EXIT_TEMPFAIL
    assert "bytes" in p.stderr.decode()


def test_import_over_quota_imports_nothing(commune, tmp_path):
    commune.ok("account", "create", "john")
    commune.ok("account", "quota", "john", "--messages", "3")
    mbox = tmp_path / "in.mbox"
    with open(mbox, "wb") as f:
        for i in range(5):
            f.write(b"From a@example.org Mon Jan  1 00:00:00 2024\n" +
                    msg(f"i{i}") + b"\n")
    before = mail_files(commune.base)
    p = commune.run("import", "john", "Imported", mbox)
    assert p.returncode == EXIT_TEMPFAIL, p.stderr
    assert b"Over quota" in p.stderr
    assert mail_files(commune.base) == before
    assert "Imported" not in commune.ok("mailbox", "list", "john")
    commune.ok("account", "quota", "john", "--messages", "5")
    commune.ok("import", "john", "Imported", mbox)
    assert quota(commune, "john")["messages"] == (5, "5")


def test_copy_and_move_over_quota(commune):
    commune.ok("account", "create", "john")
    commune.ok("account", "create", "mary")
    commune.ok("mailbox", "create", "john", "Other", "--format", "mdir")
    for i in range(2):
        assert deliver(commune, "john", msg(f"m{i}")).returncode == 0
    commune.ok("account", "quota", "john", "--messages", "2")
    before = mail_files(commune.base)
    p = commune.run("message", "copy", "john", "INBOX", "1", "Other")
    assert p.returncode == EXIT_TEMPFAIL
    assert p.stderr.startswith(b"commune: Over quota")
    assert mail_files(commune.base) == before
    # a move inside the account adds nothing
    commune.ok("message", "move", "john", "INBOX", "1", "Other")
    assert quota(commune, "john")["messages"] == (2, "2")
