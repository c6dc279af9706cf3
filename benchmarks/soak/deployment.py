"""The soak's deployment: cameras looping the real clips, its config, one process per stage."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from benchmarks.streams.cameras import _free_port, _serve_relays
from benchmarks.streams.rounds import _publish, _spawn, _stop
from tests.cli import COMMAND

ROOT = Path(__file__).resolve().parents[2]
CAMERAS = (
    ("hanoi-cam", "hanoi", 6.0),
    ("y3-cam", "y3", 1.0),
    ("y2-cam", "y2", 1.0),
    ("hanoi-cam-2", "hanoi", 6.0),
)
"""(camera id, clip config, analysis fps): the three real clips, and the busiest again."""
DETECTOR = (
    "SSD-MobileNet-v2 alone (the default) with one OpenVINO thread per inference (22 % less CPU"
    " a frame when cameras share cores), not the clips' traffic YOLO + SSD pair, which costs"
    " about 3x its CPU (~110 ms a frame) and cannot keep four cameras on two shared cores."
    " The rules need about 5 fps to follow a road user over a line (at 2-3 fps the clips give no"
    " violation), so the Hanoi cameras run at their clip config's 6 fps (filmed at 6 fps: every"
    " frame, 640x480, one inference) and bring the cases: their looped traffic meets a fixed"
    " signal plan whose 100 s cycle drifts against the 64 s loop, so the riders who flow at"
    " the clip's start cross on the plan's red in most loops. y3 and y2 (25 fps sources, a zoom"
    " window each: two inferences a frame) run at 1 fps, as load"
)
CONSUMERS = ("identify", "review-policy", "relay", "notify", "display")
STOP_TIMEOUT_S = 60.0
RELAYS_TIMEOUT_S = 30.0


def _clip_config(clip: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / "configs" / f"clip-{clip}.yaml").read_text())


def clip_files(count: int) -> list[Path]:
    """The video files of the first `count` cameras."""
    return [ROOT / _clip_config(clip)["cameras"][0]["source"] for _, clip, _ in CAMERAS[:count]]


def write_config(folder: Path, urls: Sequence[str], bootstrap: str, database_url: str) -> Path:
    """The clips' own geometry, signals, rules and identification, on Kafka and PostgreSQL,
    each camera read from its stream and shown on its own LED screen (screen id = camera id);
    without the clips' detector section (DETECTOR says why)."""
    data = _clip_config("hanoi")
    data["detector"] = {"openvino_threads": 1}
    cameras = []
    for (camera_id, clip, fps), url in zip(CAMERAS, urls, strict=False):
        camera = _clip_config(clip)["cameras"][0]
        camera.update(id=camera_id, source=url, analysis_fps=fps)
        cameras.append(camera)
    data.update(
        deployment="soak",
        cameras=cameras,
        storage={
            "database_url": database_url,
            "evidence_dir": "evidence",
            "signing_key_path": "keys/evidence-ed25519.pem",
        },
        bus={"kind": "kafka", "bootstrap_servers": bootstrap},
    )
    data["notifier"]["outbox_dir"] = "sms-outbox"
    # Load, not policy: nobody is registered, and every approved case goes up at once.
    data["display"]["hold_for_appeal"] = False
    data["display"]["privacy"] = {**data["display"].get("privacy", {}), "unidentified": "shown"}
    data["display"]["screens"] = [
        {
            "id": camera["id"],
            "cameras": [camera["id"]],
            "width_px": 256,
            "height_px": 128,
            "output": "folder",
            "output_dir": "billboard",
        }
        for camera in cameras
    ]
    config = folder / "soak.yaml"
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    return config


@contextmanager
def looping_cameras(clips: Sequence[Path]) -> Iterator[list[str]]:
    """RTSP URLs of live cameras, each an ffmpeg sending its clip in a loop in real time."""
    ports = [_free_port() for _ in clips]
    relays = _spawn(_serve_relays, (ports,))
    publishers: list[subprocess.Popen[bytes]] = []
    try:
        if not relays[1].poll(RELAYS_TIMEOUT_S):
            raise RuntimeError("the RTSP relays did not start")
        relays[1].recv()
        urls = [f"rtsp://127.0.0.1:{port}/live" for port in ports]
        publishers += [_publish([clip], [url]) for clip, url in zip(clips, urls, strict=True)]
        yield urls
    finally:
        for publisher in publishers:
            publisher.kill()
            publisher.wait(STOP_TIMEOUT_S)
        _stop(*relays)


@dataclass
class Workers:
    """Every stage's process, logging to `NAME.log` in the deployment's folder."""

    folder: Path
    config: Path
    stats: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    exit_codes: dict[str, int | None] = field(default_factory=dict)
    """Of each stopped process; None where it had to be killed."""

    def start(self) -> None:
        detect = [sys.executable, "-m", "benchmarks.soak.detect", str(self.config)]
        self._start("detect", [*detect, str(self.stats)])
        for stage in CONSUMERS:
            self._start(stage, [*COMMAND, "worker", stage, "--config", str(self.config)])

    def _start(self, name: str, command: list[str]) -> None:
        with (self.folder / f"{name}.log").open("wb") as log:
            # Own session: a Ctrl-C reaches only the soak, which stops them in order.
            self.procs[name] = subprocess.Popen(
                command,
                cwd=self.folder,
                env={**os.environ, "PYTHONPATH": str(ROOT)},  # `benchmarks` is not installed
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self, names: Sequence[str]) -> None:
        """SIGTERM, as a service manager stops a worker; killed if it ignores it."""
        for name in names:
            self.procs[name].send_signal(signal.SIGTERM)
        for name in names:
            try:
                self.exit_codes[name] = self.procs[name].wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.procs[name].kill()
                self.procs[name].wait()
                self.exit_codes[name] = None

    def stop_all(self) -> None:
        self.stop([name for name, proc in self.procs.items() if proc.poll() is None])

    def dead(self) -> list[str]:
        """Processes that ended before they were told to."""
        return [
            n for n, p in self.procs.items() if n not in self.exit_codes and p.poll() is not None
        ]

    def log_tail(self, name: str, lines: int = 20) -> str:
        text = (self.folder / f"{name}.log").read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])
