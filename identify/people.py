"""Faces, persons and plates in an offender picture, for the billboards to blur bystanders
(and the plate, when the privacy policy masks it).

Finding faces here identifies nobody: it only says where to blur, so it runs whether or not the
deployment matches faces against a gallery (`identification.faces.enabled`).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence

import cv2
import numpy as np

from identify.faces import FaceEngine
from identify.ocr import Spotter
from identify.plates import ObjectDetector, plate_shaped, quad_box

Box = tuple[int, int, int, int]
"""x1, y1, x2, y2 in pixels of the image given to `PeopleFinder.find`."""

MIN_SIDE_PX = 300
"""Pictures with a shorter side are enlarged for face detection: YuNet misses many faces under
~10 px (t1.jpg shrunk to 100x69 px: 3 of its 6 faces; enlarged first: all 6)."""


class PeopleFinder:
    """Satisfies `pipeline.redaction.PeopleFinder`, which the stages that blur (display,
    portal) take without importing us."""

    def __init__(self, detector: ObjectDetector, faces: FaceEngine, spotter: Spotter) -> None:
        self.detector = detector
        self.faces = faces
        self.spotter = spotter
        # Both models keep one inference request, and billboards call in from several threads.
        self._lock = threading.Lock()

    def find(self, image_bgr: np.ndarray, plates: bool) -> tuple[list[Box], list[Box], list[Box]]:
        """(faces, persons, plates): every face, however unsure, because a missed face goes
        unblurred; with `plates`, every plate-shaped text line (located, not read: a third of
        reading's time, and a dealer's frame text is blurred too)."""
        height, width = image_bgr.shape[:2]
        scale = max(1.0, MIN_SIDE_PX / max(1, min(height, width)))
        enlarged = image_bgr
        if scale > 1.0:
            size = (round(width * scale), round(height * scale))
            enlarged = cv2.resize(image_bgr, size, interpolation=cv2.INTER_CUBIC)
        with self._lock:
            faces = [f.box for f in self.faces.faces(enlarged)]
            # The detectors stretch (SSD) or letterbox (YOLO) to their input themselves.
            persons = [d.box for d in self.detector.detect(image_bgr) if d.class_name == "person"]
            lines = self.spotter.spot(image_bgr) if plates else []
        boxes = [quad_box(line.quad, image_bgr.shape) for line in lines if plate_shaped(line.quad)]
        found_faces = [_pixels([v / scale for v in box], width, height) for box in faces]
        found_persons = [_pixels(box, width, height) for box in persons]
        found_plates = [_pixels(box, width, height) for box in boxes]
        return (
            [b for b in found_faces if b],
            [b for b in found_persons if b],
            [b for b in found_plates if b],
        )


def _pixels(box: Sequence[float], width: int, height: int) -> Box | None:
    """Whole pixels that cover the box, inside the image; None when nothing of it is inside."""
    x1, y1 = max(0, math.floor(box[0])), max(0, math.floor(box[1]))
    x2, y2 = min(width, math.ceil(box[2])), min(height, math.ceil(box[3]))
    return (x1, y1, x2, y2) if x2 > x1 and y2 > y1 else None
