"""The ground calibration's projective map (issue 19): four marks in the image and on the road
give metres for any image point; three marks in a line are refused at config load."""

import math

import pytest
from pydantic import ValidationError

from pipeline.config import GroundCalibration
from pipeline.geometry import homography, on_ground

# A lane seen in perspective: a 3.5 m x 20 m rectangle on the road, its far end narrower.
IMAGE = [(250.0, 400.0), (390.0, 400.0), (340.0, 100.0), (300.0, 100.0)]
ROAD = [(0.0, 0.0), (3.5, 0.0), (3.5, 20.0), (0.0, 20.0)]


def test_the_four_marks_map_to_their_measured_places() -> None:
    matrix = homography(IMAGE, ROAD)
    for image, road in zip(IMAGE, ROAD, strict=True):
        assert math.dist(on_ground(matrix, image), road) < 1e-6


def test_perspective_is_undone_between_the_marks() -> None:
    """The image's midpoint between the near and far edge is much nearer the camera than 10 m:
    equal steps on the road shrink with distance in the image."""
    matrix = homography(IMAGE, ROAD)
    x, y = on_ground(matrix, (320.0, 250.0))
    assert abs(x - 1.75) < 1e-6 and 0 < y < 10
    # A straight line along the lane stays straight on the road.
    points = [on_ground(matrix, (320.0, yy)) for yy in (380.0, 300.0, 150.0)]
    assert all(abs(px - 1.75) < 1e-6 for px, _ in points)


def test_marks_in_a_line_are_refused_naming_why() -> None:
    with pytest.raises(ValueError, match="in a line"):
        homography([(0, 0), (1, 1), (2, 2), (0, 5)], ROAD)
    with pytest.raises(ValidationError, match="three of the four points are in a line"):
        GroundCalibration(
            image_points=[(0, 0), (10, 0), (20, 0), (0, 10)],
            ground_points_m=ROAD,
            surveyed="J. Chen, 2026-11-02, tape measure",
        )
    with pytest.raises(ValidationError, match="at least 4"):
        GroundCalibration(
            image_points=IMAGE[:3], ground_points_m=ROAD[:3], surveyed="J. Chen, 2026-11-02"
        )
