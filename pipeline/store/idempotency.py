"""Idempotent bus handlers backed by the `processed_events` table.

Delivery is at-least-once, so a handler may see an event twice. Marking the event in the same
transaction as the handler's effect makes the two commit or roll back together: a redelivered
event is then either seen (skip it) or was never applied. Of two consumers applying the same
event at once, the second fails on the primary key and its whole transaction rolls back.

    with store.session() as session:
        if not seen(session, group, event.event_id):
            apply(session, event)
            mark(session, group, event.event_id)
"""

from __future__ import annotations

from contextlib import suppress

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pipeline.store.engine import Store
from pipeline.store.models import ProcessedEvent


class AlreadyProcessed(Exception):
    """Another transaction marked this event first; roll back so its effect isn't doubled."""

    def __init__(self, group: str, event_id: str) -> None:
        super().__init__(f"event {event_id} was already processed by group {group!r}")
        self.group = group
        self.event_id = event_id


def seen(session: Session, group: str, event_id: str) -> bool:
    return session.get(ProcessedEvent, (group, event_id)) is not None


def mark(session: Session, group: str, event_id: str) -> None:
    """Record the event as applied by `group`; raises `AlreadyProcessed` if it already was."""
    # Flushes the caller's pending rows first, so only our own insert can fail inside.
    savepoint = session.begin_nested()
    try:
        with savepoint:
            session.add(ProcessedEvent(consumer_group=group, event_id=event_id))
    except IntegrityError as exc:
        raise AlreadyProcessed(group, event_id) from exc


class SqlDeduper:
    """The bus's `Deduper` shape over the store, each call in its own transaction.

    For handlers whose effect lies outside this database, where effect and mark cannot share
    a transaction anyway; a handler that writes to the store should use `seen`/`mark` in its
    own session instead. Marking twice is harmless here, as with an in-memory set.
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    def seen(self, group: str, event_id: str) -> bool:
        with self._store.session() as session:
            return seen(session, group, event_id)

    def mark(self, group: str, event_id: str) -> None:
        with suppress(AlreadyProcessed), self._store.session() as session:
            mark(session, group, event_id)
