# SPDX-License-Identifier: MIT
"""Small helpers shared by the benchmark harness: free loopback ports,
waiting for a listener, starting and stopping processes by PID, the
machine description, and a bounded subprocess runner.

Nothing here knows about Commune or Dovecot; bench/dovecot.py and
bench/commune.py build on it, bench/run.py drives the rows.
"""
import datetime
import os
import platform
import shutil
import signal
import socket
import subprocess
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH_DIR)

# Upper bounds for every wait in the harness (seconds).
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc=None, timeout=START_TIMEOUT, what="server"):
    """Polls until 127.0.0.1:port accepts a connection.

    Raises RuntimeError when proc (a Popen) exits first or on timeout.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode} "
                               "before it listened")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} "
                       f"within {timeout:.0f} s")


def _children_of(pid):
    """PIDs whose parent is pid (from /proc), recursively."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # comm may contain spaces and parentheses: split after the last ')'.
        ppid = int(stat[stat.rfind(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c in kids.get(p, []):
            out.append(c)
            todo.append(c)
    return out


def cpu_seconds(pid):
    """User + system CPU seconds of pid, its live descendants (threads
    included) and the children it has reaped."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for i, p in enumerate([pid] + _children_of(pid)):
        try:
            with open(f"/proc/{p}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        f = stat[stat.rfind(")") + 2:].split()
        # utime, stime, cutime, cstime are fields 14-17 (1-based).
        total += int(f[11]) + int(f[12])
        total += int(f[13]) + int(f[14])
    return total / tick


def stop_pid(proc, timeout=STOP_TIMEOUT, sig=signal.SIGTERM):
    """Stops a Popen we started: sig, wait, then SIGKILL to it and to
    any children it left behind (each by its own PID)."""
    if proc is None or proc.poll() is not None:
        return
    kids = _children_of(proc.pid)
    try:
        proc.send_signal(sig)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kids = _children_of(proc.pid) or kids
        proc.kill()
        proc.wait(timeout=timeout)
    for k in kids:
        try:
            os.kill(k, signal.SIGKILL)
        except ProcessLookupError:
            pass


def run(argv, timeout, env=None, stdout=subprocess.PIPE, input=None,
        check=True, cwd=None):
    """subprocess.run with a timeout and an error that shows stderr."""
    p = subprocess.run(argv, stdout=stdout, stderr=subprocess.PIPE,
                       input=input, env=env, timeout=timeout, cwd=cwd)
    if check and p.returncode != 0:
        err = p.stderr.decode(errors="replace").strip()[-2000:]
        raise RuntimeError(f"{' '.join(map(str, argv[:4]))} ... exited "
                           f"{p.returncode}: {err}")
    return p


def timed(argv, timeout, env=None, out_path=None, cwd=None):
    """Runs argv once and returns (wall seconds, CompletedProcess).

    stdout goes to out_path (or /dev/null) so the harness never reads
    a large listing while the clock runs.
    """
    path = out_path or os.devnull
    with open(path, "wb") as out:
        t0 = time.perf_counter()
        p = run(argv, timeout, env=env, stdout=out, cwd=cwd)
        return time.perf_counter() - t0, p


def callgrind(argv, workdir, timeout, env=None, out_path=None,
              prefix=()):
    """Instructions executed by argv and every process it execs or
    forks (valgrind --tool=callgrind --trace-children=yes). prefix goes
    before valgrind (e.g. setpriv: a program that drops privileges
    after valgrind created its profile file could not write it)."""
    outfile = os.path.join(workdir, "callgrind.out")
    # The measured program may drop privileges (doveadm runs as the
    # mail user) and must still write its profile here.
    os.chmod(workdir, 0o1777)
    for f in os.listdir(workdir):
        if f.startswith("callgrind.out"):
            os.unlink(os.path.join(workdir, f))
    vg = ["valgrind", "--tool=callgrind", "--trace-children=yes",
          f"--callgrind-out-file={outfile}.%p", "--quiet"]
    with open(out_path or os.devnull, "wb") as out:
        run(list(prefix) + vg + list(argv), timeout, env=env, stdout=out)
    total = 0
    for f in os.listdir(workdir):
        if not f.startswith("callgrind.out."):
            continue
        with open(os.path.join(workdir, f)) as fh:
            for line in fh:
                if line.startswith("summary:") or line.startswith("totals:"):
                    total += int(line.split()[1])
                    break
    return total


class SyscallCounter:
    """Counts syscalls of running processes (and of every thread and
    child they have or start) with `strace -f -c`, attached by PID.
    Slows them down a lot: count with it, never time with it."""

    def __init__(self, pids, syscalls, workdir):
        self.out = os.path.join(workdir, "strace.out")
        argv = ["strace", "-f", "-c", "-o", self.out,
                "-e", "trace=" + ",".join(syscalls)]
        for pid in pids:
            argv += ["-p", str(pid)]
            argv += [a for k in _children_of(pid) for a in ("-p", str(k))]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        time.sleep(1.0)   # let strace attach to every thread
        if self.proc.poll() is not None:
            raise RuntimeError("strace could not attach (ptrace refused?)")

    def stop(self):
        """Detaches; returns {syscall: calls}."""
        stop_pid(self.proc, sig=signal.SIGINT)
        counts = {}
        try:
            with open(self.out) as f:
                for line in f:
                    cols = line.split()
                    if len(cols) >= 5 and cols[0][0].isdigit() and \
                            cols[3].isdigit() and cols[-1] != "total":
                        counts[cols[-1]] = int(cols[3])
        except OSError:
            pass
        return counts


def fs_of(path):
    """(filesystem type, device, mount point) holding path."""
    best = ("?", "?", "")
    real = os.path.realpath(path)
    try:
        with open("/proc/self/mounts") as f:
            for line in f:
                dev, mnt, fstype = line.split()[:3]
                mnt = mnt.replace("\\040", " ")
                if (real == mnt or real.startswith(mnt.rstrip("/") + "/")) \
                        and len(mnt) >= len(best[2]):
                    best = (fstype, dev, mnt)
    except OSError:
        pass
    return best


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _mem_gib():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / (1024 * 1024)
    except OSError:
        pass
    return 0.0


def _rotational(dev):
    name = os.path.basename(dev)
    for cand in (name, name.rstrip("0123456789"),
                 name.rstrip("0123456789").rstrip("p")):
        p = f"/sys/block/{cand}/queue/rotational"
        if os.path.exists(p):
            with open(p) as f:
                return ("rotational" if f.read().strip() == "1"
                        else "non-rotational")
    return "?"


def _tool_version(argv):
    if not shutil.which(argv[0]):
        return "not installed"
    try:
        p = subprocess.run(argv, capture_output=True, timeout=10)
        return p.stdout.decode(errors="replace").strip().splitlines()[0]
    except (OSError, subprocess.TimeoutExpired, IndexError):
        return "?"


def fsync_latency_ms(tmpdir, rounds=50):
    """Median milliseconds of write(4 KiB) + fsync in tmpdir: the floor
    under every durable delivery on this disk."""
    path = os.path.join(tmpdir, ".fsync-probe")
    times = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for _ in range(rounds):
            os.write(fd, b"x" * 4096)
            t0 = time.perf_counter()
            os.fsync(fd)
            times.append(time.perf_counter() - t0)
    finally:
        os.close(fd)
        os.unlink(path)
    times.sort()
    return times[len(times) // 2] * 1000


def load_text():
    """Load averages (1, 5, 15 min): other work on the machine skews
    every figure, so the report shows them at start and at end."""
    try:
        a, b, c = os.getloadavg()
        return f"{a:.2f} {b:.2f} {c:.2f}"
    except OSError:
        return "?"


def machine(tmpdir):
    """A dict describing the machine and the disk the benchmark used."""
    fstype, dev, mnt = fs_of(tmpdir)
    try:
        rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short",
                              "HEAD"], capture_output=True, timeout=10
                             ).stdout.decode().strip()
    except (OSError, subprocess.TimeoutExpired):
        rev = "?"
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram": f"{_mem_gib():.1f} GiB",
        "disk": f"{fstype} on {dev} ({_rotational(dev)}), mounted at "
                f"{mnt}, temp dir {tmpdir}",
        "fsync": f"{fsync_latency_ms(tmpdir):.2f} ms median for write "
                 "4 KiB + fsync",
        "kernel": f"{platform.system()} {platform.release()}",
        "load": load_text(),
        "date": datetime.datetime.now(datetime.timezone.utc)
                .strftime("%Y-%m-%d %H:%M UTC"),
        "commune": f"git {rev}",
        "dovecot": _tool_version(["dovecot", "--version"]),
        "python": platform.python_version(),
    }


def fsync_safe_fs(tmpdir):
    """False when fsync there costs nothing (tmpfs, ramfs): the delivery
    rows would then not measure durability at all."""
    return fs_of(tmpdir)[0] not in ("tmpfs", "ramfs")


def fmt_num(v):
    """1234.5 -> '1,234'; 12.345 -> '12.3'; 0.01234 -> '0.0123'."""
    if v is None:
        return "-"
    if v >= 1000:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    if v >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"
