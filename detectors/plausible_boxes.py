"""Detections that cannot be a road user, dropped before they become tracks.

Seen on real CCTV: frame-wide `person` or `car` boxes that persist for half a minute, and
boxes on roofs and billboards. A track of one can cross any line, so they are stopped here,
where every camera's detector passes, not in each rule.
"""

from __future__ import annotations

import numpy as np

from detectors.objects import Detection, Detector
from pipeline.config import Zone
from pipeline.geometry import ground_point, inside


class PlausibleBoxes(Detector):
    """Drops boxes larger than `max_share` of the frame, or standing outside every zone.

    A box stands where its bottom centre is (the ground point the rules use); with no zones
    the whole frame counts.
    """

    def __init__(self, inner: Detector, max_share: float, zones: list[Zone]) -> None:
        self.inner = inner
        self.max_share = max_share
        self.zones = zones
        self.name = inner.name
        self.last: tuple[list[Detection], list[Detection]] = ([], [])
        """The last frame's kept and dropped boxes, which `stopline camera check` draws."""

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        height, width = image_bgr.shape[:2]
        limit = self.max_share * width * height
        kept: list[Detection] = []
        dropped: list[Detection] = []
        for d in self.inner.detect(image_bgr):
            (kept if self.plausible(d, limit) else dropped).append(d)
        self.last = (kept, dropped)
        return kept

    def plausible(self, d: Detection, limit: float) -> bool:
        ground = ground_point(d.box)
        return (d.x2 - d.x1) * (d.y2 - d.y1) <= limit and (
            not self.zones or any(inside(ground, z.polygon) for z in self.zones)
        )
