"""The event outbox on SQLite and PostgreSQL: an event exists exactly when the change it
announces committed, reaches the bus in the order stored, and a crash between publishing and
marking publishes it again rather than losing it."""

import pytest
from sqlalchemy import func, select

from pipeline.bus import MemoryBus
from pipeline.events import CitationApproved, Event
from pipeline.outbox import enqueue, relay_once
from pipeline.store import Store
from pipeline.store.models import OutboxEvent


def approved(n: int) -> CitationApproved:
    return CitationApproved(
        event_id=f"approved-{n}", citation_id=f"c{n}", camera_id="cam", reviewer="rita"
    )


def read(bus: MemoryBus, topic: str) -> list[Event]:
    seen: list[Event] = []
    consumer = bus.subscribe(topic, f"reader-{id(seen)}", seen.append)
    while consumer.poll(0.05):
        pass
    consumer.close()
    return seen


def test_events_are_relayed_once_in_order(store: Store) -> None:
    bus = MemoryBus()
    with store.session() as session:
        for n in range(3):
            enqueue(session, "citations.approved", "cam", approved(n))
        enqueue(session, "citations.approved", "cam", approved(1))  # a redelivered decision
    assert relay_once(store, bus) == 3
    assert relay_once(store, bus) == 0
    assert [e.event_id for e in read(bus, "citations.approved")] == [
        "approved-0",
        "approved-1",
        "approved-2",
    ]


def test_an_event_of_a_rolled_back_change_never_exists(store: Store) -> None:
    with pytest.raises(RuntimeError), store.session() as session:
        enqueue(session, "citations.approved", "cam", approved(7))
        raise RuntimeError("the approval failed after the event was written")
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(OutboxEvent)) == 0


class FailingBus(MemoryBus):
    """Publishes the first `ok` messages, then dies as a process would mid-batch."""

    def __init__(self, ok: int) -> None:
        super().__init__()
        self.ok = ok

    def publish_raw(self, topic: str, key: str, value: bytes) -> None:
        if self.ok == 0:
            raise ConnectionError("broker gone")
        self.ok -= 1
        super().publish_raw(topic, key, value)


def test_a_crash_mid_batch_publishes_again_never_loses(store: Store) -> None:
    with store.session() as session:
        for n in range(3):
            enqueue(session, "citations.approved", "cam", approved(n))
    bus = FailingBus(ok=2)
    with pytest.raises(ConnectionError):
        relay_once(store, bus)
    bus.ok = 10
    assert relay_once(store, bus) == 3, "the marks rolled back with the failed batch"
    ids = [e.event_id for e in read(bus, "citations.approved")]
    assert ids == ["approved-0", "approved-1", "approved-0", "approved-1", "approved-2"]
    assert set(ids) == {"approved-0", "approved-1", "approved-2"}, "consumers dedupe by id"


def test_the_memory_bus_keeps_an_event_in_the_outbox_until_every_group_handled_it(
    store: Store,
) -> None:
    """The memory bus dies with its process: an approval relayed to it but not yet handled
    must be relayed again by the next process, not marked published and lost."""
    bus = MemoryBus()
    handled: list[Event] = []
    display = bus.subscribe("citations.approved", "display", handled.append)
    with store.session() as session:
        enqueue(session, "citations.approved", "cam", approved(1))
    assert relay_once(store, bus) == 0, "on the bus, but no group has handled it yet"
    assert relay_once(store, bus) == 0, "and it is not published twice meanwhile"

    restarted = MemoryBus()  # the process was killed; its bus is gone
    display = restarted.subscribe("citations.approved", "display", handled.append)
    assert relay_once(store, restarted) == 0
    assert display.poll(0.05) == 1
    assert relay_once(store, restarted) == 1, "handled by every group: now it is safe"
    assert [e.event_id for e in handled] == ["approved-1"]
    with store.session() as session:
        assert session.scalar(select(OutboxEvent.published_at)) is not None
