"""What every detector backend shares: the detection record and interface, the letterbox,
NMS, and compiling a model for OpenVINO.

The YOLO pre- and post-processing copies Ultralytics' arithmetic (letterbox rounding, best-class
selection, class-aware NMS, box scaling), so the same model gives the same boxes on every backend.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from detectors.label_maps import LabelMap
from pipeline.config import ClassName, DetectorSpec
from pipeline.geometry import nms

if TYPE_CHECKING:
    import openvino as ov


MAX_DETECTIONS = 300
"""Per frame, after NMS; Ultralytics' `max_det` default, so parity checks compare equal lists."""
_LETTERBOX_FILL = (114, 114, 114)
PRECISION_ENV = "STOPLINE_OPENVINO_PRECISION"
"""Overrides every detector's `openvino_precision` on this machine: `f32` makes a bf16 CPU
compute as one without bf16 does, to check that results hold on both."""


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


def stretch(image_bgr: np.ndarray, size: int) -> tuple[np.ndarray, Placement]:
    """Squeeze the frame into a `size` square, as Roboflow-style exports squeeze training
    frames: a model trained on such frames knows road users only in that squeezed shape."""
    height, width = image_bgr.shape[:2]
    squeezed = cv2.resize(image_bgr, (size, size), interpolation=cv2.INTER_LINEAR)
    return squeezed, Placement(0, 0, size / width, size / height)


def model_input(
    image_bgr: np.ndarray, size: int, spec: DetectorSpec
) -> tuple[np.ndarray, Placement]:
    """The square a YOLO model sees, shaped as `spec.resize_mode` says."""
    return (stretch if spec.resize_mode == "stretch" else letterbox)(image_bgr, size)


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


def to_detections(
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


def openvino_precision(spec: DetectorSpec) -> str:
    forced = os.environ.get(PRECISION_ENV)
    if forced is None:
        return spec.openvino_precision
    if forced not in ("fastest", "f32"):
        raise ValueError(f"{PRECISION_ENV}: found {forced!r}; expected 'fastest' or 'f32'")
    return forced


def compile_openvino(core: ov.Core, model: ov.Model, spec: DetectorSpec) -> ov.CompiledModel:
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
