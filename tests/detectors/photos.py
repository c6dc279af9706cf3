"""Photos the detector tests read: the shared data's and those Ultralytics' wheel ships."""

import importlib.util
from pathlib import Path

import cv2
import numpy as np
import pytest

from detectors.objects import Detection
from tests.shared_data import need

EXTRA = "install the `ultralytics` extra: pip install -e '.[ultralytics]'"


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
