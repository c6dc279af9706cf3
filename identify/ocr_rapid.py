"""The default plate OCR engine: PP-OCR (v6 det + rec ONNX in PyPI `rapidocr`), run from the
files the wheel ships (no hub, no download).

- `TextSpotter`: rapidocr's `RapidOCR` engine; finds text lines in a photo and reads any
  rectified crop.
- `CharRecogniser`: the same recognition model run directly, for what the engine keeps to
  itself: each character's probabilities, so a plate format can take the model's second choice
  where its first cannot stand (an O in a digit slot).
"""

from __future__ import annotations

import cv2
import numpy as np

from identify.ocr import Spotter, TextLine, onnx_session, package_file
from identify.plate_formats import PLATE_CHARACTERS, CharRead

REC_PACKAGE = "rapidocr"
REC_MODEL = "rapidocr/models/PP-OCRv6_rec_small.onnx"
"""The recognition model rapidocr's engine loads by default (its config.yaml: PP-OCRv6 small)."""


class TextSpotter(Spotter):
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
        self._session = onnx_session(path)
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
