"""The event outbox: an event is stored in the transaction of the change it announces, and a
relay publishes stored events to the bus afterwards.

Publishing after commit loses the event if the process dies in between; publishing before
commit announces a change that may roll back. Stored with the change, the event exists exactly
when the change does, and the relay delivers it at least once (consumers deduplicate by
`event_id`). It also carries events between processes that share only the database, such as
the review console and `stopline run` on the embedded memory bus.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.bus import Bus
from pipeline.events import Event
from pipeline.store import Store
from pipeline.store.models import OutboxEvent, utcnow
from pipeline.store.rows import insert_once

log = logging.getLogger(__name__)

BATCH = 200
POLL_S = 0.2


def enqueue(session: Session, topic: str, key: str, event: Event) -> None:
    """Store `event` for the relay, in the caller's transaction; once per `event_id`."""
    insert_once(
        session,
        lambda: session.scalar(select(OutboxEvent).where(OutboxEvent.event_id == event.event_id)),
        lambda: OutboxEvent(event_id=event.event_id, topic=topic, key=key, payload=event.to_json()),
    )


def relay_once(store: Store, bus: Bus) -> int:
    """Publish the oldest unpublished events, in the order they were stored; how many the bus
    now holds safely (marked published). An event the bus cannot yet hold safely (the memory
    bus, until every group handled it) stays unpublished here and is marked on a later pass."""
    with store.session() as session:
        rows = session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.published_at.is_(None))
            .order_by(OutboxEvent.id)
            .limit(BATCH)
        ).all()
        marked = 0
        for row in rows:
            # Published before the mark commits: a crash here publishes again, never loses.
            if bus.hand_over(row.event_id, row.topic, row.key, row.payload):
                row.published_at = utcnow()
                marked += 1
        return marked


def relay(store: Store, bus: Bus, stop: threading.Event, poll_s: float = POLL_S) -> None:
    """Relay until `stop`; a failed pass is logged and retried, never ends the loop."""
    while not stop.is_set():
        try:
            if relay_once(store, bus) == BATCH:
                continue
        except Exception:
            log.exception("event outbox relay failed; retrying")
        stop.wait(poll_s)
