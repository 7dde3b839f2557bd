"""CPU time and memory of process groups, read from /proc.

The CPU of a group is the sum over its live processes of utime + stime + cutime +
cstime: a child that has exited and been reaped (a PostgreSQL backend whose
connection closed, a uvicorn worker that was replaced) is still counted, in its
parent's cutime/cstime. A delta of two snapshots is the CPU the group used in
between. The machine's own busy/idle jiffies come from /proc/stat.
"""

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class Stat:
    pid: int
    ppid: int
    comm: str
    cpu_ticks: int  # utime + stime + cutime + cstime


def read_stat(pid: int) -> Stat | None:
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # comm may hold spaces and parentheses: it ends at the last ")".
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    # fields[0] is field 3 of proc(5): state; ppid is 4, utime..cstime are 14..17.
    ticks = sum(int(value) for value in fields[11:15])
    return Stat(pid, int(fields[1]), comm, ticks)


def all_stats() -> dict[int, Stat]:
    stats = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (stat := read_stat(int(entry.name))) is not None:
            stats[stat.pid] = stat
    return stats


def descendants(root: int, stats: dict[int, Stat]) -> list[int]:
    """`root` and every live process below it."""
    children: dict[int, list[int]] = {}
    for stat in stats.values():
        children.setdefault(stat.ppid, []).append(stat.pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            found.append(pid)
            todo.extend(children.get(pid, []))
    return found


def rss_bytes(pid: int) -> int:
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@dataclass(frozen=True, slots=True)
class MachineTicks:
    """Jiffies of every CPU since boot, from the first line of /proc/stat."""

    process: int  # user + nice + system: what processes' utime/stime add up to
    irq: int  # irq + softirq (loopback networking runs much of its time here)
    steal: int  # taken by the hypervisor
    total: int

    @property
    def busy(self) -> int:
        return self.process + self.irq + self.steal


def machine_ticks() -> MachineTicks:
    first = (PROC / "stat").read_text().splitlines()[0].split()[1:]
    v = [int(value) for value in first] + [0] * 10
    # user nice system idle iowait irq softirq steal (guest time is already in user)
    return MachineTicks(v[0] + v[1] + v[2], v[5] + v[6], v[7], sum(v[:8]))


@dataclass(frozen=True, slots=True)
class Snapshot:
    machine: MachineTicks
    groups: dict[str, int]  # group -> cpu ticks


@dataclass(frozen=True, slots=True)
class MachineCpu:
    """CPU seconds of the whole machine between two snapshots."""

    process_s: float
    irq_s: float
    steal_s: float
    busy_share: float  # of every core, 0..1


class Groups:
    """Named process trees to measure: the service, PostgreSQL, the simulator, Redis...

    A root of None means "not local" (e.g. a remote PostgreSQL): the group's CPU is
    reported as None.
    """

    def __init__(self, roots: dict[str, int | None]) -> None:
        self.roots = roots

    def snapshot(self) -> Snapshot:
        stats = all_stats()
        groups = {}
        for name, root in self.roots.items():
            if root is not None:
                groups[name] = sum(stats[pid].cpu_ticks for pid in descendants(root, stats))
        return Snapshot(machine_ticks(), groups)

    @staticmethod
    def cpu_seconds(before: Snapshot, after: Snapshot) -> dict[str, float | None]:
        result: dict[str, float | None] = {}
        for name in set(before.groups) | set(after.groups):
            if name in before.groups and name in after.groups:
                result[name] = (after.groups[name] - before.groups[name]) / TICKS
            else:
                result[name] = None
        return result

    @staticmethod
    def machine(before: Snapshot, after: Snapshot) -> MachineCpu:
        b, a = before.machine, after.machine
        total = a.total - b.total
        return MachineCpu(
            process_s=(a.process - b.process) / TICKS,
            irq_s=(a.irq - b.irq) / TICKS,
            steal_s=(a.steal - b.steal) / TICKS,
            busy_share=(a.busy - b.busy) / total if total > 0 else 0.0,
        )


def worker_pids(root: int) -> list[int]:
    """The processes serving requests: uvicorn's workers, or the server itself alone.

    With --workers N uvicorn's parent only supervises; its children (spawned
    multiprocessing workers) serve. A multiprocessing resource tracker is no worker.
    """
    stats = all_stats()
    workers = []
    for pid in descendants(root, stats):
        if pid == root or stats[pid].ppid != root:
            continue
        try:
            cmdline = (PROC / str(pid) / "cmdline").read_bytes()
        except OSError:
            continue
        if b"resource_tracker" not in cmdline:
            workers.append(pid)
    return workers or [root]


@dataclass(frozen=True, slots=True)
class Memory:
    workers_bytes: list[int]  # RSS per worker
    tree_bytes: int  # every process of the tree, the supervisor included

    @property
    def workers_sum_bytes(self) -> int:
        return sum(self.workers_bytes)


def tree_memory(root: int) -> Memory:
    tree = descendants(root, all_stats())
    return Memory([rss_bytes(pid) for pid in worker_pids(root)], sum(map(rss_bytes, tree)))


def postgres_root(backend_pid: int) -> int | None:
    """The postmaster of a backend (its parent), when the server runs on this machine."""
    stat = read_stat(backend_pid)
    if stat is None or "postgres" not in stat.comm:
        return None  # not this machine's (e.g. a server in a container or elsewhere)
    parent = read_stat(stat.ppid)
    return parent.pid if parent is not None and "postgres" in parent.comm else None


def local_pid(pid: int | None) -> int | None:
    return pid if pid is not None and read_stat(pid) is not None else None
