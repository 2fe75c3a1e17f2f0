# SPDX-License-Identifier: MIT
"""Sessions between commands and in IDLE keep no mailbox file open (so
10,000 idle sessions need 10,000 descriptors, not 20,000: docs/
performance.md), yet read their messages after IDLE, also when another
process rewrote the .mbox meanwhile."""
import os
import time

from imap_helpers import Raw, deliver, message

SESSIONS = 20


def mbox_fds(pid, path):
    """Descriptors of process pid open on path."""
    n = 0
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        try:
            if os.readlink(os.path.join(fd_dir, fd)) == path:
                n += 1
        except OSError:
            pass
    return n


def wait_for(cond, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def test_idle_sessions_hold_no_mailbox_file(imap, base):
    path = os.path.realpath(os.path.join(base, "Accounts", "bob.mbox"))
    pid = imap.proc.pid
    sessions = []
    for i in range(SESSIONS):
        c = Raw(imap)
        c.login("bob")
        assert c.cmd("S", "SELECT INBOX")[-1].startswith("S OK")
        c.send("I IDLE\r\n")
        assert c.line().startswith("+ ")
        sessions.append(c)
    assert wait_for(lambda: mbox_fds(pid, path) == 0), \
        mbox_fds(pid, path)
    for c in sessions:
        c.send("DONE\r\n")
        assert c.until_tagged("I")[-1].startswith("I OK")
        c.cmd("L", "LOGOUT")


def test_fetch_after_idle_and_rewrite(imap, accounts, base):
    for i in range(3):
        deliver(accounts, "bob", message(f"m{i}"))
    c = Raw(imap)
    c.login("bob")
    assert c.cmd("S", "SELECT INBOX")[-1].startswith("S OK")
    c.send("I IDLE\r\n")
    assert c.line().startswith("+ ")
    time.sleep(0.3)
    c.send("DONE\r\n")
    assert c.until_tagged("I")[-1].startswith("I OK")
    # the file is opened again for a read
    lines = c.cmd("F", "FETCH 2 BODY.PEEK[HEADER.FIELDS (SUBJECT)]")
    assert lines[-1].startswith("F OK") and "m1" in " ".join(lines)
    # another process expunges message 1 (an .mbox rewrite: new file)
    # while the session idles; it still reads message 3 afterwards
    c.send("I2 IDLE\r\n")
    assert c.line().startswith("+ ")
    accounts.ok("message", "flag", "bob", "INBOX", "1", "+\\Deleted")
    accounts.ok("message", "expunge", "bob", "INBOX")
    seen = []
    while not any("EXPUNGE" in l for l in seen):
        seen.append(c.line())
    c.send("DONE\r\n")
    assert c.until_tagged("I2")[-1].startswith("I2 OK")
    lines = c.cmd("F2", "FETCH 2 BODY.PEEK[HEADER.FIELDS (SUBJECT)]")
    assert lines[-1].startswith("F2 OK") and "m2" in " ".join(lines)
    c.cmd("L", "LOGOUT")
