"""Everything a bench run stands on, set up and torn down in one place.

A fresh database `bench_<pid>` (migrated), a Redis database of its own (flushed at
the start and the end), the Bizon simulator, the service and the baseline, each
in its own process group on 127.0.0.1, and the API keys. `Stack` is a context
manager: leaving it, by success, failure or Ctrl-C, stops every process and drops
the database.
"""

import contextlib
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from bench import datastores
from bench.metrics import Groups, local_pid, tree_memory
from bench.procs import (
    ROOT,
    BenchError,
    Processes,
    child_env,
    free_port,
    python_cmd,
    run_checked,
)
from bench.procs import wait_http as wait_http_ready

SANDBOX_LOGIN = "sandbox"  # service/dev.py: the simulator's public test credential
SANDBOX_PASSWORD = "sandbox"
GENEROUS = "1000000"  # RATE_LIMIT_PER_SECOND / BURST for the normal keys
LOW_RATE, LOW_BURST = "10", "10"  # the ratelimited scenario's key


@dataclass(slots=True)
class Endpoints:
    service: str = ""
    baseline: str = ""
    simulator: str = ""


@dataclass(frozen=True, slots=True)
class Keys:
    normal: str
    limited: str


# Used when service.settings cannot be imported (another checkout, a change in progress).
_SERVICE_PREFIXES = (
    "DATABASE_",
    "REDIS_",
    "BIZON_",
    "PAYSUPER_",
    "PROXY_SOLUTIONS_",
    "SEND2SELL_",
    "RECONCILE_",
    "RATE_LIMIT_",
    "IDEMPOTENCY_",
    "API_KEY_",
    "EXCHANGE_RATES_",
    "LOG_",
    "SHUTDOWN_",
    "PROMETHEUS_",
)


def _service_env_names() -> list[str]:
    """Every variable the service reads: none leaks in from the caller's environment."""
    try:
        from service.settings import env_names

        names = set(env_names())
    except Exception:
        names = set()
    names |= {name for name in os.environ if name.startswith(_SERVICE_PREFIXES)}
    return sorted(names | {"HOST", "PORT", "WORKERS"})


class Stack:
    """The servers of a run; `service_root` is the checkout whose `service` is measured."""

    def __init__(
        self,
        workers: int,
        service_root: Path,
        logs: Path | None = None,
        service_env: dict[str, str] | None = None,
    ) -> None:
        self.workers = workers
        self.service_env = dict(service_env or {})
        self.root = service_root
        self.server_url = datastores.server_url()
        self.redis_url = datastores.redis_url()
        self.database = f"bench_{os.getpid()}"
        self.database_url = ""
        self._tmp = tempfile.TemporaryDirectory(prefix="bench-")
        self.tmp = Path(self._tmp.name)
        self.logs = logs or self.tmp / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.procs = Processes(self.logs)
        self.pids: dict[str, int] = {}
        self.endpoints = Endpoints()
        self.keys = Keys("", "")
        self.groups = Groups({})
        self.versions: dict[str, str] = {}
        self.pg_activity: datastores.PgActivity | None = None
        self._db_created = False

    # -- lifecycle --------------------------------------------------------------------

    def __enter__(self) -> "Stack":
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _start(self) -> None:
        redis_version, redis_pid = datastores.redis_flush(self.redis_url)
        self.database_url = datastores.create_database(self.server_url, self.database)
        self._db_created = True
        info = datastores.postgres_info(self.database_url)
        self.versions = {"postgresql": info.version, "redis": redis_version}
        if info.postmaster_pid is not None:
            self._drop_stale()
        self._log("migrating", self.database)
        run_checked(
            python_cmd("-m", "service", "migrate"),
            self._env({"DATABASE_URL": self.database_url}),
            cwd=self.root,
        )
        self._start_simulator()
        self._start_service()
        self._start_baseline()
        self.keys = Keys(self._api_key("bench"), self._api_key("bench-limited", limited=True))
        self.pg_activity = datastores.PgActivity(self.database_url, self.database)
        self.groups = Groups(
            {
                "service": self.pids["service"],
                "baseline": self.pids["baseline"],
                "simulator": self.pids["simulator"],
                "postgres": info.postmaster_pid,
                "redis": local_pid(redis_pid),
            }
        )

    def close(self) -> None:
        """Stop every process, drop the database, flush Redis: each step whatever failed."""
        if self.pg_activity is not None:
            with contextlib.suppress(Exception):
                self.pg_activity.close()
            self.pg_activity = None
        self.procs.close()
        if self._db_created:
            try:
                datastores.drop_database(self.server_url, self.database)
                self._db_created = False
            except Exception as exc:
                print(f"bench: could not drop database {self.database}: {exc}", file=sys.stderr)
        with contextlib.suppress(Exception):
            datastores.redis_flush(self.redis_url)
        self._tmp.cleanup()

    def _drop_stale(self) -> None:
        """Drop the databases of runs killed by SIGKILL (their pid is gone from this machine).

        Only for a PostgreSQL on this machine, where a run's pid says whether it lives.
        """
        for name in datastores.bench_databases(self.server_url):
            pid = int(name.removeprefix("bench_"))
            if name != self.database and not Path(f"/proc/{pid}").exists():
                self._log("dropping", name, "(left by a run that was killed)")
                datastores.drop_database(self.server_url, name)

    # -- the processes ----------------------------------------------------------------

    def _env(self, extra: dict[str, str]) -> dict[str, str]:
        # `python -m` finds `service` in its working directory (the service root) first,
        # and `bench` (the baseline) here.
        return child_env({"PYTHONPATH": str(ROOT)} | extra, drop=_service_env_names())

    def _start_simulator(self) -> None:
        port = free_port()
        self.endpoints.simulator = f"http://127.0.0.1:{port}"
        self.pids["simulator"] = self.procs.start(
            "simulator",
            python_cmd("-m", "service", "sandbox", "--provider", "bizon", "--port", str(port)),
            self._env({}),
            cwd=self.root,
        )
        self.wait_http(f"{self.endpoints.simulator}/_sandbox/faults")

    def _server_env(self, port: int) -> dict[str, str]:
        env = {
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "BIZON_BASE_URL": self.endpoints.simulator,
            "BIZON_LOGIN": SANDBOX_LOGIN,
            "BIZON_PASSWORD": SANDBOX_PASSWORD,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "WORKERS": str(self.workers),
            "LOG_LEVEL": "INFO",  # as deployed: an access line per request
            "RATE_LIMIT_PER_SECOND": GENEROUS,
            "RATE_LIMIT_BURST": GENEROUS,
        }
        if self.workers > 1:
            metrics = self.tmp / f"prometheus-{port}"
            metrics.mkdir()
            env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
        return self._env(env | self.service_env)

    def _start_service(self) -> None:
        port = free_port()
        self.endpoints.service = f"http://127.0.0.1:{port}"
        self._log("starting the service", f"({self.workers} worker(s))")
        self.pids["service"] = self.procs.start(
            "service", python_cmd("-m", "service", "serve"), self._server_env(port), cwd=self.root
        )
        self.wait_http(f"{self.endpoints.service}/health/ready")

    def _start_baseline(self) -> None:
        port = free_port()
        self.endpoints.baseline = f"http://127.0.0.1:{port}"
        self.pids["baseline"] = self.procs.start(
            "baseline",
            python_cmd("-m", "bench.baseline", "--port", str(port), "--workers", str(self.workers)),
            self._server_env(port),
            cwd=self.root,  # its `service.http` is the measured service's
        )
        self.wait_http(f"{self.endpoints.baseline}/health/ready")

    def wait_http(self, url: str) -> None:
        wait_http_ready(url, self.procs.check_alive)

    def _api_key(self, name: str, *, limited: bool = False) -> str:
        args = ["-m", "service", "api-keys", "create", "--name", name]
        args += ["--scope", "payments:read", "--scope", "payments:write"]
        if limited:
            args += ["--rate-limit-per-second", LOW_RATE, "--rate-limit-burst", LOW_BURST]
        env = self._env({"DATABASE_URL": self.database_url})
        done = run_checked(python_cmd(*args), env, cwd=self.root)
        lines = done.stdout.strip().splitlines()
        if not lines or not lines[-1].startswith("sk_"):
            raise BenchError(f"api-keys create printed no key: {done.stdout!r}")
        return lines[-1].strip()

    # -- measurements -----------------------------------------------------------------

    def memory(self, target: str) -> dict[str, object]:
        mem = tree_memory(self.pids[target])
        return {
            "workers_sum_bytes": mem.workers_sum_bytes,
            "workers_bytes": mem.workers_bytes,
            "tree_bytes": mem.tree_bytes,
        }

    @staticmethod
    def _log(*parts: str) -> None:
        print("bench:", *parts, flush=True)
