"""`stopline run` wiring: all stages in one process on the memory bus."""

from pathlib import Path

import yaml

from pipeline.config import load_config, parse_config
from pipeline.events import VIOLATIONS
from stopline.demo.frames import render
from stopline.demo.run import DEMO_CONFIG
from stopline.wiring import Pipeline
from tests.cli import stopline
from tests.demo_site import demo_data


def test_garbage_on_a_topic_is_dead_lettered_and_the_run_goes_on(tmp_path: Path) -> None:
    data = demo_data()
    data["portal"] = {"media": {"enabled": False}}  # the subject is the dead letter
    cfg = parse_config(data)
    render(cfg.cameras[0], tmp_path)
    with Pipeline(cfg, base_dir=tmp_path) as pipeline:
        pipeline.bus.publish_raw(VIOLATIONS, "demo-east", b"{not json")
        summary = pipeline.run_all()
    assert summary.dead_letters == 1
    assert summary.violations == 2
    # Approved; nobody is registered, so no notice is sent and, as the cases name nobody, no
    # billboard shows them (display.privacy.unidentified: hidden).
    assert summary.citations == {"approved": 2}
    assert summary.frames == 300


def test_run_command_processes_a_config(tmp_path: Path) -> None:
    data = demo_data()
    # The portal's stage inside `stopline run` is shown by the demo's own run
    # (tests/stopline/commands/test_running.py); here it would add half a minute.
    data["portal"] = {"media": {"enabled": False}}
    config = tmp_path / "site.yaml"
    config.write_text(yaml.safe_dump(data))
    render(load_config(config).cameras[0], tmp_path)
    result = stopline("run", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "citations approved" in result.stdout  # naming nobody: no SMS, no billboard
    assert (tmp_path / "stopline.db").is_file()
    assert list((tmp_path / "evidence" / "manifests").glob("*.json"))


def test_run_with_an_unreadable_source_stops_with_a_plain_error(tmp_path: Path) -> None:
    data = yaml.safe_load(DEMO_CONFIG.read_text())
    data["cameras"][0]["source"] = "some-other-video.mp4"
    config = tmp_path / "site.yaml"
    config.write_text(yaml.safe_dump(data))
    (tmp_path / "some-other-video.mp4").write_bytes(b"not a video")
    result = stopline("run", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 1
    assert "cannot open video" in result.stderr
    assert "Traceback" not in result.stderr
