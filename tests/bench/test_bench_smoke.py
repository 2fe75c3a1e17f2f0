# SPDX-License-Identifier: MIT
"""Keeps the benchmark harness (bench/) from rotting: the LMTP load
generator against the null sink, and the store rows against Commune
only, with tiny sizes. Checks that every message is accepted and stored
and that the table is produced; never checks a timing. Needs no Dovecot.
"""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BENCH = os.path.join(ROOT, "bench")
sys.path.insert(0, BENCH)

import lmtp_load  # noqa: E402
import lmtp_sink  # noqa: E402
import msggen  # noqa: E402

COMMUNE_BIN = os.environ.get("COMMUNE_BIN",
                             os.path.join(ROOT, "build", "commune"))


def test_msggen_is_deterministic_and_mixed():
    a = [msggen.mixed(i) for i in range(200)]
    assert a == [msggen.mixed(i) for i in range(200)]
    kinds = {m.split(b"Subject: [")[1].split(b"]")[0] for m in a}
    assert kinds == {b"text", b"attach", b"large"}
    for m in a:
        assert not any(line.startswith(b".") for line in m.split(b"\r\n"))


def test_load_generator_against_null_sink():
    sink = lmtp_sink.Sink().start()
    try:
        r = lmtp_load.run_load(sink.port, ["a@x", "b@x", "c@x"], n=60,
                               concurrency=3, per_conn=7, timeout=30)
    finally:
        sink.stop()
    assert r["errors"] == []
    assert r["failed"] == 0
    assert r["messages"] == 60


def test_store_rows_against_commune(tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, os.path.join(BENCH, "run.py"),
           "--side", "commune", "--commune-bin", COMMUNE_BIN,
           "--only", "lmtp-", "--only", "big-import",
           "--only", "big-list-first", "--only", "big-list-warm",
           "-n", "50", "-k", "3", "-c", "2", "--per-conn", "10",
           "--big", "200", "--repeat", "1", "--timeout", "60",
           "--tmpdir", str(tmp_path), "--out", str(out)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    table = (out / "latest.md").read_text()
    assert "| workload | Commune | Dovecot | ratio |" in table
    rows = [line for line in table.splitlines()
            if line.startswith("| ") and "workload" not in line]
    assert len(rows) == 8, table
    for line in rows:
        commune_cell = line.split("|")[2].strip()
        assert commune_cell[:1].isdigit(), line
    # Temp dirs are cleaned up: only the output directory remains.
    assert sorted(os.listdir(tmp_path)) == ["out"]


def test_imap_rows_against_commune(tmp_path):
    """Every IMAP row of bench/rows_imap.py in a tiny form (the 100-client
    mixed load aside: the 10-client one runs the same code), Commune
    only: each must produce a figure, which means every reply was OK
    and every count and byte matched."""
    out = tmp_path / "out"
    only = ["imap-append-", "imap-bodies-", "imap-meta-", "imap-search-",
            "imap-mixed10-", "imap-idle"]
    cmd = [sys.executable, os.path.join(BENCH, "run.py"),
           "--side", "commune", "--commune-bin", COMMUNE_BIN,
           "-n", "30", "--big", "300", "--idle", "60", "--repeat", "1",
           "--timeout", "60", "--tmpdir", str(tmp_path), "--out", str(out)]
    for o in only:
        cmd += ["--only", o]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    assert p.returncode == 0, p.stdout + p.stderr
    table = (out / "latest.md").read_text()
    rows = [line for line in table.splitlines()
            if line.startswith("| IMAP")]
    # 2 formats x (append, bodies, meta, 3 searches, mixed10) + idle.
    assert len(rows) == 15, table
    for line in rows:
        commune_cell = line.split("|")[2].strip()
        assert commune_cell[:1].isdigit(), line
    assert sorted(os.listdir(tmp_path)) == ["out"]


def test_imap_load_idle_sees_exists(tmp_path):
    """The IDLE holder against a real server: every connection reaches
    IDLE and then sees the EXISTS of one APPEND (so a dead connection
    fails the row)."""
    import commune
    import imap_load
    with commune.Commune(workdir=str(tmp_path / "c"), fmt="mdir",
                         users=["u1", "u2"], protocols=("imap",),
                         binary=COMMUNE_BIN) as srv:
        port = srv.ports["imap"]
        with imap_load.IdleHold(port, ["u1", "u2"], srv.password, 40,
                                procs=2, timeout=60) as hold:
            rss, pss = imap_load.rss_kib([srv.proc.pid])
            assert rss > 0 and pss > 0
            for u in ("u1", "u2"):
                r = imap_load.append(port, u, srv.password,
                                     [msggen.small(1)], timeout=30)
                assert r["messages"] == 1
            hold.check_exists()
