"""The identify stage turns a violation into exactly one pending citation, even on redelivery."""

from sqlalchemy import func, select

from detectors.identify import IdentifyStage
from pipeline.bus import MemoryBus
from pipeline.config import IdentificationConfig
from pipeline.events import VIOLATIONS_IDENTIFIED, Event, ViolationIdentified
from pipeline.store import Status, Store
from pipeline.store.models import Citation
from tests.stage_helpers import violation_event, with_camera


def test_redelivered_violation_makes_one_citation_and_one_event_id(store: Store) -> None:
    bus = MemoryBus()
    stage = IdentifyStage(with_camera(store), bus, IdentificationConfig())
    event = violation_event()
    stage.handle(event)
    stage.handle(event)  # at-least-once: the same event again after a crash

    with store.session() as session:
        citations = session.scalars(select(Citation)).all()
        assert len(citations) == 1
        assert citations[0].status == Status.PENDING_REVIEW
        assert session.scalar(select(func.count()).select_from(Citation)) == 1

    seen: list[Event] = []
    consumer = bus.subscribe(VIOLATIONS_IDENTIFIED, "t", seen.append)
    while consumer.poll(0.05):
        pass
    assert len(seen) == 2
    assert all(isinstance(e, ViolationIdentified) for e in seen)
    assert seen[0].event_id == seen[1].event_id, "a re-run must re-publish the same event id"
    assert seen[0].citation_id == citations[0].id
