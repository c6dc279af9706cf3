from pathlib import Path

import pytest
import yaml

from pipeline.config import ConfigError, load_config, parse_config, reference

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "configs" / "demo.yaml"


def demo_data() -> dict:
    return yaml.safe_load(DEMO.read_text())


def problems(data: dict) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(data, "t.yaml")
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize("name", ["demo.yaml", "production.yaml"])
def test_shipped_configs_are_valid(name: str) -> None:
    cfg = load_config(ROOT / "configs" / name)
    assert cfg.cameras
    assert cfg.review.auto_approve is False


def test_defaults_keep_safeguards_on() -> None:
    cfg = load_config(DEMO)
    assert cfg.rules.red_light.grace_s == 0.3
    assert cfg.identification.faces.enabled is False
    data = demo_data()
    del data["review"]
    assert parse_config(data).review.demo_reviewer is None


def test_three_problems_three_lines() -> None:
    data = demo_data()
    data["rules"]["red_light"]["grace_seconds"] = 0.5
    data["cameras"][0]["analysis_fps"] = "fast"
    data["cameras"][0]["geometry"]["crosswalks"][0]["polygon"] = [[1, 2], [3, 4]]
    lines = problems(data)
    assert len(lines) == 3
    assert lines[0].startswith("cameras[0].analysis_fps: found 'fast'; expected a valid number")
    assert (
        lines[1]
        == "cameras[0].geometry.crosswalks[0].polygon: found 2 item(s); expected at least 3"
    )
    assert lines[2].startswith("rules.red_light.grace_seconds: found an unknown key")
    assert "grace_s" in lines[2]


def test_enum_path_names_the_list_index() -> None:
    data = demo_data()
    line = data["cameras"][0]["geometry"]["stop_lines"][0]
    data["cameras"][0]["geometry"]["stop_lines"].append({**line, "id": "s2", "direction": "north"})
    assert problems(data) == [
        "cameras[0].geometry.stop_lines[1].direction: found 'north'; "
        "expected 'up', 'down', 'left' or 'right'"
    ]


def test_cross_references_are_checked() -> None:
    data = demo_data()
    data["cameras"][0]["geometry"]["entry_lines"][0]["stop_line"] = "nowhere"
    data["display"]["screens"][0]["cameras"] = ["ghost-cam"]
    data["bus"] = {"kind": "kafka"}
    lines = problems(data)
    assert any(
        x.startswith("cameras[0].geometry.entry_lines[0].stop_line: found 'nowhere'") for x in lines
    )
    assert any(x.startswith("display.screens[0].cameras[0]: found 'ghost-cam'") for x in lines)
    assert any(x.startswith("bus.bootstrap_servers") for x in lines)


def test_missing_key_and_bad_yaml(tmp_path: Path) -> None:
    data = demo_data()
    del data["cameras"][0]["location"]
    assert problems(data) == ["cameras[0].location: found nothing; expected this required key"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("cameras: [\n  - id: x\n    source: : :\n")
    with pytest.raises(ConfigError) as info:
        load_config(bad)
    assert "line" in str(info.value.problems[0])
    with pytest.raises(ConfigError):
        load_config(tmp_path / "missing.yaml")


def test_config_doc_lists_every_key() -> None:
    doc = (ROOT / "docs" / "CONFIG.md").read_text()
    missing = [row for row in reference() if row not in doc]
    assert not missing, "docs/CONFIG.md is stale; regenerate with `stopline config reference`"


def test_every_field_has_a_description() -> None:
    assert all(not row.endswith("|  |") for row in reference())


@pytest.mark.parametrize(
    ("section", "value", "expected"),
    [
        (("detector", "backend"), "yolo-tensorrt", "detector.backend: found 'yolo-tensorrt'"),
        (("detector", "model_path"), "m.onnx", "detector: found "),
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


def test_evidence_source_must_be_read_like_the_source() -> None:
    data = demo_data()
    data["cameras"][0]["evidence_source"] = "rtsp://cam.local/main"
    lines = problems(data)
    assert len(lines) == 1 and lines[0].startswith("cameras[0].evidence_source: "), lines
    assert "a file when source is a file" in lines[0]


def test_detection_defaults_are_the_packaged_ssd_and_bytetrack() -> None:
    cfg = load_config(DEMO)
    assert cfg.detector.backend == "ssd-openvino" and cfg.detector.model_path is None
    assert cfg.tracking.lost_track_s == 1.0 and cfg.tracking.confirm_frames == 2
    assert cfg.cameras[0].stream.read_timeout_s == 5.0
    assert cfg.cameras[0].signal.flicker.max_changes == 2
