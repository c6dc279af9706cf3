"""Fixtures shared by the detector tests."""

from pathlib import Path
from types import ModuleType

import pytest

from detectors import yolo
from detectors.objects import Detector, DetectorSpec, make_detector

ROOT = Path(__file__).resolve().parents[2]
TRAFFIC_CHECKPOINT = ROOT / "models" / "checkpoints" / "traffic-yolo11n.pt"
"""The traffic YOLO's latest training checkpoint (scripts/train_traffic_yolo.py): real weights."""
TRAFFIC_EXPORT_PX = 416


@pytest.fixture(scope="session")
def traffic_exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The checkpoint exported to ONNX and OpenVINO as a user would (the ultralytics extra)."""
    folder = tmp_path_factory.mktemp("traffic")
    pt = folder / TRAFFIC_CHECKPOINT.name
    pt.write_bytes(TRAFFIC_CHECKPOINT.read_bytes())
    try:
        return {
            fmt: yolo.export_model(pt, fmt, input_size_px=TRAFFIC_EXPORT_PX)
            for fmt in ("onnx", "openvino")
        }
    except RuntimeError as error:  # the ultralytics extra is missing
        pytest.fail(str(error))


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(scope="session")
def ultralytics(cache_dir: Path) -> ModuleType:
    try:
        return yolo.import_ultralytics(cache_dir)
    except RuntimeError as error:
        pytest.fail(str(error))


@pytest.fixture(scope="session")
def ssd(cache_dir: Path) -> dict[str, Detector]:
    return {
        backend: make_detector(DetectorSpec(backend=backend), cache_dir=cache_dir)
        for backend in ("ssd-openvino", "ssd-opencv")
    }
