"""The configured plate OCR engine; PaddleOCR is imported only when chosen, as it is an
optional extra."""

from __future__ import annotations

from identify.ocr import Spotter
from identify.ocr_rapid import TextSpotter
from pipeline.config import PlateEngine


def make_spotter(engine: PlateEngine) -> Spotter:
    if engine == "paddleocr":
        from identify.ocr_paddle import PaddleSpotter

        return PaddleSpotter()
    return TextSpotter()
