"""Skip events a consumer group already applied.

The bus delivers at least once, so a redelivered event must not send a second SMS or insert a
second citation. `Deduper` is deliberately two methods so the SQL-backed one in the store can
implement it without depending on this package's internals.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol, runtime_checkable

from pipeline.bus.base import Handler
from pipeline.events import Event

log = logging.getLogger("pipeline.bus")


@runtime_checkable
class Deduper(Protocol):
    """Remembers which `event_id`s each consumer group has applied.

    Keyed by group as well as event id because two groups reading one topic (say the notifier
    and the billboard) must each apply the same event once. `mark` must be durable when it
    returns; a SQL implementation should mark in the same transaction as the handler's writes,
    which closes the gap between "applied" and "marked" that this wrapper cannot close.
    """

    def seen(self, group: str, event_id: str) -> bool:
        """True if `mark(group, event_id)` happened before."""
        ...

    def mark(self, group: str, event_id: str) -> None:
        """Record that `group` applied `event_id`; marking twice is harmless."""
        ...


class InMemoryDeduper:
    """For the embedded mode and tests; forgets everything when the process exits."""

    def __init__(self) -> None:
        self._seen: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def seen(self, group: str, event_id: str) -> bool:
        with self._lock:
            return (group, event_id) in self._seen

    def mark(self, group: str, event_id: str) -> None:
        with self._lock:
            self._seen.add((group, event_id))


def idempotent(handler: Handler, deduper: Deduper, group: str) -> Handler:
    """Wrap `handler` so an event already applied by `group` is acknowledged without effect.

    The mark comes after the handler returned, so a failed handler is retried rather than
    recorded as done.
    """

    def wrapper(event: Event) -> None:
        if deduper.seen(group, event.event_id):
            log.debug("skipping duplicate event_id=%s group=%s", event.event_id, group)
            return
        handler(event)
        deduper.mark(group, event.event_id)

    return wrapper
