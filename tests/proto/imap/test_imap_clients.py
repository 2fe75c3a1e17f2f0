# SPDX-License-Identifier: MIT
"""Real IMAP clients from Debian against `commune serve`: mbsync
(isync) syncing an account to a local Maildir and back again, curl
over imaps:// and STARTTLS, and openssl s_client -starttls imap."""
import os
import shutil
import subprocess

import pytest

from imap_helpers import PW, deliver, message



def listing(commune, box):
    """[(uid, flags, subject)] of one of alice's mailboxes."""
    rows = []
    for line in commune.ok("message", "list", "alice", box).splitlines():
        f = line.split("\t")
        if f and f[0].isdigit():
            rows.append((int(f[0]), f[1], f[-1]))
    return rows


def mbsync(rc):
    p = subprocess.run(["mbsync", "-c", str(rc), "-a"], capture_output=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr.decode(errors="replace")


@pytest.mark.skipif(shutil.which("mbsync") is None,
                    reason="isync (mbsync) not installed")
def test_mbsync_both_ways(imap, accounts, tmp_path):
    for i in range(3):
        deliver(accounts, "alice", message(f"m{i}"))
    accounts.ok("mailbox", "create", "alice", "Work/Projects")
    mail = tmp_path / "mail"
    mail.mkdir()
    rc = tmp_path / "mbsyncrc"
    rc.write_text(f"""IMAPAccount t
Host 127.0.0.1
Port {imap.ports['imap']}
User alice
Pass {PW}
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account t

MaildirStore local
Path {mail}/
Inbox {mail}/INBOX
SubFolders Verbatim

Channel c
Far :remote:
Near :local:
Patterns *
Create Both
Expunge Both
SyncState *
""")
    mbsync(rc)
    inbox = mail / "INBOX"
    files = sorted(os.listdir(inbox / "new"))
    assert len(files) == 3
    assert (mail / "Work" / "Projects").is_dir()
    # Back: a new local message, a flag change and a deletion.
    (mail / "Work" / "Projects" / "new" / "1.local").write_bytes(
        message("local"))
    first = [f for f in files if "U=1:" in f][0]
    os.rename(inbox / "new" / first, inbox / "cur" / (first + "FS"))
    os.unlink(inbox / "new" / [f for f in files if "U=2:" in f][0])
    mbsync(rc)
    assert listing(accounts, "INBOX") == [(1, "(\\Seen \\Flagged)", "m0"),
                                          (3, "()", "m2")]
    assert [r[2] for r in listing(accounts, "Work/Projects")] == ["local"]
    # Again: nothing changes on either side, nothing is duplicated.
    mbsync(rc)
    assert len(listing(accounts, "INBOX")) == 2
    assert len(listing(accounts, "Work/Projects")) == 1
    local = [f for d in ("new", "cur") for f in os.listdir(inbox / d)]
    assert len(local) == 2


def test_curl_imaps_and_starttls(tls_imap, accounts):
    deliver(accounts, "alice", message("over tls", "Secret body.\r\n"))
    for url, extra in ((f"imaps://127.0.0.1:{tls_imap.ports['imaps']}"
                        f"/INBOX;UID=1", []),
                       (f"imap://127.0.0.1:{tls_imap.ports['imap']}"
                        f"/INBOX;UID=1", ["--ssl-reqd"])):
        p = subprocess.run(["curl", "-s", "-k", "--max-time", "30", "-u",
                            f"alice:{PW}", *extra, url],
                           capture_output=True, timeout=60)
        assert p.returncode == 0, (url, p.stderr)
        assert p.stdout == message("over tls", "Secret body.\r\n")


def test_openssl_s_client_starttls(tls_imap):
    p = subprocess.run(["openssl", "s_client", "-connect",
                        f"127.0.0.1:{tls_imap.ports['imap']}",
                        "-starttls", "imap", "-quiet"],
                       input=b"a CAPABILITY\r\nb LOGOUT\r\n",
                       capture_output=True, timeout=60)
    out = p.stdout.decode(errors="replace")
    assert "AUTH=PLAIN" in out and "STARTTLS" not in out.split(
        "* CAPABILITY", 1)[1], out
    assert "b OK Logout completed." in out
