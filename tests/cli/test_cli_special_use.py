# SPDX-License-Identifier: MIT
"""`commune mailbox use`: a mailbox's RFC 6154 special use from the
command line, the same value IMAP LIST shows (tests/proto/imap)."""


def test_mailbox_use(commune):
    commune.ok("account", "create", "john")
    commune.ok("mailbox", "create", "john", "Sent")
    commune.ok("mailbox", "create", "john", "Stuff")
    assert commune.ok("mailbox", "use", "john", "Sent") == "\\Sent\n"
    assert commune.ok("mailbox", "use", "john", "Stuff") == "-\n"
    commune.ok("mailbox", "use", "john", "Stuff", "\\Archive", "junk")
    assert commune.ok("mailbox", "use", "john", "Stuff") == \
        "\\Archive \\Junk\n"
    # the administrator may also set the virtual ones
    commune.ok("mailbox", "use", "john", "Stuff", "All")
    assert commune.ok("mailbox", "use", "john", "Stuff") == "\\All\n"
    commune.ok("mailbox", "use", "john", "Sent", "none")
    assert commune.ok("mailbox", "use", "john", "Sent") == "-\n"
    # a rename keeps it
    commune.ok("mailbox", "rename", "john", "Stuff", "Things")
    assert commune.ok("mailbox", "use", "john", "Things") == "\\All\n"
    # usage errors touch nothing; unknown mailboxes are refused
    p = commune.run("mailbox", "use", "john", "Things", "Bogus")
    assert p.returncode == 2 and b"unknown special use" in p.stderr
    p = commune.run("mailbox", "use", "john", "Things", "Sent", "none")
    assert p.returncode == 2
    assert commune.ok("mailbox", "use", "john", "Things") == "\\All\n"
    p = commune.run("mailbox", "use", "john", "Nope")
    assert p.returncode == 1
    p = commune.run("mailbox", "use", "john", "Nope", "Sent")
    assert p.returncode == 1
