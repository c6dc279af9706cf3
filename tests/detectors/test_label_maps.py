"""Label maps: a YOLO export's own class names decide which boxes are which stopline class, so
the traffic model (car, motobike = bike and rider, lamp colours, stop_line) needs no code of its
own. Checked on the committed traffic checkpoint exported to ONNX and OpenVINO as a user would
export it (needs the `ultralytics` extra)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from detectors.detection import Placement
from detectors.label_maps import COCO, LabelMap, onnx_labels, openvino_labels
from detectors.objects import DetectorSpec, make_detector
from detectors.yolo import decode_yolo
from tests.detectors.photos import read, ultralytics_asset
from tests.detectors.test_yolo import yolo_output

TRAFFIC_NAMES = {
    0: "car",
    1: "green_light",
    2: "motobike",
    3: "red_light",
    4: "stop_line",
    5: "yellow_light",
}


def test_the_traffic_names_map_bike_and_rider_to_motorcycle_and_drop_the_rest() -> None:
    labels = LabelMap.from_names(TRAFFIC_NAMES)
    assert labels.num_classes == 6
    assert dict(labels.ids) == {0: "car", 2: "motorcycle"}


def test_cocos_names_as_exports_write_them_give_the_coco_map() -> None:
    coco = yaml.safe_load(ultralytics_asset("../cfg/datasets/coco.yaml").read_text())["names"]
    assert LabelMap.from_names(coco) == COCO  # ONNX metadata: "traffic light"
    underscored = {i: name.replace(" ", "_") for i, name in coco.items()}
    assert LabelMap.from_names(underscored) == COCO  # OpenVINO's model_info labels


def test_decode_yolo_uses_the_models_own_classes() -> None:
    spec = DetectorSpec(backend="yolo-openvino", model_path=Path("m.xml"))
    output = yolo_output(
        [
            (100, 100, 40, 60, 2, 0.9),  # motobike: a road user of class motorcycle
            (200, 100, 80, 40, 0, 0.8),  # car
            (300, 50, 10, 30, 3, 0.95),  # red_light: not a box stopline tracks
            (300, 300, 200, 10, 4, 0.95),  # stop_line: neither
        ],
        num_classes=6,
    )
    found = decode_yolo(
        output, Placement(0, 0, 1.0, 1.0), (640, 640, 3), spec, LabelMap.from_names(TRAFFIC_NAMES)
    )
    assert [(d.class_name, round(d.score, 2)) for d in found] == [
        ("motorcycle", 0.9),
        ("car", 0.8),
    ]
    with pytest.raises(ValueError, match="80-class"):
        decode_yolo(output, Placement(0, 0, 1.0, 1.0), (640, 640, 3), spec)


def test_both_exports_carry_the_names_the_detector_reads(
    traffic_exports: dict[str, Path], tmp_path: Path
) -> None:
    import onnxruntime as ort
    import openvino as ov

    expected = LabelMap.from_names(TRAFFIC_NAMES)
    session = ort.InferenceSession(str(traffic_exports["onnx"]), providers=["CPUExecutionProvider"])
    assert onnx_labels(session) == expected
    xml = next(traffic_exports["openvino"].glob("*.xml"))
    assert openvino_labels(ov.Core().read_model(xml)) == expected

    frame = read(ultralytics_asset("bus.jpg"))
    for backend, path in [
        ("yolo-onnxruntime", traffic_exports["onnx"]),
        ("yolo-openvino", traffic_exports["openvino"]),
    ]:
        detector = make_detector(
            DetectorSpec(backend=backend, model_path=path, score_threshold=0.05),
            cache_dir=tmp_path,
        )
        assert detector.labels == expected  # type: ignore[attr-defined]
        found = detector.detect(frame)
        assert {d.class_name for d in found} <= {"car", "motorcycle"}


def test_an_export_without_names_is_taken_as_coco(tmp_path: Path) -> None:
    import openvino as ov

    parameter = ov.opset13.parameter([1, 3, 32, 32], np.float32)
    model = ov.Model([ov.opset13.relu(parameter)], [parameter])
    assert openvino_labels(model) == COCO
