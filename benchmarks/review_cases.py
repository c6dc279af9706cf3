"""Citations waiting for review, with real evidence, for the console's tests and benchmark.

The evidence is the real clip y2.mp4 (../shared/data/video: a car crossing on red, H.264) and
JPEG frames of it; content addressing stores each file once however many cases show it. Plates
and keepers are registry rows, so lookups and corrections work as in a deployment.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from pipeline.config import parse_config
from pipeline.events import EvidenceRef, SignalSnapshot, ViolationDetected, derived_id
from pipeline.evidence import EvidenceStore, StoredFile
from pipeline.store import Store, create_citation
from pipeline.store.registry import put_camera, put_person, put_vehicle, record_violation

CLIP = Path(__file__).resolve().parents[2] / "shared" / "data" / "video" / "y2.mp4"
CLIP_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "clip-y2.yaml"
"""The camera set-up judged on y2 (its stop, entry lines and crosswalk), recorded with its cases."""
CAMERAS = ("north-cam", "east-cam")
EPOCH = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
FRAME_ROLES = ("key_frame:stop_line", "key_frame:entry_line", "crop:offender", "crop:track")


@dataclass(frozen=True)
class Evidence:
    files: list[StoredFile]
    facts: dict[str, Any]
    manifest_sha256: str
    """A stand-in where the cases have no signed manifest."""
    at_s: float
    """When the violation is in the clip (the middle: the car at the line)."""

    @property
    def refs(self) -> list[EvidenceRef]:
        return [
            EvidenceRef(sha256=f.sha256, role=f.role, media_type=f.media_type) for f in self.files
        ]


def store_evidence(evidence: EvidenceStore, clip: Path = CLIP) -> Evidence:
    """Four frames from the middle of the clip as JPEG and the clip itself, stored once."""
    cap = cv2.VideoCapture(str(clip))
    count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    wanted = {round(count * share) for share in (0.45, 0.48, 0.51, 0.55)}  # the car at the line
    frames: list[bytes] = []
    index = 0
    while len(frames) < len(FRAME_ROLES):
        ok, image = cap.read()
        if not ok:
            raise OSError(f"cannot read frames of {clip}")
        if index in wanted:
            ok, encoded = cv2.imencode(".jpg", image)
            frames.append(encoded.tobytes())
        index += 1
    fps = cap.get(cv2.CAP_PROP_FPS)
    cap.release()
    files = [
        evidence.put(data, role, "image/jpeg")
        for role, data in zip(FRAME_ROLES, frames, strict=True)
    ]
    files.append(evidence.put(clip.read_bytes(), "clip", "video/mp4"))
    manifest = hashlib.sha256(b"".join(f.sha256.encode() for f in files)).hexdigest()
    height, width = image.shape[:2]
    facts: dict[str, Any] = {
        "frame_size": [width, height],
        "analysis_frame_size": [width, height],
        "clip_fps": fps,
        "clip_start_s": 0.0,
    }
    if clip == CLIP:
        config = parse_config(yaml.safe_load(CLIP_CONFIG.read_text()), str(CLIP_CONFIG))
        facts["camera_setup"] = config.cameras[0].setup_record()
    return Evidence(files, facts, manifest, at_s=round(count / 2 / fps, 2))


def plate_of(index: int) -> str:
    return f"KX{index:05d}"


def seed(
    store: Store,
    evidence: EvidenceStore,
    count: int,
    start: int = 0,
    batch: int = 500,
    signing_key: Ed25519PrivateKey | None = None,
    clip: Path = CLIP,
    plate_crops: Path | None = None,
) -> list[str]:
    """`count` pending citations (ids returned, oldest first); every other one has a keeper.
    With `signing_key`, each case has its signed manifest, as the detect stage writes it. With
    `plate_crops` (a folder of real plate crops named by their text, as
    ../shared/data/plates-cn-crops), each case is that plate's, its crop among the evidence."""
    stored = store_evidence(evidence, clip)
    plates = [] if plate_crops is None else sorted(plate_crops.glob("*.jpg"))
    signer = None if signing_key is None else EvidenceStore(evidence.root, signing_key)
    ids: list[str] = []
    for first in range(start, start + count, batch):
        with store.session() as session:
            for camera in CAMERAS:
                put_camera(session, camera, camera, f"{camera} junction")
            for index in range(first, min(first + batch, start + count)):
                crop = plates[index % len(plates)] if plates else None
                read = None if crop is None else _plate(evidence, crop)
                ids.append(_cite(session, index, stored, signer, read))
    return ids


def _plate(evidence: EvidenceStore, crop: Path) -> tuple[str, StoredFile]:
    return crop.stem, evidence.put(crop.read_bytes(), "crop:plate", "image/jpeg")


def _cite(
    session: Session,
    index: int,
    stored: Evidence,
    signer: EvidenceStore | None,
    read: tuple[str, StoredFile] | None = None,
) -> str:
    """`read`: the plate's text and crop; else a made-up plate without a crop."""
    camera = CAMERAS[index % len(CAMERAS)]
    plate = plate_of(index) if read is None else read[0]
    person_id = None
    if index % 2 == 0:
        person_id = f"P{index:06d}"
        put_person(session, person_id, f"Keeper {index}", phone=f"+4930{index:07d}")
        put_vehicle(session, plate, person_id)
    violation_id = derived_id("review-case", str(index))
    manifest = stored.manifest_sha256
    if signer is not None:
        manifest = signer.write_manifest(violation_id, stored.files, stored.facts)
    event = ViolationDetected(
        violation_id=violation_id,
        kind="red_light" if index % 3 else "jaywalk",
        camera_id=camera,
        occurred_at=EPOCH + timedelta(seconds=30 * index),
        track_id=index,
        object_class="car" if index % 3 else "person",
        signal=SignalSnapshot(
            phase="red", source="fixed_plan", time_into_red_s=1.5, amber_duration_s=3.0
        ),
        speed_px_s=180.0,
        stream_s=stored.at_s,
        rule="north-stop",
        evidence=stored.refs,
        manifest_sha256=manifest,
    )
    record_violation(session, event)
    citation_id = derived_id("citation", event.violation_id)
    confidence = 0.6 + 0.4 * ((index * 37) % 100) / 100
    create_citation(
        session,
        event.violation_id,
        citation_id=citation_id,
        plate_text=plate,
        plate_confidence=confidence,
        person_id=person_id,
        identification={
            "plate": {
                "status": "read",
                "text": plate,
                "confidence": confidence,
                "frames_read": 6,
                "frames_used": 5,
                "crops": 8,
                "registry": "match" if person_id else "not_found",
                "near_matches": [],
            },
            "evidence": []
            if read is None
            else [{"sha256": read[1].sha256, "role": "crop:plate", "media_type": "image/jpeg"}],
        },
    )
    return citation_id
