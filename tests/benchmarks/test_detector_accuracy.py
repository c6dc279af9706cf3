"""The detector accuracy benchmark's scoring: AP50 and the matching of detections to labels."""

import pytest

from benchmarks.detector_accuracy import ClassScore, score_frame
from detectors.objects import Detection


def test_ap50_is_the_area_under_the_interpolated_precision_recall_curve() -> None:
    score = ClassScore(truths=4, found=[(0.9, True), (0.8, False), (0.7, True), (0.1, True)])
    # recall 0.25 at precision 1; 0.5 at 2/3; 0.75 at 3/4, which also lifts the 0.5 step
    assert score.ap50() == pytest.approx(0.25 * 1 + 0.25 * 0.75 + 0.25 * 0.75)
    assert score.at(0.5) == (pytest.approx(2 / 3), 0.5)
    assert ClassScore(truths=3).ap50() == 0.0


def test_each_label_is_matched_once_and_bus_boxes_count_as_cars() -> None:
    truths = {"car": [(0, 0, 100, 50)], "motorcycle": [(200, 0, 230, 60)]}
    found = [
        Detection(0, 0, 100, 50, 0.9, "bus"),
        Detection(2, 0, 100, 50, 0.8, "car"),  # the same car again: a false positive
        Detection(200, 0, 230, 40, 0.7, "motorcycle"),  # the bike without its rider: IoU 0.67
        Detection(200, 0, 230, 60, 0.6, "person"),  # not a class judged here
    ]
    scores = {"car": ClassScore(), "motorcycle": ClassScore()}
    score_frame(found, truths, scores)
    assert scores["car"].found == [(0.9, True), (0.8, False)]
    assert scores["motorcycle"].found == [(0.7, True)]
    assert (scores["car"].truths, scores["motorcycle"].truths) == (1, 1)
