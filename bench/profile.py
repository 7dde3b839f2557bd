"""`--profile DIR`: py-spy samples the server during each measured run.

py-spy (a dev dependency) attaches to the running server from outside, so the code
measured is the code deployed; `--nonblocking` keeps it from pausing the process
(the figures of a profiled run still carry the sampler's cost: compare ratios, not
absolutes). Each run leaves `<label>.folded` (collapsed stacks, for speedscope.app
or flamegraph.pl) and `<label>-top.txt`: the frames with the most samples, by
self time and by inclusive time.
"""

import collections
import shutil
import subprocess
import sys
from pathlib import Path


class Profiler:
    def __init__(self, out: Path, pid: int, label: str, seconds: float) -> None:
        self.folded = out / f"{label}.folded"
        self.top = out / f"{label}-top.txt"
        out.mkdir(parents=True, exist_ok=True)
        exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        self._proc = subprocess.Popen(
            [
                exe,
                "record",
                "--pid",
                str(pid),
                "--subprocesses",  # uvicorn's workers with --workers > 1
                "--nonblocking",
                "--rate",
                "100",
                "--duration",
                str(max(1, int(seconds))),
                "--format",
                "raw",
                "--output",
                str(self.folded),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def finish(self) -> Path | None:
        """Wait for py-spy, write the top frames; None if it could not sample."""
        try:
            _, err = self._proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.communicate()
            print("bench: py-spy did not finish; no profile", file=sys.stderr)
            return None
        if self._proc.returncode != 0 or not self.folded.exists():
            print(f"bench: py-spy failed: {err.strip()[-300:]}", file=sys.stderr)
            return None
        self.top.write_text(top_frames(self.folded.read_text()))
        return self.top


def _frame(entry: str) -> str:
    """`name (path/to/module.py:12)` -> `name (module path within site-packages)`."""
    name, _, where = entry.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0].split("site-packages/")[-1]
    return f"{name} ({path})"


def top_frames(folded: str, limit: int = 40) -> str:
    """Self and inclusive sample shares of the busiest frames of a collapsed profile."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in folded.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [_frame(f) for f in stack.split(";")]
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    if not total:
        return "no samples\n"
    lines = [f"{total} samples", "", "self %  frame"]
    lines += [f"{100 * n / total:6.1f}  {f}" for f, n in own.most_common(limit)]
    lines += ["", "incl %  frame"]
    lines += [f"{100 * n / total:6.1f}  {f}" for f, n in inclusive.most_common(limit)]
    return "\n".join(lines) + "\n"
