"""Object detectors: shared pre/post-processing, the SSD default on real photos, YOLO parity.

Accuracy is measured with the offline default (SSD-MobileNet-v2 COCO) on real photos: the
OpenALPR benchmark cars in ../shared/data/plates-openalpr (a vehicle box must contain the labelled
plate), six people in faces/t1.jpg, and Ultralytics' bus.jpg. No package ships COCO YOLO weights,
so the YOLO backends are checked for parity on random-weight models built from Ultralytics' own
yaml (see detectors.models.untrained): the same boxes from our numpy decode on OpenVINO and ONNX
Runtime as from Ultralytics `predict`. Those tests need the `ultralytics` extra and fail without it.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from detectors import objects, yolo
from detectors.detection import Placement, batched_nms, letterbox, nms
from detectors.label_maps import COCO
from detectors.objects import Detection, Detector, DetectorSpec, make_detector
from detectors.ssd import ssd_model_files
from detectors.yolo import decode_yolo
from pipeline.geometry import iou
from tests.shared_data import DATA, need

PLATES = DATA / "plates-openalpr"
PEOPLE = DATA / "faces" / "t1.jpg"
EXTRA = "install the `ultralytics` extra: pip install -e '.[ultralytics]'"

# Measured with the default spec (OpenVINO, score 0.4) on all 222 photos: a car, truck or bus box
# holds the plate on 95.5 % (us 95 %, eu 100 %, br 93 %); a car box alone on 85 % (pickups and
# vans often come out as trucks). The floors leave room for bf16/f32 and runtime differences.
MIN_VEHICLE_HOLDS_PLATE = 0.92
MIN_CAR_HOLDS_PLATE = 0.80
VEHICLES = {"car", "truck", "bus"}

YOLO_SIZE_PX = 320
PARITY_SCORE = 0.25
BOX_TOLERANCE_PX = 0.5
SCORE_TOLERANCE = 1e-3


def read(path: Path) -> np.ndarray:
    image = cv2.imread(str(need(path)))
    assert image is not None, f"cannot decode {path}"
    return image


def ultralytics_asset(name: str) -> Path:
    """A photo shipped in the ultralytics wheel, found without importing Ultralytics."""
    spec = importlib.util.find_spec("ultralytics")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail(f"Ultralytics' {name} is needed: {EXTRA}")
    return Path(spec.submodule_search_locations[0]) / "assets" / name


def contains(outer: Detection, x: float, y: float, w: float, h: float) -> bool:
    return outer.x1 <= x and outer.y1 <= y and outer.x2 >= x + w and outer.y2 >= y + h


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(scope="module")
def ultralytics(cache_dir: Path) -> ModuleType:
    try:
        return yolo.import_ultralytics(cache_dir)
    except RuntimeError as error:
        pytest.fail(str(error))


# ---------------------------------------------------------------- config


def test_spec_defaults_to_the_packaged_ssd_on_openvino() -> None:
    spec = DetectorSpec()
    assert spec.backend == "ssd-openvino" and spec.model_path is None
    assert set(spec.classes) == set(COCO.ids.values())


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"backend": "yolo-openvino"}, "needs model_path"),
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


# ---------------------------------------------------------------- shared pre- and post-processing


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


# ---------------------------------------------------------------- SSD-MobileNet-v2, the default


@pytest.fixture(scope="module")
def ssd(cache_dir: Path) -> dict[str, Detector]:
    return {
        backend: make_detector(DetectorSpec(backend=backend), cache_dir=cache_dir)
        for backend in ("ssd-openvino", "ssd-opencv")
    }


def test_ssd_model_files_come_from_the_package() -> None:
    graph, pbtxt = ssd_model_files()
    assert graph.stat().st_size > 60_000_000 and "ssd_mobilenet_v2_coco" in pbtxt.name


def test_ssd_is_converted_to_openvino_once(
    ssd: dict[str, Detector], cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import openvino

    def no_conversion(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("converted again despite the cached IR")

    monkeypatch.setattr(openvino, "convert_model", no_conversion)
    again = make_detector(DetectorSpec(), cache_dir=cache_dir)
    assert again.name == "ssd-openvino:ssd_mobilenet_v2_coco@300"
    cached = sorted(p.suffix for p in (cache_dir / "openvino").iterdir())
    assert cached == [".bin", ".xml"], "one IR pair, no conversion leftovers"


def test_openvino_telemetry_is_declined_before_conversion(ssd: dict[str, Detector]) -> None:
    from openvino_telemetry.utils.opt_in_checker import ConsentCheckResult, OptInChecker

    assert OptInChecker().check(enable_opt_in_dialog=False) == ConsentCheckResult.DECLINED


@pytest.mark.parametrize("backend", ["ssd-openvino", "ssd-opencv"])
def test_ssd_finds_the_six_people(ssd: dict[str, Detector], backend: str) -> None:
    found = ssd[backend].detect(read(PEOPLE))
    assert [d.class_name for d in found] == ["person"] * 6
    assert found == sorted(found, key=lambda d: -d.score)
    # Six different people: no two boxes are the same person twice.
    assert max(iou(a.box, b.box) for a in found for b in found if a is not b) < 0.5


@pytest.mark.parametrize("backend", ["ssd-openvino", "ssd-opencv"])
def test_ssd_finds_the_bus_and_its_passengers(ssd: dict[str, Detector], backend: str) -> None:
    image = read(ultralytics_asset("bus.jpg"))
    found = ssd[backend].detect(image)
    (bus,) = [d for d in found if d.class_name == "bus"]
    assert bus.score > 0.8 and iou(bus.box, (0, 230, 810, 740)) > 0.8  # the bus fills the frame
    assert sum(d.class_name == "person" for d in found) >= 3
    height, width = image.shape[:2]
    assert all(0 <= d.x1 < d.x2 <= width and 0 <= d.y1 < d.y2 <= height for d in found)


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


@dataclass
class PlateCheck:
    vehicle: int = 0
    car: int = 0
    photos: int = 0


def test_ssd_finds_the_car_around_each_plate(ssd: dict[str, Detector]) -> None:
    photos = sorted(PLATES.glob("*/*.jpg"))
    assert len(photos) > 200, f"expected the 222 OpenALPR photos in {PLATES}"
    by_region: dict[str, PlateCheck] = {}
    for photo in photos:
        _, x, y, w, h, _plate = photo.with_suffix(".txt").read_text().split("\t")
        plate = (float(x), float(y), float(w), float(h))
        found = [d for d in ssd["ssd-openvino"].detect(read(photo)) if contains(d, *plate)]
        check = by_region.setdefault(photo.parent.name, PlateCheck())
        check.photos += 1
        check.vehicle += any(d.class_name in VEHICLES for d in found)
        check.car += any(d.class_name == "car" for d in found)
    total = len(photos)
    vehicle = sum(c.vehicle for c in by_region.values()) / total
    car = sum(c.car for c in by_region.values()) / total
    report = {region: f"{c.vehicle}/{c.car}/{c.photos}" for region, c in by_region.items()}
    assert vehicle >= MIN_VEHICLE_HOLDS_PLATE, f"vehicle/car/photos by region: {report}"
    assert car >= MIN_CAR_HOLDS_PLATE, f"vehicle/car/photos by region: {report}"


def test_ssd_backends_agree(ssd: dict[str, Detector]) -> None:
    """OpenVINO and OpenCV DNN run the same graph: the confident boxes must be the same ones."""
    photos = [PEOPLE, *sorted(PLATES.glob("*/*.jpg"))[::6]]
    matched = confident = 0
    for photo in photos:
        image = read(photo)
        reference = [d for d in ssd["ssd-opencv"].detect(image) if d.score > 0.6]
        other = ssd["ssd-openvino"].detect(image)
        confident += len(reference)
        matched += sum(
            any(o.class_name == r.class_name and iou(o.box, r.box) > 0.9 for o in other)
            for r in reference
        )
    assert confident >= 30 and matched / confident >= 0.95, f"{matched} of {confident} matched"


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


# ---------------------------------------------------------------- YOLO backends vs Ultralytics


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
