"""YOLO backends: the numpy decode of both head layouts, and parity with Ultralytics `predict`.

No package ships COCO YOLO weights, so parity is checked on random-weight models built from
Ultralytics' own yaml (see detectors.models.untrained): the same boxes from our decode on
OpenVINO and ONNX Runtime as from `predict`. These tests need the `ultralytics` extra."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from detectors import yolo
from detectors.detection import Placement
from detectors.objects import Detection, Detector, DetectorSpec, make_detector
from detectors.yolo import decode_yolo
from pipeline.geometry import iou, nms
from tests.detectors.photos import read, ultralytics_asset
from tests.detectors.test_detection import random_boxes
from tests.shared_data import DATA, need

PEOPLE = DATA / "faces" / "t1.jpg"


YOLO_SIZE_PX = 320
PARITY_SCORE = 0.25
BOX_TOLERANCE_PX = 0.5
SCORE_TOLERANCE = 1e-3


def yolo_output(
    rows: list[tuple[float, float, float, float, int, float]], num_classes: int = 80
) -> np.ndarray:
    """A raw [1, 4 + classes, N] head output: (cx, cy, w, h, class id, score) per anchor."""
    output = np.zeros((1, 4 + num_classes, len(rows)), np.float32)
    for anchor, (cx, cy, w, h, class_id, score) in enumerate(rows):
        output[0, :4, anchor] = (cx, cy, w, h)
        output[0, 4 + class_id, anchor] = score
    return output


def test_decode_yolo_reads_the_raw_head_and_undoes_the_letterbox() -> None:
    spec = DetectorSpec(backend="yolo-onnxruntime", model_path=Path("m.onnx"))
    output = yolo_output(
        [
            (100, 100, 40, 20, 2, 0.9),  # car
            (102, 101, 40, 20, 2, 0.8),  # the same car again: NMS drops it
            (200, 150, 10, 30, 0, 0.7),  # person
            (300, 300, 50, 50, 16, 0.95),  # dog: not a class stopline reports
            (50, 50, 10, 10, 7, 0.3),  # truck below the threshold
        ]
    )
    placement = Placement(pad_x=0, pad_y=80, gain_x=0.5, gain_y=0.5)
    found = decode_yolo(output, placement, (960, 1280, 3), spec)
    assert [(d.class_name, round(d.score, 2)) for d in found] == [("car", 0.9), ("person", 0.7)]
    assert found[0].box == pytest.approx((160, 20, 240, 60))
    assert found[1].box == pytest.approx((390, 110, 410, 170))


def test_decode_yolo_reads_the_end_to_end_head() -> None:
    spec = DetectorSpec(backend="yolo-openvino", model_path=Path("m.xml"), classes=("bus",))
    output = np.zeros((1, 300, 6), np.float32)
    output[0, 0] = (10, 20, 110, 220, 0.9, 5)  # bus
    output[0, 1] = (12, 20, 110, 220, 0.8, 5)  # a second bus: end-to-end heads need no NMS
    output[0, 2] = (10, 20, 110, 220, 0.9, 2)  # car, not asked for
    found = decode_yolo(output, Placement(0, 0, 1.0, 1.0), (300, 300, 3), spec)
    assert [d.box for d in found] == [(10, 20, 110, 220), (12, 20, 110, 220)]


def test_decode_yolo_refuses_an_output_of_another_class_count() -> None:
    spec = DetectorSpec(backend="yolo-onnxruntime", model_path=Path("m.onnx"))
    with pytest.raises(ValueError, match="80-class YOLO output"):
        decode_yolo(np.zeros((1, 4 + 3, 10), np.float32), Placement(0, 0, 1, 1), (9, 9, 3), spec)


@dataclass(frozen=True)
class YoloModel:
    pt: Path
    onnx: Path
    openvino: Path


@pytest.fixture(scope="module")
def parity_images() -> list[np.ndarray]:
    return [read(ultralytics_asset("bus.jpg")), read(PEOPLE), read(ultralytics_asset("zidane.jpg"))]


@pytest.fixture(scope="module")
def yolo_models(
    ultralytics: ModuleType,
    tmp_path_factory: pytest.TempPathFactory,
    parity_images: list[np.ndarray],
) -> Iterator[Callable[[str, bool], YoloModel]]:
    """Random-weight models from Ultralytics' yaml, exported once per (model, end-to-end)."""
    from detectors.models.untrained import build_untrained_yolo

    built: dict[tuple[str, bool], YoloModel] = {}

    def model(name: str, end_to_end: bool) -> YoloModel:
        if (name, end_to_end) not in built:
            folder = tmp_path_factory.mktemp(f"{name}-{'e2e' if end_to_end else 'nms'}")
            pt = build_untrained_yolo(
                f"{name}.yaml", folder / f"{name}.pt", parity_images, input_size_px=YOLO_SIZE_PX
            )
            exports = {
                fmt: yolo.export_model(pt, fmt, input_size_px=YOLO_SIZE_PX, end_to_end=end_to_end)
                for fmt in ("onnx", "openvino")
            }
            built[name, end_to_end] = YoloModel(pt, exports["onnx"], exports["openvino"])
        return built[name, end_to_end]

    yield model


def backend_model(model: YoloModel, backend: str) -> Path:
    return model.openvino if backend == "yolo-openvino" else model.onnx


def assert_same_detections(ours: list[Detection], reference: list[Detection]) -> None:
    """Same boxes, classes and order; a box may only be missing if it sits on the threshold."""
    unmatched = []
    for expected in reference:
        close = [
            d
            for d in ours
            if d.class_name == expected.class_name
            and max(abs(np.subtract(d.box, expected.box))) <= BOX_TOLERANCE_PX
            and abs(d.score - expected.score) <= SCORE_TOLERANCE
        ]
        if not close and expected.score > PARITY_SCORE + SCORE_TOLERANCE:
            unmatched.append(expected)
    assert not unmatched, f"{len(unmatched)} of {len(reference)} not matched: {unmatched[:3]}"
    assert abs(len(ours) - len(reference)) <= sum(
        abs(d.score - PARITY_SCORE) <= SCORE_TOLERANCE for d in [*ours, *reference]
    )


@pytest.mark.parametrize("name", ["yolo11n", "yolo26n"])
def test_yolo_exports_have_the_documented_output(
    yolo_models: Callable[[str, bool], YoloModel], name: str
) -> None:
    import onnxruntime

    model = yolo_models(name, False)
    session = onnxruntime.InferenceSession(str(model.onnx), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape == [1, 3, YOLO_SIZE_PX, YOLO_SIZE_PX]
    anchors = sum((YOLO_SIZE_PX // stride) ** 2 for stride in (8, 16, 32))
    assert session.get_outputs()[0].shape == [1, 84, anchors]


def test_yolo26_end_to_end_export_has_300_rows(
    yolo_models: Callable[[str, bool], YoloModel],
) -> None:
    import onnxruntime

    model = yolo_models("yolo26n", True)
    session = onnxruntime.InferenceSession(str(model.onnx), providers=["CPUExecutionProvider"])
    assert session.get_outputs()[0].shape == [1, 300, 6]


def assert_parity(ours: Detector, reference: Detector, images: list[np.ndarray]) -> None:
    compared = 0
    for image in images:
        expected = reference.detect(image)
        assert_same_detections(ours.detect(image), expected)
        compared += len(expected)
    assert compared >= 10, "the calibrated random model should give boxes to compare"


PARITY = {"score_threshold": PARITY_SCORE, "nms_iou": 0.7, "openvino_precision": "f32"}


@pytest.mark.parametrize("backend", ["yolo-openvino", "yolo-onnxruntime"])
@pytest.mark.parametrize("name", ["yolo11n", "yolo26n"])
def test_yolo_backends_match_ultralytics_predict(
    yolo_models: Callable[[str, bool], YoloModel],
    parity_images: list[np.ndarray],
    cache_dir: Path,
    name: str,
    backend: str,
) -> None:
    """Our letterbox + decode + NMS on the export vs Ultralytics predict on the .pt."""
    model = yolo_models(name, False)
    path = backend_model(model, backend)
    ours = make_detector(DetectorSpec(backend=backend, model_path=path, **PARITY))
    assert ours.name == f"{backend}:{path.stem}@{YOLO_SIZE_PX}"
    reference = make_detector(
        DetectorSpec(
            backend="ultralytics", model_path=model.pt, input_size_px=YOLO_SIZE_PX, **PARITY
        ),
        cache_dir=cache_dir,
    )
    assert_parity(ours, reference, parity_images)


@pytest.mark.parametrize("backend", ["yolo-openvino", "yolo-onnxruntime"])
def test_yolo26_end_to_end_matches_ultralytics_predict(
    yolo_models: Callable[[str, bool], YoloModel],
    parity_images: list[np.ndarray],
    cache_dir: Path,
    backend: str,
) -> None:
    """The NMS-free export vs Ultralytics predict on the end-to-end ONNX file.

    Not on the .pt, whose predict runs the other head; not on the OpenVINO folder, where
    Ultralytics lets OpenVINO compute in bf16 on CPUs that have it.
    """
    model = yolo_models("yolo26n", True)
    ours = make_detector(
        DetectorSpec(backend=backend, model_path=backend_model(model, backend), **PARITY)
    )
    reference = make_detector(
        DetectorSpec(
            backend="ultralytics", model_path=model.onnx, input_size_px=YOLO_SIZE_PX, **PARITY
        ),
        cache_dir=cache_dir,
    )
    assert_parity(ours, reference, parity_images)


def test_openvino_fastest_precision_finds_the_same_objects(
    traffic_exports: dict[str, Path],
) -> None:
    """bf16 (where the CPU has it) moves boxes slightly but finds the same confident objects.

    On trained weights: a random-weight model amplifies bf16's rounding about tenfold per layer,
    so there it is noise, not a property of the runtime."""
    exact, fastest = (
        make_detector(
            DetectorSpec(
                backend="yolo-openvino",
                model_path=traffic_exports["openvino"],
                openvino_precision=precision,
            )
        )
        for precision in ("f32", "fastest")
    )
    found = []
    for frame in sorted(need(DATA / "signals-roboflow" / "images").glob("*.jpg"))[:30]:
        image = read(frame)
        others = fastest.detect(image)
        confident = [d for d in exact.detect(image) if d.score > 0.3]
        found += [any(iou(d.box, o.box) > 0.8 for o in others) for d in confident]
    assert len(found) >= 10, "the checkpoint should be confident about some road users"
    assert sum(found) >= 0.9 * len(found)


@pytest.mark.parametrize("backend", ["yolo-openvino", "yolo-onnxruntime"])
def test_a_static_export_refuses_another_input_size(
    yolo_models: Callable[[str, bool], YoloModel], backend: str
) -> None:
    path = backend_model(yolo_models("yolo11n", False), backend)
    spec = DetectorSpec(backend=backend, model_path=path, input_size_px=640)
    with pytest.raises(ValueError, match="exported for 320 px input, not 640"):
        make_detector(spec)


def test_torchvision_nms_stand_in_matches_numpy_nms(ultralytics: ModuleType) -> None:
    """The pure-PyTorch op registered for torchvision, checked against our numpy NMS."""
    import torch

    from detectors.torch_compat import import_torchvision

    torchvision = import_torchvision()
    boxes, scores = random_boxes(300, seed=7)
    kept = torchvision.ops.nms(torch.from_numpy(boxes), torch.from_numpy(scores), 0.5)
    np.testing.assert_array_equal(kept.numpy(), nms(boxes, scores, 0.5))


def test_ultralytics_runs_offline_with_our_settings(ultralytics: ModuleType) -> None:
    assert os.environ["YOLO_OFFLINE"] == "1"
    assert ultralytics.utils.AUTOINSTALL is False
    assert ultralytics.utils.USER_CONFIG_DIR.is_relative_to(os.environ["YOLO_CONFIG_DIR"])
