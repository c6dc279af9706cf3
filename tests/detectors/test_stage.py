"""The detect stage on a long stream: judged tracks are those seen, forgotten ones are freed,
and riders on two-wheelers are never judged as pedestrians."""

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from detectors.evidence import EvidenceRecorder
from detectors.signals import FixedPlan
from detectors.sources import Frame
from detectors.stage import FORGET_AFTER_S, DetectStage, riding
from detectors.tracking import TrackedObject
from pipeline.config import CameraConfig, RulesConfig
from pipeline.events import ViolationDetected
from pipeline.evidence import EvidenceStore, load_or_create_key

FPS = 2.0
START = datetime(2026, 11, 21, tzinfo=UTC)


class ListTracker:
    """Answers frame i with the i-th list of objects (nothing after the end)."""

    name = "listed"

    def __init__(self, frames: Sequence[list[TrackedObject]]) -> None:
        self.frames = frames

    def update(self, frame: Frame) -> list[TrackedObject]:
        return self.frames[frame.index] if frame.index < len(self.frames) else []


ROAD = [[200, 0], [440, 0], [440, 360], [200, 360]]
PLAN = {"approach": "north", "green_start_s": 0, "green_s": 10, "amber_s": 3}


def one_road_camera() -> CameraConfig:
    """One approach with a road from x=200 to x=440, so no geometry from elsewhere matters."""
    return CameraConfig.model_validate(
        {
            "id": "cam",
            "source": "unused.mp4",
            "location": "Test Ave",
            "geometry": {"carriageways": [{"id": "road", "polygon": ROAD}]},
            "signal": {"kind": "fixed_plan", "cycle_s": 30, "plan": [PLAN]},
        }
    )


def stage_for(
    tmp_path: Path, camera: CameraConfig, tracker: ListTracker, events: list[ViolationDetected]
) -> DetectStage:
    store = EvidenceStore(tmp_path / "ev", load_or_create_key(tmp_path / "k.pem"))
    return DetectStage(
        camera=camera,
        rules=RulesConfig(),
        tracker=tracker,
        signals=FixedPlan(camera.signal),
        recorder=EvidenceRecorder(store, FPS),
        publish=events.append,
        stream_start=START,
    )


def frames(n: int, first: int = 0) -> list[Frame]:
    image = np.zeros((360, 640, 3), np.uint8)
    return [Frame(i, i / FPS, START, image) for i in range(first, first + n)]


def test_tracks_unseen_for_long_are_forgotten(tmp_path: Path) -> None:
    camera = one_road_camera()
    n = int((FORGET_AFTER_S + 5) * FPS)
    car = [TrackedObject(7, "car", (230, 300, 290, 390), 0.9)]
    stage = stage_for(tmp_path, camera, ListTracker([car] * 4), [])
    stage.process(frames(4))
    assert list(stage.tracks) == [7]
    stats = stage.process(frames(n - 4, first=4))
    assert stage.tracks == {} and stage.classes == {}
    assert stats.frames == n and stats.violations == 0


def test_a_rider_crossing_the_carriageway_is_not_a_jaywalker(tmp_path: Path) -> None:
    """The same walk is cited for a pedestrian and not for a person sitting on a motorcycle."""
    camera = one_road_camera()
    left = ROAD[0][0]
    # Walk from the pavement left of the road into it, sideways, for 6 s.
    n = 12
    person = [(1, "person", (left - 60 + 15 * i, 100, left - 30 + 15 * i, 160)) for i in range(n)]
    bike = [(2, "motorcycle", (left - 65 + 15 * i, 130, left - 25 + 15 * i, 175)) for i in range(n)]

    def run(with_bike: bool, folder: Path) -> list[ViolationDetected]:
        listed = [
            [
                TrackedObject(t, c, b, 0.9)
                for t, c, b in ([person[i], bike[i]] if with_bike else [person[i]])
            ]
            for i in range(n)
        ]
        events: list[ViolationDetected] = []
        stage_for(folder, camera, ListTracker(listed), events).process(frames(n + 30))
        return events

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert [e.kind for e in run(False, tmp_path / "a")] == ["jaywalk"]
    assert run(True, tmp_path / "b") == []


def test_riding_needs_a_two_wheeler_under_the_person() -> None:
    person = (100.0, 100.0, 140.0, 200.0)
    under = TrackedObject(2, "motorcycle", (95, 150, 150, 210), 0.9)
    beside = TrackedObject(3, "motorcycle", (150, 150, 200, 210), 0.9)
    car = TrackedObject(4, "car", (95, 150, 150, 210), 0.9)
    assert riding(person, [under])
    assert not riding(person, [beside])
    assert not riding(person, [car])
