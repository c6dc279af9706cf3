"""A wall clock the tests set, for code that takes `now`: the same answer on any date."""

from datetime import UTC, datetime, timedelta

START = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


class WallClock:
    def __init__(self, at: datetime = START) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> None:
        self.at += delta
