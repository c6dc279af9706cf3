"""The cameras: a 1080p25 clip made once from the real clips, its sub-stream, RTSP relays."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Sequence
from multiprocessing.connection import Connection
from pathlib import Path

from benchmarks.common import stderr
from benchmarks.streams.settings import CLIPS, ENCODE, FILTER, SUB_ENCODE, SUB_FILTER, VIDEOS


def camera_clip(cache: Path) -> Path:
    """The 1080p25 camera clip, made once: about 14 s of x264 on two cores."""
    sources = [VIDEOS / name for name in CLIPS]
    missing = [str(p) for p in sources if not p.is_file()]
    if missing:
        stderr.print(f"missing {', '.join(missing)} (the shared data folder beside the repo)")
        raise SystemExit(2)
    key = hashlib.sha256(repr((FILTER, ENCODE, [p.stat().st_size for p in sources])).encode())
    clip = cache / f"camera-1080p25-{key.hexdigest()[:12]}.mp4"
    if clip.is_file():
        return clip
    cache.mkdir(parents=True, exist_ok=True)
    inputs = [arg for p in sources for arg in ("-i", str(p))]
    _encode(clip, [*inputs, "-filter_complex", FILTER, "-map", "[v]", "-an", *ENCODE])
    return clip


def sub_clip(main: Path) -> Path:
    """The camera's 640x360 sub-stream: the main clip scaled down, same frames and key frames."""
    key = hashlib.sha256(repr((SUB_FILTER, SUB_ENCODE, main.name)).encode())
    clip = main.with_name(f"camera-360p25-{key.hexdigest()[:12]}.mp4")
    if not clip.is_file():
        _encode(clip, ["-i", str(main), "-vf", SUB_FILTER, "-an", *SUB_ENCODE])
    return clip


def _encode(clip: Path, arguments: list[str]) -> None:
    """Run ffmpeg into a staged file, renamed only once complete: a cache never holds half."""
    staged = clip.with_suffix(".partial.mp4")
    stderr.print(f"making a camera clip once: {clip}")
    try:
        command = [_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", *arguments, str(staged)]
        subprocess.run(command, check=True, stdin=subprocess.DEVNULL)
        os.replace(staged, clip)
    finally:
        staged.unlink(missing_ok=True)


def _ffmpeg() -> str:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        stderr.print("ffmpeg not found: install the Debian package `ffmpeg`")
        raise SystemExit(2)
    return ffmpeg


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve_relays(ports: Sequence[int], conn: Connection) -> None:
    """Relay process: one RTSP relay per camera, until told to stop or the parent is gone.

    Out of the workers' processes, so relaying (Python threads copying RTP packets) counts as
    camera CPU and does not take the workers' GIL.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us, also on Ctrl-C
    from tests.detectors.rtsp_relay import RtspRelay

    relays = [RtspRelay(port) for port in ports]
    conn.send("ready")
    try:
        conn.recv()
    except EOFError:
        pass
    finally:
        for relay in relays:
            relay.stop()
