"""`python -m bench.run`: benchmark the service on 127.0.0.1, bounded in time.

Sets up a fresh database, a Redis database, the Bizon simulator, the service and
the baseline (bench/stack.py), creates the payments the scenarios need, then runs
every scenario with wrk, one at a time (each after a short warm-up), `--runs`
times, and reports the median run of each: req/s, latency percentiles, errors,
CPU seconds per request of the server, PostgreSQL, the simulator and Redis, and
the server's RSS. Results go to bench/results/<UTC timestamp>.json and .md.
See bench/README.md.
"""

import argparse
import os
import resource
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from bench import report
from bench.metrics import Groups
from bench.procs import ROOT, BenchError, signals_as_exit
from bench.profile import Profiler
from bench.scenarios import BY_NAME, SCENARIOS, Fixtures, Scenario, seed
from bench.stack import Stack
from bench.wrk import build_script, run_wrk, wrk_binary

RESULTS = ROOT / "bench" / "results"
SOAK_CHECKPOINT = 50_000
SOAK_SCENARIOS = ("get", "create")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    p.add_argument("--workers", type=int, default=1, help="uvicorn workers (service, baseline)")
    p.add_argument("--connections", "-c", type=int, default=None, help="wrk connections (32)")
    p.add_argument("--threads", "-t", type=int, default=2, help="wrk threads (2)")
    p.add_argument("--duration", "-d", type=float, default=None, help="seconds per scenario (10)")
    p.add_argument("--warmup", type=float, default=None, help="warm-up seconds (2)")
    p.add_argument("--runs", type=int, default=1, help="repeat each scenario; report the median")
    p.add_argument(
        "--scenarios",
        default=",".join(s.name for s in SCENARIOS),
        help="comma-separated subset (default: all, in this order)",
    )
    p.add_argument("--seed", type=int, default=None, help="payments created first (200)")
    p.add_argument("--timeout", type=float, default=5.0, help="wrk's per-request timeout (s)")
    p.add_argument(
        "--smoke",
        action="store_true",
        help="each scenario ~1 s with 4 connections, no warm-up (the test suite's check)",
    )
    p.add_argument("--soak", type=int, default=None, metavar="N", help="leak check: N requests")
    p.add_argument("--soak-scenario", choices=SOAK_SCENARIOS, default="get")
    p.add_argument("--soak-chunk", type=float, default=10.0, help="seconds per soak wrk run")
    p.add_argument(
        "--service-root",
        type=Path,
        default=Path(os.environ.get("BENCH_SERVICE_ROOT") or ROOT),
        help="the checkout whose service is measured (default: BENCH_SERVICE_ROOT, else this "
        "one), e.g. to compare two commits",
    )
    p.add_argument("--results-dir", type=Path, default=RESULTS)
    p.add_argument("--logs", type=Path, default=None, help="keep the servers' logs here")
    p.add_argument(
        "--profile",
        type=Path,
        default=None,
        metavar="DIR",
        help="sample the server with py-spy during each measured run; profiles go to DIR",
    )
    p.add_argument(
        "--service-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the service (repeatable), e.g. DATABASE_POOL_SIZE=16",
    )
    return p


def _resolve(args: argparse.Namespace) -> argparse.Namespace:
    smoke = args.smoke
    defaults = {"connections": 4 if smoke else 32, "duration": 1.0 if smoke else 10.0}
    defaults |= {"warmup": 0.0 if smoke else 2.0, "seed": 50 if smoke else 200}
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    names = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    unknown = [name for name in names if name not in BY_NAME]
    if unknown:
        raise BenchError(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(BY_NAME)}")
    args.scenario_list = [BY_NAME[name] for name in names]
    if args.runs < 1 or args.workers < 1 or args.connections < 1 or args.duration <= 0:
        raise BenchError("--runs, --workers, --connections and --duration must be positive")
    return args


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _xacts(before: tuple[int, int] | None, after: tuple[int, int] | None) -> dict[str, int] | None:
    """Transactions in the bench database and in the others (approximate: see PgActivity)."""
    if before is None or after is None:
        return None
    return {"bench_db": after[0] - before[0], "others": after[1] - before[1]}


def _per_request(value: float | None, requests: int) -> float | None:
    return None if value is None or requests == 0 else value / requests


def measure(
    stack: Stack,
    scenario: Scenario,
    fixtures: Fixtures,
    args: argparse.Namespace,
    label: str,
    duration: float,
) -> dict[str, Any]:
    """One wrk run of `scenario` with the CPU of every process group around it."""
    config = scenario.config(fixtures) | {"prefix": f"{label}-{uuid.uuid4().hex[:8]}"}
    script = build_script(scenario.script, config, stack.tmp / f"{label}.lua")
    url = getattr(stack.endpoints, scenario.target)
    self_before = _self_cpu()
    xacts_before = stack.pg_activity.sample() if stack.pg_activity else None
    profiler = None
    if args.profile and label.startswith("r"):  # measured runs only, not warm-ups or soak
        profiler = Profiler(args.profile, stack.pids[scenario.target], label, duration)
    before = stack.groups.snapshot()
    result = run_wrk(
        url,
        script,
        threads=args.threads,
        connections=args.connections,
        duration_s=duration,
        timeout_s=args.timeout,
    )
    after = stack.groups.snapshot()
    xacts_after = stack.pg_activity.sample() if stack.pg_activity else None
    self_cpu = _self_cpu() - self_before
    profile = profiler.finish() if profiler else None
    stack.procs.check_alive()
    cpu = Groups.cpu_seconds(before, after)
    machine = Groups.machine(before, after)
    # Process CPU of the machine not spent by anything of this run: other load, i.e. noise.
    ours = sum(value for value in cpu.values() if value is not None) + result.wrk_cpu_s
    other = max(0.0, machine.process_s - ours - self_cpu)
    cpu_s: dict[str, float | None] = {
        "server": cpu.get(scenario.target),
        "postgres": cpu.get("postgres"),
        "simulator": cpu.get("simulator"),
        "redis": cpu.get("redis"),
        "wrk": result.wrk_cpu_s,
    }
    return {
        "scenario": scenario.name,
        "target": scenario.target,
        "label": label,
        "requests": result.requests,
        "duration_s": result.duration_s,
        "rps": result.rps,
        "latency_ms": result.latency_ms,
        "errors": result.errors,
        "unexpected_errors": result.unexpected,
        "statuses": result.statuses,
        "completed": result.completed,
        "completed_per_s": result.completed / result.duration_s if result.duration_s else 0.0,
        "cpu_s": cpu_s,
        "cpu_s_per_request": {k: _per_request(v, result.requests) for k, v in cpu_s.items()},
        "machine_busy_pct": 100 * machine.busy_share,
        "machine_cpu_s": {
            "processes": machine.process_s,
            "irq": machine.irq_s,
            "steal": machine.steal_s,
        },
        "other_cpu_s": other,
        "postgres_xacts": _xacts(xacts_before, xacts_after),
        "rss": stack.memory(scenario.target),
        "profile": str(profile) if profile else None,
    }


def _line(m: dict[str, Any]) -> str:
    lat, cpu = m["latency_ms"], m["cpu_s_per_request"]
    server = "-" if cpu["server"] is None else f"{cpu['server'] * 1000:.2f}"
    return (
        f"{m['scenario']:<12} {m['rps']:9.1f} req/s  p50 {lat['p50']:7.2f}  p99 {lat['p99']:7.2f} "
        f"ms  errors {m['unexpected_errors']}  server CPU {server} ms/req  "
        f"({m['requests']} requests)"
    )


def median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median throughput (the lower middle one for an even count)."""
    ordered = sorted(runs, key=lambda m: m["rps"])
    return ordered[(len(ordered) - 1) // 2]


def baseline_ratio(scenarios: dict[str, Any]) -> dict[str, Any] | None:
    if "create" not in scenarios or "baseline" not in scenarios:
        return None
    service, base = scenarios["create"]["median"], scenarios["baseline"]["median"]
    if not base["rps"]:
        return None
    service_cpu = service["cpu_s_per_request"]["server"]
    base_cpu = base["cpu_s_per_request"]["server"]
    both = service_cpu is not None and base_cpu
    return {
        "rps_ratio": service["rps"] / base["rps"],
        "service_rps": service["rps"],
        "baseline_rps": base["rps"],
        "service_cpu_ms": service_cpu * 1000 if service_cpu is not None else None,
        "baseline_cpu_ms": base_cpu * 1000 if base_cpu is not None else None,
        "cpu_ratio": service_cpu / base_cpu if both else None,
    }


def run_scenarios(stack: Stack, fixtures: Fixtures, args: argparse.Namespace) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {s.name: [] for s in args.scenario_list}
    for run in range(1, args.runs + 1):
        for scenario in args.scenario_list:
            if args.warmup > 0:
                measure(stack, scenario, fixtures, args, f"w{run}-{scenario.name}", args.warmup)
            m = measure(stack, scenario, fixtures, args, f"r{run}-{scenario.name}", args.duration)
            m["run"] = run
            runs[scenario.name].append(m)
            print(f"run {run}/{args.runs}  {_line(m)}", flush=True)
    return {name: {"median": median(ms), "runs": ms} for name, ms in runs.items()}


def run_soak(stack: Stack, fixtures: Fixtures, args: argparse.Namespace) -> dict[str, Any]:
    """Run one scenario in chunks until N requests; RSS at the checkpoint and at the end."""
    total = args.soak
    checkpoint_at = SOAK_CHECKPOINT if total > SOAK_CHECKPOINT else total // 2
    scenario = BY_NAME[args.soak_scenario]
    done, unexpected, chunk = 0, 0, 0
    series: list[dict[str, Any]] = []
    checkpoint: dict[str, Any] | None = None
    started = time.monotonic()
    while done < total:
        chunk += 1
        m = measure(
            stack, scenario, fixtures, args, f"soak{chunk}-{scenario.name}", args.soak_chunk
        )
        done += m["requests"]
        unexpected += m["unexpected_errors"]
        point = {"requests": done, "elapsed_s": time.monotonic() - started, "rss": m["rss"]}
        series.append(point)
        if checkpoint is None and done >= checkpoint_at:
            checkpoint = point
        rss = m["rss"]["workers_sum_bytes"] / 1024**2
        print(f"soak {scenario.name}: {done}/{total} requests, RSS {rss:.1f} MiB", flush=True)
        if m["requests"] == 0:
            raise BenchError("soak: a chunk completed no request")
    assert checkpoint is not None
    end = series[-1]
    first = checkpoint["rss"]["workers_sum_bytes"]
    growth = 100 * (end["rss"]["workers_sum_bytes"] - first) / first if first else 0.0
    return {
        "scenario": scenario.name,
        "requested": total,
        "total_requests": done,
        "unexpected_errors": unexpected,
        "checkpoint": checkpoint,
        "end": end,
        "growth_pct": growth,
        "series": series,
    }


def service_env(args: argparse.Namespace) -> dict[str, str]:
    """--service-env NAME=VALUE pairs (validated by the service itself at start-up)."""
    pairs: dict[str, str] = {}
    for item in args.service_env:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise SystemExit(f"bench: --service-env wants NAME=VALUE, got {item!r}")
        pairs[name] = value
    return pairs


def main(argv: list[str] | None = None) -> int:
    try:
        args = _resolve(_parser().parse_args(argv))
        wrk_binary()
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    mode = "soak" if args.soak else "smoke" if args.smoke else "bench"
    started = time.monotonic()
    stamp = report.timestamp()
    try:
        with (
            signals_as_exit(),
            Stack(args.workers, args.service_root.resolve(), args.logs, service_env(args)) as stack,
        ):
            fixtures = seed(
                stack.endpoints.service, stack.keys.normal, stack.keys.limited, args.seed
            )
            print(f"bench: seeded {len(fixtures.ids)} payments; running", flush=True)
            scenarios = run_soak_or_scenarios(stack, fixtures, args)
            versions = stack.versions
    except KeyboardInterrupt:
        print("bench: interrupted; everything stopped, database dropped", file=sys.stderr)
        return 130
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    result = {
        "schema": 1,
        "mode": mode,
        "timestamp": stamp,
        **report.environment(versions, args.service_root.resolve()),
        "config": {
            "workers": args.workers,
            "threads": min(args.threads, args.connections),
            "connections": args.connections,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "runs": args.runs,
            "seed_payments": args.seed,
            "wrk_timeout_s": args.timeout,
            "service_root": str(args.service_root.resolve()),
            "soak_chunk_s": args.soak_chunk,
            "service_env": service_env(args),
        },
        "scenarios": scenarios.get("scenarios", {}),
        "baseline_ratio": baseline_ratio(scenarios.get("scenarios", {})),
        "soak": scenarios.get("soak"),
        "wall_time_s": time.monotonic() - started,
    }
    json_path, md_path = report.write(result, args.results_dir)
    print()
    print(report.markdown(result))
    print(f"bench: wrote {json_path} and {md_path.name} ({result['wall_time_s']:.0f} s)")
    failing = [n for n, e in result["scenarios"].items() if e["median"]["unexpected_errors"]]
    if failing:
        print(f"bench: WARNING: unexpected errors in {', '.join(failing)}", file=sys.stderr)
    return 0


def run_soak_or_scenarios(
    stack: Stack, fixtures: Fixtures, args: argparse.Namespace
) -> dict[str, Any]:
    if args.soak:
        return {"soak": run_soak(stack, fixtures, args)}
    return {"scenarios": run_scenarios(stack, fixtures, args)}


if __name__ == "__main__":
    sys.exit(main())
