"""What every backend shares: the letterbox and NMS, checked against Ultralytics' own."""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pytest

from detectors.detection import batched_nms, letterbox, model_input
from pipeline.config import DetectorSpec
from pipeline.geometry import nms


@pytest.mark.parametrize("shape", [(1080, 810), (720, 1280), (333, 517), (320, 320), (7, 900)])
def test_letterbox_places_the_frame_as_ultralytics_does(
    ultralytics: ModuleType, shape: tuple[int, int]
) -> None:
    from ultralytics.data.augment import LetterBox
    from ultralytics.utils.ops import scale_boxes

    image = np.random.default_rng(0).integers(0, 255, (*shape, 3), dtype=np.uint8)
    padded, placement = letterbox(image, 320)
    expected = LetterBox((320, 320), auto=False, stride=32)(image=image)
    assert padded.shape == (320, 320, 3)
    np.testing.assert_array_equal(padded, expected)
    # And a box in the model input maps back to the frame as Ultralytics' scale_boxes maps it.
    box = np.array([[10.0, 20.0, 200.0, 300.0]])
    expected_box = scale_boxes((320, 320), box.copy(), shape)
    offset = [placement.pad_x, placement.pad_y] * 2
    ours = (box - offset) / ([placement.gain_x, placement.gain_y] * 2)
    ours = ours.clip(0, [shape[1], shape[0]] * 2)
    np.testing.assert_allclose(ours, expected_box, atol=1e-4)


def test_stretch_squeezes_the_frame_and_maps_boxes_back_per_axis() -> None:
    """`resize: stretch` for models trained on squeezed frames: each axis has its own gain."""
    image = np.zeros((720, 1280, 3), np.uint8)
    image[360:, 640:] = 255  # the bottom-right quarter
    spec = DetectorSpec(backend="yolo-openvino", model_path="m.xml", resize="stretch")
    square, placement = model_input(image, 416, spec)
    assert square.shape == (416, 416, 3)
    assert square[300, 300].tolist() == [255] * 3 and square[100, 300].tolist() == [0] * 3
    assert (placement.pad_x, placement.pad_y) == (0, 0)
    box = np.array([208.0, 208.0, 416.0, 416.0])  # the quarter in the model input
    frame_box = box / ([placement.gain_x, placement.gain_y] * 2)
    np.testing.assert_allclose(frame_box, [640, 360, 1280, 720])
    letterboxed, _ = model_input(image, 416, spec.model_copy(update={"resize": "letterbox"}))
    np.testing.assert_array_equal(letterboxed, letterbox(image, 416)[0])


def random_boxes(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    corners = rng.uniform(0, 200, (count, 2))
    sizes = rng.uniform(5, 80, (count, 2))
    boxes = np.hstack([corners, corners + sizes]).astype(np.float32)
    return boxes, rng.uniform(0, 1, count).astype(np.float32)


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7])
def test_nms_keeps_what_ultralytics_nms_keeps(ultralytics: ModuleType, threshold: float) -> None:
    import torch
    from ultralytics.utils.nms import TorchNMS

    boxes, scores = random_boxes(400, seed=int(threshold * 10))
    expected = TorchNMS.nms(torch.from_numpy(boxes), torch.from_numpy(scores), threshold)
    np.testing.assert_array_equal(nms(boxes, scores, threshold), expected.numpy())


def test_nms_separates_classes_and_keeps_the_best_of_overlaps() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10], [50, 50, 60, 60]], float)
    scores = np.array([0.6, 0.9, 0.8, 0.5])
    classes = np.array([2, 2, 0, 2])
    kept = batched_nms(boxes, scores, classes, iou_threshold=0.5)
    assert kept.tolist() == [1, 2, 3]  # box 0 loses to box 1 of its class, not to box 2
