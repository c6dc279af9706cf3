"""The detector factory: the config spec, several models on one frame (`also`), zoom windows."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from detectors import objects
from detectors.label_maps import COCO
from detectors.objects import Detection, Detector, DetectorSpec, make_detector
from pipeline.geometry import iou
from tests.detectors.photos import read, ultralytics_asset
from tests.shared_data import DATA, need


def test_spec_defaults_to_the_packaged_ssd_on_openvino() -> None:
    spec = DetectorSpec()
    assert spec.backend == "ssd-openvino" and spec.model_path is None
    assert set(spec.classes) == set(COCO.ids.values())


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"backend": "yolo-onnxruntime"}, "needs model_path"),
        ({"backend": "ultralytics"}, "needs model_path"),
        ({"backend": "ssd-openvino", "resize": "stretch"}, "stretch is for yolo"),
        ({"backend": "ssd-opencv", "model_path": "x.onnx"}, "leave model_path empty"),
        ({"backend": "yolo-onnxruntime", "model_path": "x.onnx", "input_size_px": 300}, "32"),
        ({"score_treshold": 0.3}, "Extra inputs are not permitted"),
        ({"classes": ["car", "dog"]}, "classes"),
        ({"classes": []}, "at least 1"),
    ],
)
def test_spec_rejects_bad_settings(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        DetectorSpec.model_validate(fields)


def test_every_spec_field_is_described() -> None:
    assert all(field.description for field in DetectorSpec.model_fields.values())


def test_detectors_under_also_each_add_their_own_classes(
    ssd: dict[str, Detector], cache_dir: Path
) -> None:
    """The traffic YOLO for vehicles with the SSD for persons is one such pair; two SSDs with
    split classes must give exactly what one SSD with all of them gives."""
    image = read(ultralytics_asset("bus.jpg"))
    spec = DetectorSpec(classes=("bus",), also=(DetectorSpec(classes=("person",)),))
    combined = make_detector(spec, cache_dir=cache_dir)
    assert combined.name == " + ".join(["ssd-openvino:ssd_mobilenet_v2_coco@300"] * 2)
    found = combined.detect(image)
    whole = [d for d in ssd["ssd-openvino"].detect(image) if d.class_name in ("bus", "person")]
    assert found == whole
    with pytest.raises(ValidationError, match="may not have `also` of its own"):
        DetectorSpec(also=(DetectorSpec(also=(DetectorSpec(),)),))


def test_the_packaged_traffic_yolo_runs_with_no_model_path(cache_dir: Path) -> None:
    """`yolo-openvino` alone is the traffic model shipped in the package, squeezing frames as
    its training frames were; on a real y2 frame it finds the car crossing the zebra on red."""
    spec = DetectorSpec(backend="yolo-openvino", score_threshold=0.5)
    assert spec.packaged and spec.resize_mode == "stretch"
    detector = make_detector(spec, cache_dir=cache_dir)
    assert detector.name == "yolo-openvino:traffic-yolo11n@416"
    assert set(detector.labels.ids.values()) == {"car", "motorcycle"}  # type: ignore[attr-defined]
    capture = cv2.VideoCapture(str(need(DATA / "video" / "y2.mp4")))
    capture.set(cv2.CAP_PROP_POS_MSEC, 6000)
    ok, frame = capture.read()
    capture.release()
    assert ok
    cars = [d for d in detector.detect(frame) if d.class_name == "car"]
    # The silver car past the stop line, its wheels on the zebra (x ~290-370, y ~205-270).
    assert any(d.x1 < 330 < d.x2 and d.y1 < 240 < d.y2 for d in cars), cars
    letterboxed = DetectorSpec(backend="yolo-openvino", resize="letterbox")
    assert letterboxed.resize_mode == "letterbox"
    assert DetectorSpec(backend="yolo-openvino", model_path="m.xml").resize_mode == "letterbox"


def test_boxes_of_a_class_two_models_report_are_merged() -> None:
    """Two parts that both find cars (the traffic YOLO and the SSD) give one box per car."""
    frame = np.zeros((200, 300, 3), np.uint8)
    frame[50:70, 40:80] = 255
    combined = objects.CombinedDetector([BrightBlobs(), BrightBlobs()], nms_iou=0.5)
    assert [d.box for d in combined.detect(frame)] == [(40, 50, 80, 70)]


class BrightBlobs(Detector):
    """Finds white rectangles: a detector whose answer the test can predict exactly."""

    name = "blobs"

    def __init__(self) -> None:
        self.seen: list[tuple[int, ...]] = []

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        self.seen.append(image_bgr.shape)
        mask = (image_bgr.min(axis=2) > 200).astype(np.uint8)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        boxes = [cv2.boundingRect(c) for c in contours]
        return [Detection(x, y, x + w, y + h, 0.9, "car") for x, y, w, h in boxes]


def test_zoom_windows_add_boxes_in_frame_pixels_once_and_drop_cut_ones() -> None:
    frame = np.zeros((200, 300, 3), np.uint8)
    frame[50:70, 40:80] = 255  # inside the window: found twice, kept once
    frame[100:140, 150:190] = 255  # cut by the window's right side: the window's part is dropped
    frame[180:200, 0:30] = 255  # on the frame edge, where the window side is the frame's own
    inner = BrightBlobs()
    found = objects.ZoomedDetector(inner, [(0, 20, 170, 180)], nms_iou=0.5).detect(frame)
    assert inner.seen == [(200, 300, 3), (180, 170, 3)]
    assert sorted(d.box for d in found) == [
        (0, 180, 30, 200),
        (40, 50, 80, 70),
        (150, 100, 190, 140),
    ]


def test_a_zoom_window_finds_the_y2_car_that_the_whole_frame_misses(
    ssd: dict[str, Detector],
) -> None:
    """6.4 s into y2 the red-light car crosses the zebra among walkers, ~56x31 px."""
    video = cv2.VideoCapture(str(need(DATA / "video" / "y2.mp4")))
    video.set(cv2.CAP_PROP_POS_FRAMES, 160)
    ok, frame = video.read()
    assert ok
    car = (298, 150, 354, 181)
    detector = ssd["ssd-openvino"]
    zoomed = objects.ZoomedDetector(detector, [(200, 90, 250, 170)], nms_iou=0.45)
    assert not [d for d in detector.detect(frame) if iou(d.box, car) > 0.5]
    assert [d.class_name for d in zoomed.detect(frame) if iou(d.box, car) > 0.5] == ["car"]
