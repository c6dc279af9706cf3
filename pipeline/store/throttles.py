"""Counters of wrong secrets (passwords, notice PINs) that slow guessing down without locking
anyone out: after `free` failures each further one makes the next try wait 1 s, doubling up to
`longest_s`. One counter per client address and one per name tried (known or not, so the
answers do not tell which names exist); counters idle for `window` are dropped, so the table
stays small. The console's logins and the citizen portal's PIN checks share this code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import delete
from sqlalchemy.orm import Session

from pipeline.store.models import NAME_LEN, LoginThrottle
from pipeline.store.rows import insert_once


@dataclass(frozen=True)
class Limit:
    kind: str
    """What is counted: `address`, `account`, `portal-address`, `notice` (16 characters)."""
    subject: str
    free: int
    """Failures allowed before waits start."""
    longest_s: float


class Throttle:
    """The counters of one attempt, locked in the caller's transaction."""

    def __init__(
        self, session: Session, limits: list[Limit], window: timedelta, now: datetime
    ) -> None:
        self.session = session
        self.now = now
        kinds = {limit.kind for limit in limits}
        session.execute(
            delete(LoginThrottle).where(
                LoginThrottle.kind.in_(kinds), LoginThrottle.last_failure_at < now - window
            )
        )
        self.rows: list[tuple[LoginThrottle, Limit]] = []
        for limit in limits:
            key = (limit.kind, limit.subject[:NAME_LEN])
            # Two first tries at once both find no row: one inserts it, the other takes it.
            find = partial(
                session.get, LoginThrottle, key, with_for_update=True, populate_existing=True
            )
            new = {"kind": key[0], "subject": key[1], "failures": 0, "last_failure_at": now}
            row, _ = insert_once(session, find, partial(LoginThrottle, **new))
            self.rows.append((row, limit))

    @property
    def wait_s(self) -> float:
        """Seconds until the next try is allowed; 0 when it is now."""
        waits = [
            (row.wait_until - self.now).total_seconds() for row, _ in self.rows if row.wait_until
        ]
        return max([0.0, *waits])

    def failed(self) -> dict[str, int]:
        """Count a wrong secret; the failures of each counter, by kind."""
        for row, limit in self.rows:
            row.failures += 1
            row.last_failure_at = self.now
            over = row.failures - limit.free
            wait = timedelta(seconds=min(2.0**over, limit.longest_s))
            row.wait_until = self.now + wait if over >= 0 else None
        return {row.kind: row.failures for row, _ in self.rows}

    def passed(self) -> None:
        """A right secret clears the counter of what it opened (the last limit: the name or
        notice), not the address's: one valid secret of one's own must not buy an address a
        fresh run of guesses at others."""
        self.session.delete(self.rows[-1][0])
