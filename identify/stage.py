"""The identify stage: a detected violation becomes a citation waiting for review, with who.

A vehicle's plate is voted over the offender crops the detect stage stored, then looked up for
its keeper; a pedestrian's face (only where the deployment turned faces on) is matched against
the enrolled gallery. A wrong name is worse than none: a plate below the confidence floor is
`unreadable`, a registry plate one edit away is listed for the reviewer but never taken, and a
face below the match threshold is `unidentified`.

Re-running after a crash is safe: a violation that already has a citation is not identified
again (the models are deterministic, but the registry may have changed), and the follow-up
event is re-published from the stored citation with its derived id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from identify.faces import FaceEngine, Gallery, gallery_from_store
from identify.plates import PlateReader, PlateVote, near_matches
from pipeline.bus import Bus
from pipeline.config import IdentificationConfig
from pipeline.events import (
    VIOLATIONS_IDENTIFIED,
    Event,
    EvidenceRef,
    ViolationDetected,
    ViolationIdentified,
    derived_id,
)
from pipeline.evidence import EvidenceStore
from pipeline.images import TRACK_CROP_QUALITY, crop, decode_image, jpeg
from pipeline.store import Store, audit, create_citation
from pipeline.store.models import Citation
from pipeline.store.registry import (
    face_gallery_version,
    get_vehicle,
    record_violation,
    vehicles_near,
)

ACTOR = "system:identify"
PLATED = frozenset({"car", "motorcycle", "bus", "truck"})
"""Classes that carry a registration plate; bicycles do not."""
TRACK_CROP_ROLE = "crop:track"


@dataclass
class Found:
    """What identification found, before it is stored with the citation."""

    plate: PlateVote | None = None
    face_person_id: str | None = None
    face_score: float | None = None
    record: dict[str, Any] = field(default_factory=dict)
    evidence: list[EvidenceRef] = field(default_factory=list)


class IdentifyStage:
    group = "identify"

    def __init__(
        self,
        store: Store,
        bus: Bus,
        config: IdentificationConfig,
        evidence: EvidenceStore | None = None,
        *,
        plates: Callable[[], PlateReader],
        faces: Callable[[], FaceEngine] | None = None,
    ) -> None:
        """`plates` and `faces` build the models on first use, so a deployment with either
        switched off, or a stage that only re-publishes, never loads them. The application
        hands in `plates`, as the plate reader borrows a vehicle detector from `detectors`."""
        self.store = store
        self.bus = bus
        self.config = config
        self.evidence = evidence
        self._make_plates = plates
        self._make_faces = faces or (lambda: FaceEngine(config.faces))
        self._plates: PlateReader | None = None
        self._faces: FaceEngine | None = None
        self._cached_gallery: tuple[tuple[int, int | None], Gallery] | None = None

    def handle(self, event: Event) -> None:
        if not isinstance(event, ViolationDetected):
            return
        with self.store.session() as session:
            citation = self._citation_of(session, event.violation_id)
        if citation is None:
            found = self._identify(event)
            with self.store.session() as session:
                citation = self._cite(session, event, found)
        self.bus.publish(
            VIOLATIONS_IDENTIFIED,
            event.camera_id,
            ViolationIdentified(
                event_id=derived_id("identified", event.violation_id),
                violation_id=event.violation_id,
                camera_id=event.camera_id,
                citation_id=citation.id,
                plate_text=citation.plate_text,
                plate_confidence=citation.plate_confidence,
                person_id=citation.person_id,
                face_score=citation.face_score,
                evidence=[
                    EvidenceRef.model_validate(ref)
                    for ref in (citation.identification or {}).get("evidence", [])
                ],
            ),
        )

    @staticmethod
    def _citation_of(session: Session, violation_id: str) -> Citation | None:
        citation = session.scalar(select(Citation).where(Citation.violation_id == violation_id))
        if citation is not None:
            session.expunge(citation)
        return citation

    # ------------------------------------------------------------ models (no transaction open)

    def _crops(self, event: ViolationDetected) -> list[np.ndarray]:
        if self.evidence is None:
            return []
        return [
            decode_image(self.evidence.get(ref.sha256), f"offender crop {ref.sha256[:12]}")
            for ref in event.evidence
            if ref.role == TRACK_CROP_ROLE
        ]

    def _identify(self, event: ViolationDetected) -> Found:
        found = Found()
        wants_plate = self.config.plates.enabled and event.object_class in PLATED
        wants_face = self.config.faces.enabled and event.object_class == "person"
        crops = self._crops(event) if wants_plate or wants_face else []
        if wants_plate:
            self._read_plate(crops, found)
        if wants_face:
            self._match_face(crops, found)
        return found

    def _keep(self, found: Found, image: np.ndarray, role: str) -> dict[str, str]:
        if self.evidence is None:
            return {}
        stored = self.evidence.put(jpeg(image, TRACK_CROP_QUALITY), role, "image/jpeg")
        ref = EvidenceRef(sha256=stored.sha256, role=role, media_type=stored.media_type)
        found.evidence.append(ref)
        return {"crop_sha256": stored.sha256}

    def _read_plate(self, crops: list[np.ndarray], found: Found) -> None:
        if not crops:
            found.record["plate"] = {"status": "no_crops"}
            return
        if self._plates is None:
            self._plates = self._make_plates()
        vote = self._plates.read_track(crops, self.config.plates.region)
        found.plate = vote
        record: dict[str, Any] = {
            "status": "read" if vote.text else "unreadable",
            "text": vote.text,
            "confidence": round(vote.confidence, 4),
            "frames_read": vote.frames_read,
            "frames_used": vote.frames_used,
            "crops": len(crops),
        }
        if vote.best is not None and vote.best_index is not None:
            plate_image = crop(crops[vote.best_index], vote.best.box)
            record |= self._keep(found, plate_image, "crop:plate")
        found.record["plate"] = record

    def _match_face(self, crops: list[np.ndarray], found: Found) -> None:
        if self._faces is None:
            self._faces = self._make_faces()
        shot = self._faces.best_shot(crops) if crops else None
        if shot is None:
            found.record["face"] = {"status": "no_usable_face", "crops": len(crops)}
            return
        index, face, embedding = shot
        matches = self._gallery(self._faces.model_name).search(embedding, 1)
        person_id, score = matches[0] if matches else (None, None)
        threshold = self.config.faces.match_threshold
        identified = score is not None and score >= threshold
        found.face_person_id = person_id if identified else None
        found.face_score = score
        found.record["face"] = {
            "status": "identified" if identified else "unidentified",
            "score": None if score is None else round(float(score), 4),
            "threshold": threshold,
            "crop_index": index,
        } | self._keep(found, crop(crops[index], face.box), "crop:face")

    def _gallery(self, model_name: str) -> Gallery:
        """The enrolled gallery, rebuilt only after an enrolment or removal (an ANN index over
        a large gallery takes seconds to build)."""
        with self.store.session() as session:
            version = face_gallery_version(session, model_name)
            if self._cached_gallery is None or self._cached_gallery[0] != version:
                gallery = gallery_from_store(session, model_name, self.config.faces)
                self._cached_gallery = (version, gallery)
        return self._cached_gallery[1]

    # ------------------------------------------------------------ store (one transaction)

    def _cite(self, session: Session, event: ViolationDetected, found: Found) -> Citation:
        record_violation(session, event)
        person_id = found.face_person_id
        plate = found.plate
        if plate is not None and plate.text:
            person_id = self._lookup_keeper(session, event, plate.text, found.record["plate"])
        found.record["evidence"] = [ref.model_dump(mode="json") for ref in found.evidence]
        citation = create_citation(
            session,
            event.violation_id,
            citation_id=derived_id("citation", event.violation_id),
            plate_text=plate.text if plate else None,
            plate_confidence=plate.confidence if plate else None,
            person_id=person_id,
            face_score=found.face_score,
            identification=found.record,
            actor=ACTOR,
        )
        session.flush()
        session.expunge(citation)
        return citation

    @staticmethod
    def _lookup_keeper(
        session: Session, event: ViolationDetected, text: str, record: dict[str, Any]
    ) -> str | None:
        """The keeper of an exactly matching plate; near matches only go to the reviewer."""
        vehicle = get_vehicle(session, text)
        near = near_matches(text, [v.plate for v in vehicles_near(session, text)])
        record["registry"] = "match" if vehicle else ("near_match" if near else "not_found")
        record["near_matches"] = near
        audit.append(
            session,
            ACTOR,
            "identity_lookup",
            "violation",
            event.violation_id,
            {"plate": text, "result": record["registry"], "near_matches": near},
        )
        return vehicle.keeper_person_id if vehicle else None
