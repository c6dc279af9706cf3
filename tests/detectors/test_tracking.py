"""ByteTrack over scripted detections: identity through occlusions, class votes, frame rates.

No registry package ships consecutive labelled frames of traffic, so the detector here replays
deterministic box sequences (straight-line motion, seeded pixel noise, detector score jitter and
occlusion gaps): what ByteTrack sees is exactly what a detector would hand it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import pytest

from detectors.objects import ClassName, Detection, Detector
from detectors.sources import Frame
from detectors.tracking import ByteTrackTracker, TrackedObject, Tracker
from tests.clock import START

IMAGE = np.zeros((4, 4, 3), np.uint8)


@dataclass(frozen=True)
class Mover:
    """An object moving in a straight line, hidden from the detector during `hidden_s`."""

    label: ClassName
    start: tuple[float, float]
    velocity_px_s: tuple[float, float]
    size: tuple[float, float]
    hidden_s: tuple[float, float] = (0.0, 0.0)

    def box_at(self, t: float) -> tuple[float, float, float, float]:
        x = self.start[0] + self.velocity_px_s[0] * t
        y = self.start[1] + self.velocity_px_s[1] * t
        return (x, y, x + self.size[0], y + self.size[1])

    def visible(self, t: float) -> bool:
        return not self.hidden_s[0] <= t < self.hidden_s[1]


class ReplayDetector(Detector):
    """Answers each `detect` call with the next scripted frame's detections."""

    name = "replay"

    def __init__(self, frames: list[list[Detection]]) -> None:
        self.frames = iter(frames)

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        return next(self.frames)


def scene(
    movers: dict[str, Mover],
    times: list[float],
    seed: int = 7,
    labels: Callable[[str, int], ClassName] | None = None,
) -> tuple[list[list[Detection]], dict[tuple[float, ...], str]]:
    """Noisy detections of the visible movers at each time, and which mover each box is.

    `labels` may override the class the detector reports for a mover in a frame.
    """
    rng = np.random.default_rng(seed)
    frames = []
    owner = {}
    for i, t in enumerate(times):
        dets = []
        for key, m in movers.items():
            if not m.visible(t):
                continue
            x1, y1, x2, y2 = (float(v) for v in np.add(m.box_at(t), rng.normal(0, 2.0, 4)))
            label = labels(key, i) if labels else m.label
            dets.append(Detection(x1, y1, x2, y2, float(rng.uniform(0.6, 0.95)), label))
            owner[dets[-1].box] = key
        frames.append(dets)
    return frames, owner


def run(
    movers: dict[str, Mover], fps: float, seconds: float, **scene_args: Any
) -> dict[str, list[TrackedObject]]:
    """Track the scene; each output goes to the mover whose detection box it carries."""
    times = [i / fps for i in range(int(seconds * fps))]
    frames, owner = scene(movers, times, **scene_args)
    tracker: Tracker = ByteTrackTracker(ReplayDetector(frames), frame_rate=fps)
    seen: dict[str, list[TrackedObject]] = {key: [] for key in movers}
    for i, t in enumerate(times):
        for obj in tracker.update(Frame(i, t, START + timedelta(seconds=t), IMAGE)):
            seen[owner[obj.box]].append(obj)
    return seen


def ids(objs: list[TrackedObject]) -> set[int]:
    return {o.track_id for o in objs}


TRAFFIC = {
    "car_a": Mover("car", (100, 400), (0, -60), (80, 60)),
    "car_b": Mover("car", (220, 420), (0, -45), (80, 60)),
    "bus": Mover("bus", (350, 500), (0, -30), (120, 160)),
    "walker": Mover("person", (10, 200), (40, 0), (30, 80)),
}


def test_ids_survive_a_short_occlusion() -> None:
    movers = dict(TRAFFIC, car_a=Mover("car", (100, 400), (0, -60), (80, 60), (2.0, 2.8)))
    seen = run(movers, fps=10, seconds=5)
    for key, objs in seen.items():
        assert len(ids(objs)) == 1, f"{key} changed id: {ids(objs)}"
    assert set().union(*map(ids, seen.values())) == set(range(1, len(movers) + 1))
    back = [o for o in seen["car_a"] if o.box[1] < 400 - 60 * 2.8]
    assert back, "the occluded car must be tracked again after it reappears"


def test_an_occlusion_longer_than_the_buffer_starts_a_new_track() -> None:
    """Beyond `lost_track_s` a reappearing box is a new object: a stale id must not be reused."""
    movers = {"car_a": Mover("car", (100, 400), (0, -60), (80, 60), (1.5, 3.0))}
    seen = run(movers, fps=10, seconds=5)
    before = {o.track_id for o in seen["car_a"] if o.box[1] > 400 - 60 * 1.5}
    after = {o.track_id for o in seen["car_a"] if o.box[1] < 400 - 60 * 3.0}
    assert len(before) == len(after) == 1
    assert before != after


@pytest.mark.parametrize("fps", [5.0, 25.0])
def test_the_lost_buffer_is_seconds_at_any_frame_rate(fps: float) -> None:
    short = {"car": Mover("car", (100, 400), (0, -50), (80, 60), (2.0, 2.8))}
    assert len(ids(run(short, fps=fps, seconds=5)["car"])) == 1
    long = {"car": Mover("car", (100, 400), (0, -50), (80, 60), (2.0, 3.6))}
    assert len(ids(run(long, fps=fps, seconds=5)["car"])) == 2


def test_class_is_a_majority_vote_over_the_track() -> None:
    """A car the detector calls 'truck' now and then stays one car track."""

    def labels(key: str, i: int) -> ClassName:
        return "truck" if key == "car_a" and i % 4 == 3 else TRAFFIC[key].label

    seen = run(TRAFFIC, fps=10, seconds=4, labels=labels)
    car = seen["car_a"]
    assert len(ids(car)) == 1
    assert {o.object_class for o in car} == {"car"}


@pytest.mark.parametrize("seed", range(6))
def test_a_rider_and_the_motorcycle_keep_separate_ids(seed: int) -> None:
    """Seen from a pole, rider and bike boxes nearly coincide (IoU ~0.8 here)."""
    movers = {
        "rider": Mover("person", (300, 380), (-10, -70), (40, 70)),
        "bike": Mover("motorcycle", (300, 388), (-10, -70), (40, 70)),
    }
    seen = run(movers, fps=10, seconds=4, seed=seed)
    assert {o.object_class for o in seen["rider"]} == {"person"}
    assert {o.object_class for o in seen["bike"]} == {"motorcycle"}
    assert len(ids(seen["rider"])) == len(ids(seen["bike"])) == 1
    assert ids(seen["rider"]).isdisjoint(ids(seen["bike"]))


def test_the_name_says_what_saw_the_object() -> None:
    tracker = ByteTrackTracker(ReplayDetector([]), frame_rate=10)
    assert tracker.name.startswith("replay + bytetrack (trackers 2.")


def test_other_classes_are_not_tracked() -> None:
    movers = {"light": Mover("traffic_light", (600, 20), (0, 0), (20, 50))}
    assert run(movers, fps=10, seconds=2)["light"] == []
