"""The detect stage on a long stream: judged tracks are those seen, forgotten ones are freed,
and riders on two-wheelers are never judged as pedestrians."""

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from detectors.evidence import EvidenceRecorder, bar_lines
from detectors.outcomes import live_label
from detectors.phases import PhaseState
from detectors.signals import FixedPlan
from detectors.sources import Frame
from detectors.stage import FORGET_AFTER_S, DetectStage
from detectors.tracking import TrackedObject
from pipeline.config import CameraConfig, Geometry, GroundCalibration, RulesConfig
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
    walked = run(False, tmp_path / "a")
    assert [(e.kind, e.reason, e.signal) for e in walked] == [
        ("jaywalk", "outside_crosswalk", None)
    ], "off every crosswalk: no signal applies, and the event says so"
    assert run(True, tmp_path / "b") == []


def test_a_rider_whose_bike_is_mostly_missed_is_cited_for_the_red_light(tmp_path: Path) -> None:
    """Seen on the Hanoi clip: the rider is found in every frame, the bike under them in few."""
    camera = one_road_camera().model_copy(
        update={
            "geometry": Geometry.model_validate(
                {
                    "stop_lines": [
                        {
                            "id": "s",
                            "approach": "north",
                            "points": [[200, 200], [440, 200]],
                            "direction": "up",
                        }
                    ],
                    "entry_lines": [
                        {"id": "e", "stop_line": "s", "points": [[200, 100], [440, 100]]}
                    ],
                }
            )
        }
    )
    red_from = 30  # frame 30 is 15 s, 2 s into red (green 0-10 s, amber 10-13 s)
    listed: list[list[TrackedObject]] = [[] for _ in range(red_from)]
    for k in range(18):  # 20 px a frame (40 px/s) up the road
        y = 300 - 20 * k
        seen = [TrackedObject(1, "person", (300, y, 330, y + 60), 0.8)]
        if k < 4:
            seen.append(TrackedObject(2, "motorcycle", (295, y + 30, 335, y + 75), 0.6))
        listed.append(seen)
    events: list[ViolationDetected] = []
    stage = stage_for(tmp_path, camera, ListTracker(listed), events)
    stage.process(frames(len(listed) + 10))
    assert [(e.kind, e.object_class, e.track_id) for e in events] == [
        ("red_light", "motorcycle", 2)
    ]
    assert events[0].signal is not None
    # its front (the rider's head) reached the line at frame 35: 4.5 s into red
    assert events[0].signal.time_into_red_s == 4.5
    assert events[0].reason == "stop_line_on_red"
    assert events[0].speed_kmh is None, "no ground calibration, no speed stated"
    assert (events[0].signal.grace_s, events[0].signal.red_onset_seen) == (0.3, True)
    # where to look in the footage: its wheels cross the stop line (y=200) at 19.375 s; the
    # position is the nearest frame's (19.5 s)
    assert events[0].stream_s == 19.375
    assert events[0].where_px == (315.0, 195.0)


def test_a_calibrated_camera_states_the_speed_in_kmh(tmp_path: Path) -> None:
    """The road from x=200 to 440 px is 6 m wide and 9 m long in the image's 360 px: 2.5 cm a
    pixel both ways. The rider of the test above moves 40 px/s: 1 m/s, 3.6 km/h."""
    calibrated = one_road_camera().model_copy(
        update={
            "ground_calibration": GroundCalibration(
                image_points=[(200, 0), (440, 0), (440, 360), (200, 360)],
                ground_points_m=[(0, 0), (6, 0), (6, 9), (0, 9)],
                surveyed="test survey",
            )
        }
    )
    events: list[ViolationDetected] = []
    walk = [
        [TrackedObject(1, "person", (140 + 15 * i, 100, 170 + 15 * i, 160), 0.9)] for i in range(12)
    ]
    stage_for(tmp_path, calibrated, ListTracker(walk), events).process(frames(42))
    assert [e.kind for e in events] == ["jaywalk"]
    # 15 px a frame at 2 fps sideways: 30 px/s = 0.75 m/s = 2.7 km/h
    assert events[0].speed_kmh == pytest.approx(2.7, abs=0.05)


def test_each_evidence_frame_says_the_signal_at_that_moment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The data bar of every clip frame and key frame shows the phase and the time into it at
    that frame (issue 19), read once in the stage's thread when the case's footage is taken."""
    seen: dict[float, str] = {}
    original = EvidenceRecorder._package

    def package(self, case, track, clip, shape, live):  # type: ignore[no-untyped-def]
        seen.update(live)
        return original(self, case, track, clip, shape, live)

    monkeypatch.setattr(EvidenceRecorder, "_package", package)
    test_a_rider_whose_bike_is_mostly_missed_is_cited_for_the_red_light(tmp_path)
    assert seen, "labels for the clip's frames"
    # Green 0-10 s, amber 10-13 s, then red (the plan of one_road_camera).
    assert seen[19.5] == "RED +6.50s"
    assert {label.split()[0] for label in seen.values()} <= {"AMBER", "RED"}


def test_live_labels_and_the_bar_lines() -> None:
    assert live_label(PhaseState("red", 10.0, 3.0), 11.56) == "RED +1.56s"
    assert live_label(PhaseState("amber", 10.0, None), 10.5) == "AMBER +0.50s"
    assert live_label(PhaseState("red", None, None, seen_since_s=4.0), 9.0) == (
        "RED (onset not seen)"
    )
    assert live_label(PhaseState("green", 0.0, None), 3.0) == "GREEN"
    frame = frames(1)[0]
    head, facts = bar_lines(frame, "cam Test Ave | RED +1.00s | track 4", "RED +0.50s")
    assert head.endswith("Z  cam Test Ave") and facts == "now RED +0.50s | RED +1.00s | track 4"
    assert bar_lines(frame, "cam Test Ave | off the crosswalk", None)[1] == "off the crosswalk"
