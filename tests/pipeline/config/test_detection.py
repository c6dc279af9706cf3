"""A mistyped detector, tracker or stream key is named, and the defaults run the packaged model."""

import pytest

from pipeline.config import load_config, parse_config
from tests.pipeline.config.helpers import DEMO, demo_data, problems


@pytest.mark.parametrize(
    ("section", "value", "expected"),
    [
        (("detector", "backend"), "yolo-tensorrt", "detector.backend: found 'yolo-tensorrt'"),
        (("detector", "also", 0, "model_path"), "m.onnx", "detector.also[0]: found "),
        (("tracking", "lost_track_s"), -1, "tracking.lost_track_s: found -1"),
        (("tracking", "confirm_frame"), 2, "tracking.confirm_frame: found an unknown key"),
        (("cameras", 0, "stream", "read_timeout_s"), 0, "cameras[0].stream.read_timeout_s"),
        (("cameras", 0, "signal", "flicker", "max_changes"), 0, "cameras[0].signal.flicker"),
    ],
)
def test_detection_sections_name_the_bad_key(
    section: tuple[str | int, ...], value: object, expected: str
) -> None:
    data = demo_data()
    node = data
    for key in section[:-1]:
        node = node.setdefault(key, {}) if isinstance(key, str) else node[key]
    node[section[-1]] = value
    lines = problems(data)
    assert len(lines) == 1 and lines[0].startswith(expected), lines


def test_without_a_detector_section_the_packaged_ssd_runs_with_bytetrack() -> None:
    data = demo_data()
    del data["detector"], data["tracking"]
    cfg = parse_config(data, "t.yaml")
    assert cfg.detector.backend == "ssd-openvino" and cfg.detector.model_path is None
    assert not cfg.detector.also
    assert cfg.tracking.lost_track_s == 1.0 and cfg.tracking.confirm_frames == 2
    assert cfg.cameras[0].stream.read_timeout_s == 5.0
    assert cfg.cameras[0].signal.flicker.max_changes == 2


def test_the_demo_runs_the_packaged_traffic_yolo_with_the_ssd_beside_it() -> None:
    cfg = load_config(DEMO)
    assert cfg.detector.backend == "yolo-openvino" and cfg.detector.packaged
    assert [(a.backend, a.packaged) for a in cfg.detector.also] == [("ssd-openvino", True)]
    assert cfg.tracking.activation_score == cfg.detector.score_threshold
