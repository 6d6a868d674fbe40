"""scripts/bench stays runnable: ``--quick`` on the Python origin, no wget, and its JSON has every figure.

Never a timed test: the figures are only checked for shape and for what must hold on any
machine (every URL fetched, valid WARCs, the politeness audit clean).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
RUN_FIELDS = {"rc", "seconds", "cpu_s", "peak_rss_mb", "pages", "pages_per_s", "cpu_ms_per_page", "warc_bytes"}


@pytest.mark.slow
def test_bench_quick(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    cmd = [sys.executable, str(REPO / "scripts" / "bench"), "--quick", "--origin", "python", "--no-wget",
           "--parts", "throughput,latency,politeness,scale", "--repeat", "2", "--json", str(out)]
    # its own session: on timeout the whole group (bench, origin, citecrawl, judging processes) is stopped
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                            start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.communicate(timeout=30)
        pytest.skip("scripts/bench --quick took over 60 s on this (shared) machine")
    assert proc.returncode == 0, stdout + stderr
    data = json.loads(out.read_text())
    assert data["origin"] == "python" and data["quick"] is True and data["hosts"] >= 20

    throughput = data["throughput"]
    assert RUN_FIELDS.issubset(throughput["citecrawl"])
    assert throughput["citecrawl"]["fetched"] == throughput["urls"]
    assert throughput["citecrawl"]["warcio_check"] is True
    capture = throughput["capture_only"]
    assert capture["tool"] == "citecrawl --capture-only" and capture["warcio_check"] is True
    assert capture["verdicts"] == {"fetched": throughput["urls"]}
    assert throughput["wget"] is None
    # the origin's CPU is read from /proc: every run has it, and with it the most the machine's cores allow
    assert throughput["cores"] == (os.cpu_count() or 1)
    for row in (throughput["citecrawl"], capture):
        assert row["origin_cpu_ms_per_page"] >= 0
        assert row["cores_bound_pages_per_s"] == pytest.approx(
            throughput["cores"] * 1000 / (row["cpu_ms_per_page"] + row["origin_cpu_ms_per_page"]), abs=0.1)
    assert throughput["runs"] == 2 and len(throughput["citecrawl"]["runs_pages_per_s"]) == 2
    assert throughput["citecrawl"]["pages_per_s"] == min(throughput["citecrawl"]["runs_pages_per_s"])  # median of 2

    latency = data["latency"]
    assert latency["bound_pages_per_s"] == latency["hosts"] / latency["latency_s"]
    assert 0 < latency["fraction_of_bound"] <= 1.0
    assert RUN_FIELDS.issubset(latency["citecrawl"])

    polite = data["politeness"]
    assert polite["overlapping"] == 0 and polite["target_met"] is True
    assert polite["shortest_gap_s"] >= polite["configured_gap_s"] - 0.002
    assert polite["requests"] >= polite["urls"]

    scale = data["scale"]
    assert [r["urls"] for r in scale["runs"]] == sorted(r["urls"] for r in scale["runs"])
    assert all(RUN_FIELDS.issubset(r) and r["fetched"] == r["urls"] for r in scale["runs"])
    assert scale["huge"]["peak_rss_mb"] > 0 and scale["huge"]["warc_bytes"] > 0
    assert "1. throughput" in stdout and "4. scale" in stdout and "cores all busy" in stdout


def test_tree_cpu_counts_a_process_and_its_children() -> None:
    """The origin's CPU (scripts/bench_origin.tree_cpu_seconds): its own and its children's (nginx's workers)."""
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import bench_origin
    finally:
        sys.path.remove(str(REPO / "scripts"))
    if not Path("/proc/self/stat").exists():
        pytest.skip("no /proc on this system")
    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.2: pass\ninput()"
    child = subprocess.Popen([sys.executable, "-c", burn], stdin=subprocess.PIPE, text=True)
    try:
        mine = os.times()
        while (bench_origin.tree_cpu_seconds(child.pid) or 0) < 0.2:    # the child burns 0.2 s, then waits
            pass
        theirs = bench_origin.tree_cpu_seconds(child.pid)
        family = bench_origin.tree_cpu_seconds(os.getpid())
        assert theirs is not None and family is not None
        assert family >= mine.user + mine.system + theirs - 0.001      # its own CPU and its child's
    finally:
        child.communicate("", timeout=10)
    assert bench_origin.tree_cpu_seconds(child.pid) is None   # ended: nothing to read


@pytest.mark.slow
def test_bench_ab_alternates_two_checkouts(tmp_path: Path) -> None:
    """scripts/bench_ab.py runs both checkouts in turn and writes medians and ratios (here: this checkout twice)."""
    out = tmp_path / "ab.json"
    cmd = [sys.executable, str(REPO / "scripts" / "bench_ab.py"), "--before", str(REPO), "--urls", "24", "--runs", "1",
           "--latency", "0.001", "--json", str(out), "--", "--capture-only"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(out.read_text())
    assert [len(data["runs"][k]) for k in ("before", "after")] == [1, 1]
    assert all(run["rc"] == 0 for runs in data["runs"].values() for run in runs)
    assert set(data["ratio"]) == {"wall_s", "cpu_s", "peak_rss_mb"} and data["extra"] == ["--capture-only"]

    bad = subprocess.run([sys.executable, str(REPO / "scripts" / "bench_ab.py"), "--before", str(tmp_path)],
                         capture_output=True, text=True, cwd=REPO, timeout=60)
    assert bad.returncode == 2 and "is not a citecrawl checkout" in bad.stderr


def test_a_measured_child_reports_its_own_peak_rss_not_the_bench_s(tmp_path: Path) -> None:
    """Linux starts a forked child's peak RSS at its parent's: the bench, grown large, must not set the floor."""
    probe = f"""
import runpy, sys
from pathlib import Path
bench = runpy.run_path({str(REPO / "scripts" / "bench")!r}, run_name="probe")
ballast = bytearray(300 << 20)
for i in range(0, len(ballast), 4096):
    ballast[i] = 1
row = bench["measured"]([sys.executable, "-c", "pass"], cwd=Path({str(tmp_path)!r}), log=Path({str(tmp_path)!r}) / "log")
print(row["rc"], row["peak_rss_mb"])
"""
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rc, peak = proc.stdout.split()
    assert rc == "0" and float(peak) < 100, peak      # an idle interpreter, not the 300 MB of its grandparent


def test_median_row_keeps_one_whole_run_and_every_rate() -> None:
    import runpy

    median_row = runpy.run_path(str(REPO / "scripts" / "bench"), run_name="probe")["median_row"]
    runs = [{"pages_per_s": 300.0, "cpu_s": 1}, {"pages_per_s": 100.0, "cpu_s": 3}, {"pages_per_s": 200.0, "cpu_s": 2}]
    assert median_row(runs) == {"pages_per_s": 200.0, "cpu_s": 2, "runs_pages_per_s": [300.0, 100.0, 200.0]}
    assert median_row(runs[:1]) == runs[0]


def test_bench_instructions_takes_a_page_as_the_difference_of_two_runs() -> None:
    import doctest
    import runpy

    script = runpy.run_path(str(REPO / "scripts" / "bench_instructions.py"), run_name="probe")
    per_page = script["per_page"]
    assert per_page((200, 4_000), (1000, 12_000)) == (10.0, 2_000.0)
    with pytest.raises(ValueError):
        per_page((1000, 1), (200, 2))
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner()
    for test in finder.find(per_page, "per_page", globs=script):
        runner.run(test)
    assert runner.failures == 0 and runner.tries > 0


def test_bench_loop_reports_steps_queues_and_stages(tmp_path: Path) -> None:
    out = tmp_path / "loop.json"
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "bench_loop.py"), "40", "--latency", "0",
                           "--json", str(out), "--", "--capture-only"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    figures = json.loads(out.read_text())
    assert figures["exit"] == 0 and "_run_job" in figures["steps"] and "consume" in figures["steps"]
    assert figures["requests_traced"] > 0 and figures["queues"]["hosts_in_flight"] is not None
    assert "a request's stages" in proc.stdout
