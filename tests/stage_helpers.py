"""Shared builders for stage tests: a recorded camera and a realistic ViolationDetected."""

from datetime import UTC, datetime
from typing import NoReturn

from pipeline.events import EvidenceRef, SignalSnapshot, ViolationDetected
from pipeline.store import Store
from pipeline.store.registry import put_camera

CAMERA = "cam-stage"


def violation_event(violation_id: str = "v-stage-1") -> ViolationDetected:
    return ViolationDetected(
        violation_id=violation_id,
        kind="red_light",
        camera_id=CAMERA,
        occurred_at=datetime(2026, 11, 21, 8, 0, 15, tzinfo=UTC),
        track_id=4,
        object_class="car",
        signal=SignalSnapshot(
            phase="red", source="fixed_plan", time_into_red_s=1.8, amber_duration_s=3.5
        ),
        speed_px_s=94.0,
        rule="north-stop",
        evidence=[EvidenceRef(sha256="a" * 64, role="clip", media_type="video/mp4")],
        manifest_sha256="b" * 64,
    )


def with_camera(store: Store) -> Store:
    with store.session() as session:
        put_camera(session, CAMERA, CAMERA, "Test Ave")
    return store


def never_loaded() -> NoReturn:
    """A model factory for a case that must not need the model."""
    raise AssertionError("a model was loaded that this case does not need")
