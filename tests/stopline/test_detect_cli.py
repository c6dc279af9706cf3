"""`stopline detect` and the detect stage's wiring: live streams stop cleanly on SIGTERM, and a
controller feed on the bus reaches the rules before the first frame is judged."""

import queue
import signal
import subprocess
import threading
import time
from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
import yaml

from detectors.signals import ControllerFeed
from pipeline.config import parse_config
from pipeline.events import SIGNALS, SignalPhaseChanged
from stopline.wiring import Pipeline
from tests.cli import COMMAND, stopline
from tests.clock import START
from tests.detectors.live_camera import RtspCamera

WAIT_S = 30.0


def site(tmp_path: Path, signal_source: dict[str, object], source: str = "clip.mp4") -> Path:
    """A one-camera deployment in tmp_path with a northbound stop line across a 450x360 view."""
    data = {
        "storage": {
            "database_url": "sqlite:///stopline.db",
            "evidence_dir": "evidence",
            "signing_key_path": "key.pem",
        },
        "cameras": [
            {
                "id": "cam",
                "source": source,
                "analysis_fps": 5,
                "location": "Test Ave",
                "geometry": {
                    "stop_lines": [
                        {
                            "id": "stop",
                            "approach": "north",
                            "points": [[0, 250], [450, 250]],
                            "direction": "up",
                        }
                    ],
                    "entry_lines": [
                        {"id": "entry", "stop_line": "stop", "points": [[0, 150], [450, 150]]}
                    ],
                },
                "signal": signal_source,
            }
        ],
    }
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_detect_on_a_live_stream_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    camera = RtspCamera()
    camera.plug_in()
    config = site(tmp_path, {"kind": "controller"}, camera.url)
    process = subprocess.Popen(
        [*COMMAND, "detect", camera.url, "--config", str(config), "--json", "-v"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stderr is not None
    reader = threading.Thread(target=lambda: [lines.put(x) for x in process.stderr], daemon=True)
    reader.start()
    try:
        seen: list[str] = []
        while not any("camera stream live" in line for line in seen):
            seen.append(lines.get(timeout=WAIT_S))
        time.sleep(2.0)  # let a few frames through the detector
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=WAIT_S)
        assert process.stdout is not None
        stdout = process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
        camera.unplug()
    reader.join(5)
    while not lines.empty():
        seen.append(lines.get())
    stderr = "".join(seen)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    summary = next(line for line in seen if "frames analysed" in line)
    assert int(summary.split(": ", 1)[1].split()[0]) > 0, summary
    assert stdout == ""  # the controller feed is silent: phase unknown, nobody is cited


def blank_video(path: Path, seconds: float, fps: int = 5) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (450, 360))
    for _ in range(int(seconds * fps)):
        writer.write(np.full((360, 450, 3), 90, np.uint8))
    writer.release()


def test_controller_phases_published_before_the_run_are_known_to_the_rules(
    tmp_path: Path,
) -> None:
    blank_video(tmp_path / "clip.mp4", 4.0)
    cfg = parse_config(yaml.safe_load(site(tmp_path, {"kind": "controller"}).read_text()))
    with Pipeline(cfg, base_dir=tmp_path) as pipeline:
        for t, phase in [(0.0, "green"), (1.0, "amber"), (4.5, "red")] + [
            (t, "red") for t in (5.5, 6.5, 7.5)
        ]:
            event = SignalPhaseChanged(
                camera_id="cam",
                approach="north",
                phase=phase,
                changed_at=START + timedelta(seconds=t),
            )
            pipeline.bus.publish(SIGNALS, "cam", event)
        (run,) = pipeline.detect_all(threading.Event(), publish=lambda _e: None, start=START)
    assert isinstance(run.signals, ControllerFeed)
    red = run.signals.phase_at("north", 6.0)
    assert (red.phase, red.onset_s, red.amber_s) == ("red", 4.5, 3.5)
    assert run.source_stats.analysed == 20
    assert not (tmp_path / "stopline.db").exists()  # detect alone never opens the store


def test_detect_needs_a_camera_choice_when_there_are_several(tmp_path: Path) -> None:
    config = site(tmp_path, {"kind": "controller"})
    data = yaml.safe_load(config.read_text())
    data["cameras"].append({**data["cameras"][0], "id": "cam2"})
    config.write_text(yaml.safe_dump(data))
    result = stopline("detect", "clip.mp4", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2
    assert "--camera" in result.stderr and "cam2" in result.stderr
    result = stopline(
        "detect", "missing.mp4", "--config", str(config), "--camera", "cam2", cwd=tmp_path
    )
    assert result.returncode == 1
    assert "camera source not found" in result.stderr and "Traceback" not in result.stderr
