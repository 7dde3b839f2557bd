"""Wall-clock time, behind the Clock port so tests can move it."""

from datetime import UTC, datetime


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
