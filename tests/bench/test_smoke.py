"""`python -m bench.run --smoke`: the benchmark harness end to end (no timing assertions).

Each scenario runs ~1 s with 4 connections against the real service, the Bizon
simulator and the baseline, on the local PostgreSQL and Redis (BENCH_DATABASE_URL,
else TEST_DATABASE_URL, else 127.0.0.1:5432). Needs wrk on PATH.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench import datastores
from bench.procs import leftover_pids

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ["create", "baseline", "lifecycle", "get", "list", "replay", "ratelimited"]

TOP = {
    "schema",
    "mode",
    "timestamp",
    "machine",
    "software",
    "git",
    "config",
    "scenarios",
    "baseline_ratio",
    "soak",
    "wall_time_s",
}
MACHINE = {"cpu_model", "cores", "cores_usable", "ram_bytes", "kernel", "os"}
SOFTWARE = {"python", "packages", "wrk", "postgresql", "redis"}
PACKAGES = {"litestar", "uvicorn", "aiohttp", "asyncpg", "hiredis"}
CONFIG = {"workers", "threads", "connections", "duration_s", "warmup_s", "runs", "seed_payments"}
MEASUREMENT = {
    "scenario",
    "target",
    "run",
    "requests",
    "duration_s",
    "rps",
    "latency_ms",
    "errors",
    "unexpected_errors",
    "statuses",
    "completed",
    "completed_per_s",
    "cpu_s",
    "cpu_s_per_request",
    "machine_busy_pct",
    "machine_cpu_s",
    "other_cpu_s",
    "postgres_xacts",
    "rss",
}
LATENCY = {"p50", "p90", "p99", "mean", "max"}
ERRORS = {"connect", "read", "write", "timeout", "status", "unexpected"}
CPU = {"server", "postgres", "simulator", "redis", "wrk"}
RSS = {"workers_sum_bytes", "workers_bytes", "tree_bytes"}
RATIO = {"rps_ratio", "service_rps", "baseline_rps", "service_cpu_ms", "baseline_cpu_ms"}


def _missing(expected: set[str], got: dict[str, Any]) -> set[str]:
    return expected - set(got)


def _check_measurement(name: str, m: dict[str, Any]) -> None:
    assert not _missing(MEASUREMENT, m), (name, _missing(MEASUREMENT, m))
    assert not _missing(LATENCY, m["latency_ms"]), name
    assert not _missing(ERRORS, m["errors"]), name
    assert not _missing(CPU, m["cpu_s"]), name
    assert not _missing(CPU, m["cpu_s_per_request"]), name
    assert not _missing(RSS, m["rss"]), name
    assert m["requests"] > 0, f"{name}: no request completed"
    assert m["unexpected_errors"] == 0, (name, m["errors"], m["statuses"])
    assert m["rss"]["workers_sum_bytes"] > 0, name
    assert m["cpu_s"]["server"] is not None, name
    assert m["cpu_s"]["simulator"] is not None, name


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_smoke_run_reports_every_scenario_and_leaves_nothing_behind(tmp_path: Path) -> None:
    if shutil.which("wrk") is None:
        pytest.fail("wrk is not installed: make test installs it (apt-get install wrk)")
    env = dict(os.environ)
    if "BENCH_DATABASE_URL" not in env and "TEST_DATABASE_URL" in env:
        env["BENCH_DATABASE_URL"] = env["TEST_DATABASE_URL"]
    server = env.get("BENCH_DATABASE_URL") or datastores.DEFAULT_SERVER_URL
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.run", "--smoke", "--results-dir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    database = f"bench_{proc.pid}"
    try:
        out, _ = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)  # the harness cleans up on SIGTERM
        out, _ = proc.communicate(timeout=30)
        pytest.fail(f"bench --smoke took over 120 s:\n{out[-3000:]}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        left_db = datastores.database_exists(server, database)
        if left_db:
            datastores.drop_database(server, database)
        left_procs = leftover_pids(proc.pid)
        for pid in left_procs:
            os.kill(pid, signal.SIGKILL)
    assert proc.returncode == 0, out[-3000:]
    assert not left_db, f"database {database} was left behind"
    assert not left_procs, f"processes left behind: {left_procs}"

    files = sorted(tmp_path.glob("*.json"))
    assert len(files) == 1, files
    assert files[0].with_suffix(".md").exists()
    result = json.loads(files[0].read_text())
    assert not _missing(TOP, result), _missing(TOP, result)
    assert result["mode"] == "smoke"
    assert not _missing(MACHINE, result["machine"])
    assert not _missing(SOFTWARE, result["software"])
    assert not _missing(PACKAGES, result["software"]["packages"])
    assert all(result["software"]["packages"][name] for name in PACKAGES)
    assert not _missing(CONFIG, result["config"])
    assert "commit" in result["git"]
    assert list(result["scenarios"]) == SCENARIOS
    for name, entry in result["scenarios"].items():
        assert len(entry["runs"]) == 1, name
        _check_measurement(name, entry["median"])
    assert result["scenarios"]["lifecycle"]["median"]["completed"] > 0
    limited = result["scenarios"]["ratelimited"]["median"]
    assert set(limited["statuses"]) <= {"200", "429"}
    if limited["requests"] > 40:  # far past the key's burst of 10
        assert limited["statuses"].get("429", 0) > 0
    ratio = result["baseline_ratio"]
    assert ratio is not None
    assert not _missing(RATIO, ratio)
    assert ratio["rps_ratio"] > 0
