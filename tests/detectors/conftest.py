"""Fixtures shared by the detector tests."""

from pathlib import Path

import pytest

from detectors import yolo

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
