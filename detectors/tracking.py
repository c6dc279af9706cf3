"""Tracked objects: what the rules see of a frame.

The rules depend only on this small interface, so the tracker behind it (ByteTrack over a
detector, or a test's scripted one) is swapped by wiring, not by editing the rules.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version
from typing import Protocol

import numpy as np
import supervision as sv
from trackers import ByteTrackTracker as _LibByteTrack

from detectors.objects import ClassName, Detection, Detector
from detectors.sources import Frame

PEDESTRIANS: frozenset[ClassName] = frozenset({"person"})
VEHICLES: frozenset[ClassName] = frozenset({"bicycle", "car", "motorcycle", "bus", "truck"})


@dataclass(frozen=True)
class TrackedObject:
    track_id: int
    object_class: str
    """COCO-style class name: person, bicycle, car, motorcycle, bus, truck."""
    box: tuple[float, float, float, float]
    score: float


class Tracker(Protocol):
    name: str
    """Shown in summaries and stored with each violation, so a reviewer knows what saw it."""

    def update(self, frame: Frame) -> list[TrackedObject]: ...


class ByteTrackTracker:
    """ByteTrack (Roboflow `trackers`) over any detector, with one id space for all classes.

    Pedestrians and vehicles are tracked by separate ByteTrack instances, because a rider and
    the motorcycle under them overlap almost completely and a class-agnostic match could hand
    the person's id to the bike. Within a group the class is a running majority vote, so one
    frame where a car is called a truck does not split or relabel its track. Association runs
    on capture timestamps, so a dropped frame or a lower analysis rate stretches the motion
    model instead of breaking it, and `lost_track_s` is seconds, whatever the frame rate.
    """

    def __init__(
        self,
        detector: Detector,
        *,
        frame_rate: float,
        lost_track_s: float = 1.0,
        activation_score: float = 0.5,
        high_score: float = 0.5,
        min_iou: float = 0.1,
        confirm_frames: int = 2,
        groups: Sequence[frozenset[ClassName]] = (PEDESTRIANS, VEHICLES),
    ) -> None:
        self.detector = detector
        self.name = f"{detector.name} + bytetrack (trackers {version('trackers')})"
        # The library counts its buffer in 30 fps frames and turns it into seconds as /30.
        buffer = math.ceil(lost_track_s * 30)
        self._groups = list(groups)
        self._trackers = [
            _LibByteTrack(
                lost_track_buffer=buffer,
                frame_rate=frame_rate,
                track_activation_threshold=activation_score,
                minimum_consecutive_frames=confirm_frames,
                minimum_iou_threshold=min_iou,
                high_conf_det_threshold=high_score,
            )
            for _ in self._groups
        ]
        self._next_id = itertools.count(1)
        self._ids: dict[tuple[int, int], int] = {}
        self._votes: dict[int, Counter[str]] = {}

    def update(self, frame: Frame) -> list[TrackedObject]:
        found = self.detector.detect(frame.image)
        out: list[TrackedObject] = []
        for g, (classes, tracker) in enumerate(zip(self._groups, self._trackers, strict=True)):
            dets = [d for d in found if d.class_name in classes]
            result = tracker.update(_to_supervision(dets), timestamp=frame.t)
            # The library answers an empty frame with a fresh object that has no "index".
            indices = result.data.get("index", ())
            for lib_id, i in zip(result.tracker_id, indices, strict=True):
                if lib_id < 0:
                    continue  # not confirmed yet: rules must not see one-frame ghosts
                det = dets[int(i)]
                key = (g, int(lib_id))
                if key not in self._ids:
                    self._ids[key] = next(self._next_id)
                track_id = self._ids[key]
                votes = self._votes.setdefault(track_id, Counter())
                votes[det.class_name] += 1
                x1, y1, x2, y2 = (float(v) for v in det.box)
                label = votes.most_common(1)[0][0]
                out.append(TrackedObject(track_id, label, (x1, y1, x2, y2), float(det.score)))
            self._forget_lost(g, tracker)
        return out

    def _forget_lost(self, group: int, tracker: _LibByteTrack) -> None:
        """Drop ids and votes of tracks the library has given up, so memory stays bounded."""
        alive = {(group, int(t.tracker_id)) for t in tracker.tracks}
        for key in [k for k in self._ids if k[0] == group and k not in alive]:
            self._votes.pop(self._ids.pop(key), None)


def _to_supervision(dets: Sequence[Detection]) -> sv.Detections:
    if not dets:
        return sv.Detections.empty()
    return sv.Detections(
        xyxy=np.array([d.box for d in dets], dtype=np.float32),
        confidence=np.array([d.score for d in dets], dtype=np.float32),
        data={"index": np.arange(len(dets))},
    )
