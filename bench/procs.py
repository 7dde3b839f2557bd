"""Child processes of a bench run: each in its own process group, all killed on exit.

Every child gets `BENCH_RUN_ID=<our pid>` in its environment (so a leftover can be
found: the smoke test looks for it) and a parent-death signal (SIGTERM when this
process dies, even by SIGKILL), besides the process-group kill in `Processes.close`.
"""

import contextlib
import ctypes
import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType

import httpx

ROOT = Path(__file__).resolve().parents[1]
RUN_ID_ENV = "BENCH_RUN_ID"
PR_SET_PDEATHSIG = 1


class BenchError(RuntimeError):
    """The run cannot go on; the message says why."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def child_env(extra: Mapping[str, str], drop: Sequence[str] = ()) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in set(drop)}
    env[RUN_ID_ENV] = str(os.getpid())
    env.update(extra)
    return env


def python_cmd(*args: str) -> list[str]:
    return [sys.executable, *args]


def run_checked(
    args: Sequence[str], env: Mapping[str, str], cwd: Path = ROOT, timeout: float = 120.0
) -> subprocess.CompletedProcess[str]:
    """Run a short command to completion (its own group, killed on timeout); fail loudly."""
    proc = subprocess.Popen(
        list(args),
        cwd=cwd,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except BaseException:
        kill_group(proc, grace=2.0)
        raise
    if proc.returncode != 0:
        raise BenchError(f"{' '.join(args[1:4])} failed ({proc.returncode}):\n{err[-2000:]}")
    return subprocess.CompletedProcess(list(args), proc.returncode, out, err)


def kill_group(proc: subprocess.Popen[str] | subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM the child's process group, SIGKILL it after `grace` seconds."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
    # The leader may be gone while workers of its group live on: kill the group anyway.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)


def _drain(pipe: io.BufferedIOBase, path: Path) -> None:
    with path.open("wb", buffering=1 << 20) as log:
        while chunk := pipe.read1(1 << 16):
            log.write(chunk)


class Processes:
    """Long-running children (servers): started in their own group, stopped together."""

    def __init__(self, log_dir: Path) -> None:
        self._log_dir = log_dir
        self._children: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(
        self, name: str, args: Sequence[str], env: Mapping[str, str], cwd: Path = ROOT
    ) -> int:
        # Output goes through a pipe, as it does to a container runtime; a thread of
        # ours copies it to the log in big buffered writes. (Writing each line to a
        # file on this disk cost the service ~0.17 ms of system time per line.)
        proc = subprocess.Popen(
            list(args),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        assert isinstance(proc.stdout, io.BufferedIOBase)
        threading.Thread(
            target=_drain, args=(proc.stdout, self._log_dir / f"{name}.log"), daemon=True
        ).start()
        self._children.append((name, proc))
        return proc.pid

    def check_alive(self) -> None:
        for name, proc in self._children:
            if proc.poll() is not None:
                raise BenchError(f"{name} exited ({proc.returncode}): {self.log_tail(name)}")

    def log_tail(self, name: str, limit: int = 2000) -> str:
        path = self._log_dir / f"{name}.log"
        return path.read_text(errors="replace")[-limit:] if path.exists() else ""

    def stop(self, name: str) -> None:
        for child_name, proc in list(self._children):
            if child_name == name:
                kill_group(proc, grace=10.0)
                self._children.remove((child_name, proc))

    def close(self) -> None:
        while self._children:
            _, proc = self._children.pop()
            kill_group(proc, grace=10.0)


def wait_http(
    url: str, alive: Callable[[], None], timeout: float = 60.0, expect: int = 200
) -> None:
    """Poll `url` until it answers `expect`; `alive` raises if the server died."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        alive()
        try:
            reply = httpx.get(url, timeout=2.0)
            if reply.status_code == expect:
                return
            last = f"HTTP {reply.status_code}"
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        time.sleep(0.1)
    raise BenchError(f"{url} not ready after {timeout:g} s ({last})")


@contextlib.contextmanager
def signals_as_exit() -> Iterator[None]:
    """SIGINT, SIGTERM, SIGHUP raise KeyboardInterrupt, so every `finally` cleans up.

    SIGINT too: a shell starts background jobs with SIGINT ignored.
    """

    def _raise(signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = {
        sig: signal.signal(sig, _raise) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def leftover_pids(run_id: int) -> list[int]:
    """Live processes carrying BENCH_RUN_ID=run_id (there should be none after a run)."""
    marker = f"{RUN_ID_ENV}={run_id}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker in environ.split(b"\0"):
            found.append(int(entry.name))
    return found
