# SPDX-License-Identifier: MIT
"""Runs every suite and prints one total line: "N passed, M failed"."""
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_meson(build):
    """cmocka unit tests registered with meson test()."""
    subprocess.run(["meson", "test", "-C", build, "--no-rebuild",
                    "--print-errorlogs", "--suite", "unit"], cwd=ROOT)
    log = os.path.join(ROOT, build, "meson-logs", "testlog.json")
    passed = failed = 0
    if not os.path.exists(log):
        return 0, 0
    with open(log) as f:
        for line in f:
            rec = json.loads(line)
            if rec.get("result") in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif rec.get("result") != "SKIP":
                failed += 1
    return passed, failed


def run_pytest(build):
    """Store, CLI and protocol tests against the real binary."""
    xml_path = os.path.join(ROOT, build, "pytest.xml")
    env = dict(os.environ)
    env["COMMUNE_BIN"] = os.path.join(ROOT, build, "commune")
    env["COMMUNE_BUILD"] = os.path.join(ROOT, build)
    # ASan: report leaks in unit tests, not in killed daemons.
    env.setdefault("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    subprocess.run(["/usr/bin/python3", "-m", "pytest", "-q", "-rfE",
                    "-p", "no:cacheprovider", "--junitxml", xml_path,
                    "tests"], cwd=ROOT, env=env)
    if not os.path.exists(xml_path):
        return 0, 1
    root = ET.parse(xml_path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    passed = failed = 0
    for s in suites:
        total = int(s.get("tests", 0))
        bad = int(s.get("failures", 0)) + int(s.get("errors", 0))
        skipped = int(s.get("skipped", 0))
        failed += bad + skipped  # a skipped test is not a pass
        passed += total - bad - skipped
    return passed, failed


def run_fuzz_smoke():
    """Each libFuzzer target for a short fixed time (fuzz/run.sh)."""
    script = os.path.join(ROOT, "fuzz", "run.sh")
    if not os.path.exists(script):
        return 0, 0
    out = subprocess.run([script, "--smoke"], cwd=ROOT,
                         capture_output=True, text=True)
    sys.stdout.write(out.stdout)
    sys.stderr.write(out.stderr)
    passed = failed = 0
    for line in out.stdout.splitlines():
        if line.startswith("fuzz PASS"):
            passed += 1
        elif line.startswith("fuzz FAIL"):
            failed += 1
    return passed, failed


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build-test"
    totals = [run_meson(build), run_pytest(build), run_fuzz_smoke()]
    passed = sum(t[0] for t in totals)
    failed = sum(t[1] for t in totals)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed or passed == 0 else 0)


if __name__ == "__main__":
    main()
