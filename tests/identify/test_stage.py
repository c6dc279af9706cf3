"""The identify stage turns a violation into exactly one pending citation, even on redelivery,
and names the keeper or walker only when plate or face say so clearly."""

import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy import func, select

from identify.plates import PlateReader
from identify.stage import IdentifyStage
from pipeline.bus import MemoryBus
from pipeline.config import IdentificationConfig
from pipeline.events import (
    VIOLATIONS_IDENTIFIED,
    Event,
    EvidenceRef,
    ViolationDetected,
    ViolationIdentified,
)
from pipeline.evidence import EvidenceStore
from pipeline.store import Status, Store
from pipeline.store.models import AuditEntry, Citation
from pipeline.store.registry import add_face_embedding, add_person, add_vehicle
from tests.shared_data import DATA, need
from tests.stage_helpers import never_loaded, violation_event, with_camera


@pytest.fixture
def plates(readers: Callable[[str], PlateReader]) -> Callable[[], PlateReader]:
    """The stage's plate-reader factory, for the default region (`readers`: built once)."""
    return partial(readers, IdentificationConfig().plates.region)


def test_redelivered_violation_makes_one_citation_and_one_event_id(
    store: Store, plates: Callable[[], PlateReader]
) -> None:
    bus = MemoryBus()
    stage = IdentifyStage(with_camera(store), bus, IdentificationConfig(), plates=plates)
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


# ---------------------------------------------------------------- with real models and crops


def _stored_crops(evidence: EvidenceStore, images: list[np.ndarray]) -> list[EvidenceRef]:
    refs = []
    for image in images:
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 95])
        assert ok
        stored = evidence.put(buf.tobytes(), "crop:track", "image/jpeg")
        refs.append(EvidenceRef(sha256=stored.sha256, role=stored.role, media_type="image/jpeg"))
    return refs


def _car_track(photo: Path) -> list[np.ndarray]:
    """A car approaching: the photo's car region at growing sizes, as the tracker crops it."""
    image = cv2.imread(str(photo))
    _, x, y, w, h, _ = photo.with_suffix(".txt").read_text().split("\t")
    cx, cy = int(x) + int(w) // 2, int(y) + int(h) // 2
    crops = []
    for half in (int(w) * 2, int(w) * 3, int(w) * 4):
        x1, y1 = max(0, cx - half), max(0, cy - half)
        crops.append(image[y1 : cy + half // 2, x1 : cx + half])
    return crops


def _event(evidence: list[EvidenceRef], object_class: str, violation_id: str) -> ViolationDetected:
    kind = "jaywalk" if object_class == "person" else "red_light"
    return violation_event(violation_id).model_copy(
        update={"evidence": evidence, "object_class": object_class, "kind": kind}
    )


def _identified(bus: MemoryBus) -> list[ViolationIdentified]:
    """Everything published so far (each call reads the topic from the start)."""
    seen: list[Event] = []
    consumer = bus.subscribe(VIOLATIONS_IDENTIFIED, uuid.uuid4().hex, seen.append)
    while consumer.poll(0.05):
        pass
    consumer.close()
    return [e for e in seen if isinstance(e, ViolationIdentified)]


PLATE_PHOTO = "us/0b86cecf-67d1-4fc0-87c9-b36b0ee228bb.jpg"
PLATE_TEXT = "YG9X2G"


def test_plate_voted_over_the_track_names_the_registered_keeper(
    store: Store, tmp_path: Path, plates: Callable[[], PlateReader]
) -> None:
    evidence = EvidenceStore(tmp_path / "evidence")
    crops = _car_track(need(DATA / "plates-openalpr" / PLATE_PHOTO))
    with with_camera(store).session() as session:
        keeper = add_person(session, "Kim Keeper", phone="+15555550100", person_id="kim")
        add_vehicle(session, PLATE_TEXT, keeper.id)
    bus = MemoryBus()
    stage = IdentifyStage(store, bus, IdentificationConfig(), evidence, plates=plates)
    event = _event(_stored_crops(evidence, crops), "car", "v-plate")
    stage.handle(event)

    (published,) = _identified(bus)
    assert (published.plate_text, published.person_id) == (PLATE_TEXT, "kim")
    assert published.plate_confidence is not None and published.plate_confidence >= 0.8
    (plate_ref,) = published.evidence
    assert plate_ref.role == "crop:plate" and evidence.path_of(plate_ref.sha256).exists()
    with store.session() as session:
        citation = session.scalars(select(Citation)).one()
        record = citation.identification
        assert record is not None and record["plate"]["registry"] == "match"
        assert record["plate"]["frames_read"] >= 2
        lookup = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "identity_lookup")
        ).one()
        assert lookup.subject_id == "v-plate" and lookup.detail["result"] == "match"


def test_a_plate_one_character_off_is_shown_to_the_reviewer_and_not_taken(
    store: Store, tmp_path: Path, plates: Callable[[], PlateReader]
) -> None:
    evidence = EvidenceStore(tmp_path / "evidence")
    crops = _car_track(need(DATA / "plates-openalpr" / PLATE_PHOTO))
    near = PLATE_TEXT[:-1] + ("H" if PLATE_TEXT[-1] != "H" else "K")
    with with_camera(store).session() as session:
        add_person(session, "Other Keeper", person_id="other")
        add_vehicle(session, near, "other")
    bus = MemoryBus()
    IdentifyStage(store, bus, IdentificationConfig(), evidence, plates=plates).handle(
        _event(_stored_crops(evidence, crops), "car", "v-near")
    )
    (published,) = _identified(bus)
    assert (published.plate_text, published.person_id) == (PLATE_TEXT, None)
    with store.session() as session:
        record = session.scalars(select(Citation)).one().identification
        assert record is not None
        assert record["plate"]["registry"] == "near_match"
        assert record["plate"]["near_matches"] == [near]


def test_faces_stay_off_unless_configured(store: Store, tmp_path: Path) -> None:
    evidence = EvidenceStore(tmp_path / "evidence")
    crops = [cv2.imread(str(need(DATA / "faces" / "obama2.jpg")))]
    bus = MemoryBus()
    stage = IdentifyStage(
        with_camera(store),
        bus,
        IdentificationConfig(),
        evidence,
        plates=never_loaded,
        faces=never_loaded,
    )
    stage.handle(_event(_stored_crops(evidence, crops), "person", "v-walker"))
    (published,) = _identified(bus)
    assert (published.person_id, published.face_score, published.evidence) == (None, None, [])


def test_a_walker_is_named_only_above_the_match_threshold(store: Store, tmp_path: Path) -> None:
    from identify.faces import FaceEngine

    evidence = EvidenceStore(tmp_path / "evidence")
    config = IdentificationConfig.model_validate({"faces": {"enabled": True}})
    engine = FaceEngine(config.faces)
    enrolled = cv2.imread(str(need(DATA / "faces" / "obama.jpg")))
    (face,) = engine.faces(enrolled)
    with with_camera(store).session() as session:
        add_person(session, "Barack Obama", person_id="obama")
        add_face_embedding(
            session,
            "obama",
            model=engine.model_name,
            vector=engine.embed(enrolled, face).astype(np.float32).tobytes(),
            source_sha256="e" * 64,
        )
    bus = MemoryBus()
    stage = IdentifyStage(store, bus, config, evidence, plates=never_loaded, faces=lambda: engine)
    for name, violation_id in (("obama2.jpg", "v-obama"), ("biden.jpg", "v-biden")):
        crops = [cv2.imread(str(need(DATA / "faces" / name)))]
        stage.handle(_event(_stored_crops(evidence, crops), "person", violation_id))
    obama, biden = _identified(bus)
    assert obama.person_id == "obama" and obama.face_score is not None
    assert obama.face_score >= config.faces.match_threshold
    assert [ref.role for ref in obama.evidence] == ["crop:face"]
    assert biden.person_id is None, "below the threshold a walker is unidentified"
    assert biden.face_score is not None and biden.face_score < config.faces.match_threshold

    # Enrolled later: the same stage sees the new gallery.
    (face,) = engine.faces(crops[0])
    with store.session() as session:
        add_person(session, "Joe Biden", person_id="biden")
        add_face_embedding(
            session,
            "biden",
            model=engine.model_name,
            vector=engine.embed(crops[0], face).astype(np.float32).tobytes(),
            source_sha256="f" * 64,
        )
    stage.handle(_event(_stored_crops(evidence, crops), "person", "v-biden-again"))
    assert _identified(bus)[-1].person_id == "biden"


def test_a_redelivered_violation_is_not_identified_again(
    store: Store, tmp_path: Path, plates: Callable[[], PlateReader]
) -> None:
    evidence = EvidenceStore(tmp_path / "evidence")
    crops = _car_track(need(DATA / "plates-openalpr" / PLATE_PHOTO))
    event = _event(_stored_crops(evidence, crops), "car", "v-again")
    bus = MemoryBus()
    IdentifyStage(with_camera(store), bus, IdentificationConfig(), evidence, plates=plates).handle(
        event
    )
    IdentifyStage(store, bus, IdentificationConfig(), evidence, plates=never_loaded).handle(event)
    first, again = (e.model_dump(exclude={"created_at"}) for e in _identified(bus))
    assert first == again and first["plate_text"] == PLATE_TEXT
