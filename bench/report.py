"""The machine's description, the results files (JSON and Markdown) and the table."""

import datetime
import json
import os
import platform
import shutil
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.procs import ROOT

PACKAGES = [
    "litestar",
    "uvicorn",
    "aiohttp",
    "asyncpg",
    "hiredis",
    "msgspec",
    "uvloop",
    "httptools",
]
MIB = 1024 * 1024


def timestamp() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _ram_bytes() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _git(root: Path, *args: str) -> str | None:
    git = shutil.which("git")
    if git is None:
        return None
    try:
        done = subprocess.run(
            [git, *args], cwd=root, capture_output=True, text=True, timeout=10, check=True
        )
    except (subprocess.SubprocessError, OSError):
        return None
    return done.stdout.strip()


def _wrk_version() -> str | None:
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    try:
        done = subprocess.run(
            [wrk, "--version"], capture_output=True, text=True, timeout=10, check=False
        )
    except (subprocess.SubprocessError, OSError):
        return None
    first = (done.stdout or done.stderr).strip().splitlines()
    return first[0] if first else None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def environment(server_versions: dict[str, str], service_root: Path = ROOT) -> dict[str, Any]:
    """The machine, the software and the commit of the service measured."""
    status = _git(service_root, "status", "--porcelain")
    return {
        "machine": {
            "cpu_model": _cpu_model(),
            "cores": os.cpu_count(),
            "cores_usable": len(os.sched_getaffinity(0)),
            "ram_bytes": _ram_bytes(),
            "kernel": platform.release(),
            "os": platform.platform(),
        },
        "software": {
            "python": platform.python_version(),
            "packages": {name: _version(name) for name in PACKAGES},
            "wrk": _wrk_version(),
            **server_versions,
        },
        "git": {"commit": _git(service_root, "rev-parse", "HEAD"), "dirty": bool(status)},
    }


# -- the table --------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.2f}"


def _mib(value: int) -> str:
    return f"{value / MIB:.1f}"


def _rss(rss: dict[str, Any]) -> str:
    workers = rss["workers_bytes"]
    text = _mib(rss["workers_sum_bytes"])
    if len(workers) > 1:
        text += " (" + " + ".join(_mib(value) for value in workers) + ")"
    return text


def _notes(entry: dict[str, Any]) -> str:
    m, runs = entry["median"], entry["runs"]
    notes = []
    if len(runs) > 1:
        rates = sorted(run["rps"] for run in runs)
        notes.append(f"runs {rates[0]:.1f}-{rates[-1]:.1f} req/s")
    if m["scenario"] == "lifecycle":
        notes.append(f"{m['completed']} payments refunded ({m['completed_per_s']:.1f}/s)")
    if m["scenario"] == "ratelimited":
        s = m["statuses"]
        notes.append(f"200: {s.get('200', 0)}, 429: {s.get('429', 0)}")
    if m["target"] == "baseline":
        notes.append("server = the baseline app")
    if m["other_cpu_s"] > max(0.1 * m["machine_cpu_s"]["processes"], 0.05 * m["duration_s"]):
        notes.append(f"other load on the machine: {m['other_cpu_s']:.1f} CPU s")
    xacts = m.get("postgres_xacts")
    if xacts and xacts["others"] > max(50, 0.01 * xacts["bench_db"]):
        notes.append(f"other databases: {xacts['others']} transactions")
    if m["unexpected_errors"]:
        codes = ", ".join(f"{k}: {v}" for k, v in sorted(m["statuses"].items()))
        notes.append(f"statuses {codes}; errors {m['errors']}")
    return "; ".join(notes)


HEADER = [
    "scenario",
    "req/s",
    "p50 ms",
    "p90 ms",
    "p99 ms",
    "errors",
    "server CPU ms/req",
    "PostgreSQL CPU ms/req",
    "simulator CPU ms/req",
    "Redis CPU ms/req",
    "machine busy",
    "server RSS MiB",
    "notes",
]


def table_rows(scenarios: dict[str, Any]) -> list[list[str]]:
    rows = []
    for name, entry in scenarios.items():
        m = entry["median"]
        cpu = m["cpu_s_per_request"]
        lat = m["latency_ms"]
        rows.append(
            [
                name,
                f"{m['rps']:.1f}",
                f"{lat['p50']:.2f}",
                f"{lat['p90']:.2f}",
                f"{lat['p99']:.2f}",
                str(m["unexpected_errors"]),
                _ms(cpu["server"]),
                _ms(cpu["postgres"]),
                _ms(cpu["simulator"]),
                _ms(cpu["redis"]),
                f"{m['machine_busy_pct']:.0f} %",
                _rss(m["rss"]),
                _notes(entry),
            ]
        )
    return rows


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def ratio_text(ratio: dict[str, Any] | None) -> str:
    if not ratio:
        return "Baseline ratio: not measured (create and baseline both needed)."
    text = (
        f"Service create / baseline: **{ratio['rps_ratio']:.2f}** of the baseline's throughput "
        f"({ratio['service_rps']:.1f} vs {ratio['baseline_rps']:.1f} req/s)"
    )
    if ratio.get("cpu_ratio") is not None:
        text += (
            f"; server CPU per request {ratio['service_cpu_ms']:.2f} vs "
            f"{ratio['baseline_cpu_ms']:.2f} ms ({ratio['cpu_ratio']:.2f}x)"
        )
    return text + "."


def soak_text(soak: dict[str, Any]) -> str:
    first, last = soak["checkpoint"], soak["end"]
    return (
        f"Soak ({soak['scenario']}, {soak['total_requests']} requests, "
        f"{soak['unexpected_errors']} unexpected errors): service RSS "
        f"{_mib(first['rss']['workers_sum_bytes'])} MiB after {first['requests']} requests, "
        f"{_mib(last['rss']['workers_sum_bytes'])} MiB after {last['requests']}: "
        f"growth {soak['growth_pct']:+.1f} %."
    )


def markdown(result: dict[str, Any]) -> str:
    machine, software, config = result["machine"], result["software"], result["config"]
    packages = ", ".join(f"{k} {v}" for k, v in software["packages"].items())
    commit = result["git"]["commit"] or "?"
    lines = [
        f"# Bench {result['timestamp']} ({result['mode']})",
        "",
        f"- machine: {machine['cpu_model']}, {machine['cores']} cores, "
        f"{machine['ram_bytes'] / 1024**3:.1f} GiB, kernel {machine['kernel']}",
        f"- software: Python {software['python']}, {packages}; "
        f"PostgreSQL {software.get('postgresql')}, Redis {software.get('redis')}, "
        f"{software.get('wrk')}",
        f"- commit {commit}{' (dirty)' if result['git']['dirty'] else ''}",
        f"- workers {config['workers']}, wrk -t{config['threads']} -c{config['connections']}, "
        + (
            f"soak chunks of {config['soak_chunk_s']:g} s"
            if result["mode"] == "soak"
            else f"{config['duration_s']:g} s per scenario after a {config['warmup_s']:g} s "
            f"warm-up, median of {config['runs']} run(s)"
        ),
        "",
    ]
    if result["scenarios"]:
        lines += [
            markdown_table(HEADER, table_rows(result["scenarios"])),
            "",
            ratio_text(result.get("baseline_ratio")),
            "",
        ]
    if result.get("soak"):
        lines += [soak_text(result["soak"]), ""]
    return "\n".join(lines)


def write(result: dict[str, Any], directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    stem = result["timestamp"] + ("" if result["mode"] == "bench" else f"-{result['mode']}")
    json_path = directory / f"{stem}.json"
    md_path = directory / f"{stem}.md"
    json_path.write_text(json.dumps(result, indent=2) + "\n")
    md_path.write_text(markdown(result))
    return json_path, md_path
