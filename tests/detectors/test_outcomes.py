"""Crossings a safeguard kept from being cited (issue 20, "why not cited"): the detect stage
publishes each as a ViolationSuppressed with the evidence a case would have had, made by the
same code, and never as a violation. Driven on real frames of ../shared/data/video/y2.mp4 with a
scripted track, so the signal and the moment of crossing are exactly known."""

from datetime import timedelta
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import pytest

from detectors.evidence import BAR_PX, EvidenceRecorder
from detectors.outcomes import suppressed_id
from detectors.signals import ControllerFeed, FixedPlan, PhaseSource
from detectors.sources import Frame
from detectors.stage import DetectStage
from detectors.tracking import TrackedObject
from pipeline.config import CameraConfig, Geometry, RulesConfig
from pipeline.events import SignalPhaseChanged, ViolationDetected, ViolationSuppressed
from pipeline.evidence import EvidenceStore, load_or_create_key
from tests.detectors.test_stage import FPS, START, ListTracker, one_road_camera
from tests.shared_data import DATA, need

FRAMES = 48
"""24 s at 2 fps: the crossing near 14.6 s and the 6 s of clip after it."""
LINES = {
    "stop_lines": [
        {"id": "s", "approach": "north", "points": [[200, 200], [440, 200]], "direction": "up"}
    ],
    "entry_lines": [{"id": "e", "stop_line": "s", "points": [[200, 100], [440, 100]]}],
}


@cache
def y2_images() -> list[np.ndarray]:
    """Every sixth frame of y2 (450x360), shown as if 0.5 s apart."""
    capture = cv2.VideoCapture(str(need(DATA / "video" / "y2.mp4")))
    images = []
    while len(images) < FRAMES:
        ok, image = capture.read()
        assert ok, "y2 has 292 frames"
        if int(capture.get(cv2.CAP_PROP_POS_FRAMES)) % 6 == 1:
            images.append(image)
    capture.release()
    return images


@pytest.fixture
def footage() -> list[np.ndarray]:
    return y2_images()


def frames_of(images: list[np.ndarray]) -> list[Frame]:
    return [
        Frame(i, i / FPS, START + timedelta(seconds=i / FPS), im) for i, im in enumerate(images)
    ]


def camera(signal: dict[str, object] | None = None) -> CameraConfig:
    lined = one_road_camera().model_copy(update={"geometry": Geometry.model_validate(LINES)})
    if signal is None:
        return lined
    return CameraConfig.model_validate({**lined.model_dump(), "signal": signal})


def car_up(track_id: int, x: int, front_at_line_s: float) -> list[list[TrackedObject]]:
    """A 40x60 car driving up at 40 px/s whose front reaches the stop line (y 200) at
    `front_at_line_s`: its wheels cross it 1.5 s later, the entry line (y 100) 2.5 s after."""
    listed: list[list[TrackedObject]] = []
    for i in range(FRAMES):
        top = 200 + 40 * (front_at_line_s - i / FPS)
        seen = -40 < top < 300
        listed.append([TrackedObject(track_id, "car", (x, top, x + 40, top + 60), 0.9)] * seen)
    return listed


@pytest.fixture
def store(tmp_path: Path) -> EvidenceStore:
    return EvidenceStore(tmp_path / "evidence", load_or_create_key(tmp_path / "key.pem"))


def run(
    store: EvidenceStore,
    cam: CameraConfig,
    signals: PhaseSource,
    listed: list[list[TrackedObject]],
    images: list[np.ndarray],
    rules: RulesConfig | None = None,
    taker: bool = True,
) -> tuple[list[ViolationDetected], list[ViolationSuppressed]]:
    cited: list[ViolationDetected] = []
    held: list[ViolationSuppressed] = []
    stage = DetectStage(
        camera=cam,
        rules=rules or RulesConfig(),
        tracker=ListTracker(listed),
        signals=signals,
        recorder=EvidenceRecorder(store, FPS),
        publish=cited.append,
        stream_start=START,
        publish_suppressed=held.append if taker else None,
    )
    stats = stage.process(frames_of(images))
    assert len(stats.suppressed) == len(held) or not taker
    return cited, held


def grace_crossing(store: EvidenceStore, track_id: int = 1) -> ViolationSuppressed:
    """The crossing of the grace-period test below, its evidence in `store`: for the tests of
    the record and the page."""
    cam = camera()
    cited, (event,) = run(
        store, cam, FixedPlan(cam.signal), car_up(track_id, 300, 13.1), y2_images()
    )
    assert cited == []
    return event


def unknown_phase_crossing(store: EvidenceStore) -> ViolationSuppressed:
    """The crossing of the unknown-signal test below, its evidence in `store`."""
    cam = camera({"kind": "controller"})
    feed = ControllerFeed(cam, START)
    feed.handle(
        SignalPhaseChanged(camera_id="cam", approach="north", phase="green", changed_at=START)
    )
    cited, (event,) = run(store, cam, feed, car_up(1, 300, 13.1), y2_images())
    assert cited == []
    return event


def assert_evidence_of(store: EvidenceStore, event: ViolationSuppressed) -> dict[str, object]:
    """The key frames (real frames with the data bar), the clip and the crops are stored and
    the signed manifest verifies; returns the manifest's facts."""
    roles = [ref.role for ref in event.evidence]
    assert {"key_frame:stop_line", "clip", "crop:offender"} <= set(roles)
    manifest = store.manifest_path(event.event_id)
    assert store.verify_manifest(manifest).ok
    assert event.manifest_sha256 is not None
    (frame,) = [ref for ref in event.evidence if ref.role == "key_frame:stop_line"]
    image = cv2.imdecode(np.frombuffer(store.get(frame.sha256), np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (360 + BAR_PX, 450, 3), "the frame with its data bar below"
    assert store.get(next(r.sha256 for r in event.evidence if r.role == "clip"))[4:8] == b"ftyp"
    return store.facts(event.event_id)


def test_a_crossing_in_the_grace_period_is_published_with_evidence_and_not_cited(
    tmp_path: Path, store: EvidenceStore, footage: list[np.ndarray]
) -> None:
    """Green 0-10 s, amber 10-13 s, red from 13 s; the car's front reaches the line at 13.1 s,
    0.1 s into red, inside the 0.3 s grace period, and it drives on through the entry line."""
    cam = camera()
    cited, held = run(store, cam, FixedPlan(cam.signal), car_up(1, 300, 13.1), footage)

    assert cited == [], "a safeguard's crossing is never a violation"
    (event,) = held
    assert (event.kind, event.safeguard, event.rule, event.track_id) == (
        "red_light",
        "grace_period",
        "s",
        1,
    )
    assert "grace period" in event.reason
    assert event.signal.phase == "red" and event.signal.time_into_red_s == pytest.approx(0.1)
    assert (event.signal.source, event.signal.grace_s, event.signal.amber_duration_s) == (
        "fixed_plan",
        0.3,
        3.0,
    )
    assert (event.judged_s, event.stream_s) == (pytest.approx(13.1), pytest.approx(14.6))
    occurred = START + timedelta(seconds=event.stream_s)
    assert event.occurred_at == occurred
    assert event.event_id == suppressed_id("cam", "red_light", 1, occurred)
    facts = assert_evidence_of(store, event)
    assert (facts["suppressed"], facts["safeguard"], facts["kind"]) == (
        True,
        "grace_period",
        "red_light",
    )
    assert "key_frame:judged" in [r.role for r in event.evidence], "when its front reached it"

    replay = EvidenceStore(tmp_path / "again", load_or_create_key(tmp_path / "key.pem"))
    _, again = run(replay, cam, FixedPlan(cam.signal), car_up(1, 300, 13.1), footage)
    assert [e.event_id for e in again] == [event.event_id], "the same footage, the same id"


def test_a_crossing_while_the_signal_is_unknown_is_published_with_evidence(
    store: EvidenceStore,
) -> None:
    """The controller feed said green at 0 s and then went silent: after `stale_after_s` (5 s)
    nobody can say what the signal showed, so the car that goes at 13.1 s is not cited."""
    event = unknown_phase_crossing(store)

    assert (event.safeguard, event.reason) == ("unknown_phase", "signal phase unknown")
    assert event.signal.phase == "unknown" and event.signal.source == "controller"
    assert event.signal.time_into_red_s is None
    assert assert_evidence_of(store, event)["safeguard"] == "unknown_phase"


def test_evidence_is_capped_per_hour_and_made_only_for_a_taker(
    tmp_path: Path, store: EvidenceStore, footage: list[np.ndarray]
) -> None:
    """A signal outage suppresses every crossing: past `max_per_hour` they are published
    without evidence. Without anyone taking them (`stopline detect`) none is made at all."""
    cam = camera()
    both = [a + b for a, b in zip(car_up(1, 260, 13.1), car_up(2, 360, 13.2), strict=True)]
    rules = RulesConfig.model_validate({"suppressed_evidence": {"max_per_hour": 1}})

    cited, held = run(store, cam, FixedPlan(cam.signal), both, footage, rules)

    held.sort(key=lambda e: e.track_id)  # the one without evidence is published at once
    assert cited == [] and [e.track_id for e in held] == [1, 2]
    assert held[0].evidence and held[0].manifest_sha256 is not None
    assert (held[1].evidence, held[1].manifest_sha256) == ([], None)
    assert held[1].signal.phase == "red", "listed with its reason and signal all the same"

    off = RulesConfig.model_validate({"suppressed_evidence": {"keep": False}})
    bare = EvidenceStore(tmp_path / "off", load_or_create_key(tmp_path / "key.pem"))
    _, unkept = run(bare, cam, FixedPlan(cam.signal), car_up(1, 300, 13.1), footage, off)
    assert [e.manifest_sha256 for e in unkept] == [None]
    nobody = EvidenceStore(tmp_path / "nobody", load_or_create_key(tmp_path / "key.pem"))
    cited, _ = run(nobody, cam, FixedPlan(cam.signal), car_up(1, 300, 13.1), footage, taker=False)
    assert cited == [] and not list((tmp_path / "nobody").rglob("*.json"))
    assert not list((tmp_path / "off").rglob("*.json"))
