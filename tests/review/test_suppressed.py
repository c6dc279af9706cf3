"""The review stage's record of suppressed crossings, on SQLite and PostgreSQL: each stored once
by its event id however often the bus delivers it, a replay of the same footage included, and
`stopline run` / `stopline worker review-suppressed` consume the topic."""

import threading
from pathlib import Path

import yaml
from sqlalchemy import func, select

from pipeline.bus import MemoryBus
from pipeline.config import load_config
from pipeline.events import VIOLATIONS_SUPPRESSED, ViolationSuppressed
from pipeline.evidence import EvidenceStore, load_or_create_key
from pipeline.store import Store
from pipeline.store.models import Citation, Violation
from pipeline.store.registry import put_camera
from pipeline.store.suppressed import SuppressedEvent
from review.suppressed import SuppressedRecord
from stopline.demo.run import DEMO_CONFIG
from stopline.wiring import STAGES, Pipeline
from tests.detectors.test_outcomes import grace_crossing


def crossing(tmp_path: Path, store: Store) -> ViolationSuppressed:
    """The detect stage's event for a real crossing in the grace period, camera registered."""
    evidence = EvidenceStore(tmp_path / "evidence", load_or_create_key(tmp_path / "key.pem"))
    event = grace_crossing(evidence)
    with store.session() as session:
        put_camera(session, event.camera_id, event.camera_id, "Test Ave")
    return event


def rows(store: Store) -> list[SuppressedEvent]:
    with store.session() as session:
        found = list(session.scalars(select(SuppressedEvent)))
        session.expunge_all()
        return found


def test_a_redelivered_or_replayed_crossing_is_stored_once(tmp_path: Path, store: Store) -> None:
    event = crossing(tmp_path, store)
    bus = MemoryBus()
    record = SuppressedRecord(store)
    consumer = bus.subscribe(VIOLATIONS_SUPPRESSED, SuppressedRecord.group, record.handle)
    replayed = event.model_copy(update={"created_at": event.created_at.replace(year=2027)})
    for again in (event, event, replayed):  # at least once; then the same footage run again
        bus.publish(VIOLATIONS_SUPPRESSED, event.camera_id, again)
    handled = 0
    while moved := consumer.poll(0.05):
        handled += moved
    consumer.close()

    assert handled == 3
    (row,) = rows(store)
    assert (row.id, row.camera_id, row.kind, row.safeguard, row.rule) == (
        event.event_id,
        "cam",
        "red_light",
        "grace_period",
        "s",
    )
    assert (row.signal_phase, row.track_id, row.object_class) == ("red", 1, "car")
    assert row.occurred_at == event.occurred_at and row.manifest_sha256 == event.manifest_sha256
    assert ViolationSuppressed.model_validate(row.event) == event
    with store.session() as session:
        cases = [session.scalar(select(func.count()).select_from(t)) for t in (Violation, Citation)]
    assert cases == [0, 0], "a suppressed crossing is never a case"


def test_two_workers_given_the_same_crossing_at_once_store_one_row(
    tmp_path: Path, store: Store
) -> None:
    event = crossing(tmp_path, store)
    records = [SuppressedRecord(store), SuppressedRecord(store)]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(record: SuppressedRecord) -> None:
        start.wait()
        try:
            record.handle(event)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(r,)) for r in records]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert [row.id for row in rows(store)] == [event.event_id]


def test_the_stage_consumes_the_topic_in_run_and_as_a_worker(tmp_path: Path) -> None:
    data = yaml.safe_load(DEMO_CONFIG.read_text())
    data["storage"] = {
        "database_url": f"sqlite:///{tmp_path / 'stopline.db'}",
        "evidence_dir": str(tmp_path / "evidence"),
        "signing_key_path": str(tmp_path / "key.pem"),
    }
    (tmp_path / "site.yaml").write_text(yaml.safe_dump(data))
    with Pipeline(load_config(tmp_path / "site.yaml"), base_dir=tmp_path) as pipeline:
        assert "review-suppressed" in STAGES and "review-suppressed" in pipeline._stages()
        event = crossing(tmp_path, pipeline.store)
        pipeline._publish(event)  # as the detect stage's camera runs publish it
        (consumer,) = pipeline._consumers("review-suppressed")
        while consumer.poll(0.05):
            pass
        consumer.close()
        assert [row.id for row in rows(pipeline.store)] == [event.event_id]
