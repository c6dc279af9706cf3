"""Tracked objects: what the rules see of a frame.

The rules depend only on this small interface, so the tracker behind it (ByteTrack over a
detector, or the demo's scripted scene) is swapped by wiring, not by editing the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from detectors.sources import Frame


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
