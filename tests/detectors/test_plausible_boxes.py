"""Boxes that cannot be a road user never reach the tracker."""

import numpy as np

from detectors.objects import Detection, Detector
from detectors.plausible_boxes import PlausibleBoxes
from pipeline.config import Zone


class Listed(Detector):
    name = "listed"

    def __init__(self, found: list[Detection]) -> None:
        self.found = found

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        return self.found


FRAME = np.zeros((400, 600, 3), np.uint8)
CAR = Detection(100, 250, 180, 300, 0.9, "car")
FRAME_WIDE = Detection(0, 20, 590, 390, 0.7, "person")  # seen on the Hanoi clip for 30 s
ON_A_ROOF = Detection(400, 20, 440, 60, 0.6, "car")
ROAD = Zone(id="road", polygon=[(0, 150), (600, 150), (700, 500), (-100, 500)])  # past the edges


def test_a_frame_wide_box_is_dropped() -> None:
    boxes = PlausibleBoxes(Listed([CAR, FRAME_WIDE]), max_share=0.4, zones=[])
    assert boxes.detect(FRAME) == [CAR]
    assert boxes.last == ([CAR], [FRAME_WIDE])


def test_a_box_standing_outside_every_zone_is_dropped() -> None:
    boxes = PlausibleBoxes(Listed([CAR, ON_A_ROOF]), max_share=0.4, zones=[ROAD])
    assert boxes.detect(FRAME) == [CAR]
    cut_by_edge = Detection(560, 300, 600, 400, 0.8, "car")  # ground point on the bottom edge
    assert PlausibleBoxes(Listed([cut_by_edge]), 0.4, [ROAD]).detect(FRAME) == [cut_by_edge]


def test_without_zones_the_whole_frame_counts() -> None:
    assert PlausibleBoxes(Listed([CAR, ON_A_ROOF]), 0.4, []).detect(FRAME) == [CAR, ON_A_ROOF]
