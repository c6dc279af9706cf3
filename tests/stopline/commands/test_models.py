"""`stopline models export`: an Ultralytics .pt becomes a model the yolo-* backends run."""

from pathlib import Path

import cv2
import pytest

from detectors.models.untrained import build_untrained_yolo
from detectors.objects import make_detector
from pipeline.config import DetectorSpec
from tests.cli import stopline
from tests.detectors.photos import ultralytics_asset


@pytest.fixture(scope="module")
def untrained_pt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    image = cv2.imread(str(ultralytics_asset("bus.jpg")))
    folder = tmp_path_factory.mktemp("export")
    return build_untrained_yolo("yolo11n.yaml", folder / "yolo11n.pt", [image], input_size_px=320)


@pytest.mark.parametrize(
    ("fmt", "backend"), [("onnx", "yolo-onnxruntime"), ("openvino", "yolo-openvino")]
)
def test_export_prints_a_path_the_backend_loads(untrained_pt: Path, fmt: str, backend: str) -> None:
    result = stopline("models", "export", str(untrained_pt), "--format", fmt, "--imgsz", "320")
    assert result.returncode == 0, result.stderr
    exported = Path(result.stdout.strip().splitlines()[-1])
    assert exported.exists()
    detector = make_detector(DetectorSpec(backend=backend, model_path=exported))
    assert detector.name.endswith("@320")
    image = cv2.imread(str(ultralytics_asset("bus.jpg")))
    detections = detector.detect(image)
    assert all(0 <= d.x1 <= d.x2 <= image.shape[1] for d in detections)


def test_export_refuses_bad_input_plainly(tmp_path: Path, untrained_pt: Path) -> None:
    missing = stopline("models", "export", str(tmp_path / "nope.pt"), "--format", "onnx")
    assert missing.returncode == 2 and "no such file" in missing.stderr
    odd = stopline("models", "export", str(untrained_pt), "--format", "onnx", "--imgsz", "300")
    assert odd.returncode == 2 and "multiple of 32" in odd.stderr
    fmt = stopline("models", "export", str(untrained_pt), "--format", "tflite")
    assert fmt.returncode == 2 and "Traceback" not in fmt.stderr
