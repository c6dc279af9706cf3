"""A real camera on loopback for live-source tests: ffmpeg plays a real clip in real time
into an RTSP relay, and can be unplugged and plugged in again on the same URL."""

import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from pipeline.config import StreamOptions
from tests.detectors.rtsp_relay import RtspRelay
from tests.shared_data import DATA, need

CLIP = DATA / "video" / "y2.mp4"
"""A real 450x360 H.264 clip at 25 fps with a key frame every 2.4 s."""


def ffmpeg() -> str:
    path = shutil.which("ffmpeg")
    if path is None:
        pytest.fail(
            "ffmpeg not found: the live-stream tests serve a real clip with it. Run the "
            "project's test script (scripts/test.sh), which installs the Debian package `ffmpeg`."
        )
    need(CLIP)
    return path


FAST = StreamOptions(
    open_timeout_s=4.0,
    read_timeout_s=1.0,
    backoff_initial_s=0.2,
    backoff_max_s=1.0,
    down_after_s=30.0,
)
"""Short timeouts and backoff, so that loss and return fit in a test."""
WAIT_S = 20.0
"""Upper bound of any wait; connecting takes about 3 s (probe plus the next key frame)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_clip(*output: str, clip: Path = CLIP) -> subprocess.Popen[bytes]:
    """ffmpeg playing the clip in a loop, in real time, to `output`."""
    command = [ffmpeg(), "-hide_banner", "-loglevel", "error", "-re", "-stream_loop", "-1"]
    command += ["-i", str(clip), "-an", "-c", "copy", *output]
    return subprocess.Popen(command, stdin=subprocess.DEVNULL)


def kill(process: subprocess.Popen[bytes]) -> None:
    process.kill()
    process.wait(timeout=10)


class RtspCamera:
    """A camera that can be unplugged and plugged in again on the same URL."""

    def __init__(self, clip: Path = CLIP) -> None:
        self.clip = clip
        self.port = free_port()
        self.url = f"rtsp://127.0.0.1:{self.port}/live"
        self.relay: RtspRelay | None = None
        self.ffmpeg: subprocess.Popen[bytes] | None = None

    def plug_in(self) -> None:
        self.relay = RtspRelay(self.port)
        self.ffmpeg = serve_clip("-f", "rtsp", "-rtsp_transport", "tcp", self.url, clip=self.clip)

    def unplug(self) -> None:
        if self.ffmpeg is not None:
            kill(self.ffmpeg)
        if self.relay is not None:
            self.relay.stop()
        self.ffmpeg = self.relay = None
