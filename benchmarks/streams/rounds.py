"""One N: start the cameras and the workers, measure the window, stop everything."""

from __future__ import annotations

import multiprocessing
import os
import statistics
import subprocess
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnProcess
from pathlib import Path

import numpy as np

from benchmarks.common import num, stderr
from benchmarks.streams.cameras import _ffmpeg, _free_port, _serve_relays
from benchmarks.streams.cpu import _machine_ticks, _pid_ticks
from benchmarks.streams.settings import (
    CAMERA_FPS,
    CLK_TCK,
    GOP_S,
    MAX_BEHIND_S,
    MAX_P95_S,
    QUIET_BUSY,
    READY_TIMEOUT_S,
    TARGET_FPS,
)
from benchmarks.streams.workers import Camera, StreamResult, WorkerResult, _worker
from detectors.objects import DetectorSpec


@dataclass
class Round:
    streams: int
    processes: int
    seconds: float
    results: list[WorkerResult]
    cameras_s: float
    machine_busy_s: float
    machine_total_s: float
    parent_s: float

    @property
    def per_stream(self) -> list[StreamResult]:
        return [s for r in self.results for s in r.streams]

    @property
    def fps(self) -> list[float]:
        return [s.analysed / self.seconds for s in self.per_stream]

    @property
    def p95_s(self) -> float:
        return max(
            float(np.percentile(s.ages_s, 95)) if s.ages_s else np.inf for s in self.per_stream
        )

    @property
    def behind_s(self) -> float:
        return max(self.seconds - s.read / CAMERA_FPS for s in self.per_stream)

    @property
    def sustained(self) -> bool:
        return (
            min(self.fps) >= TARGET_FPS and self.p95_s < MAX_P95_S and self.behind_s <= MAX_BEHIND_S
        )

    def row(self) -> list[str]:
        frames = max(1, sum(s.analysed for s in self.per_stream))
        decode, record, detect, track, total = (
            sum(getattr(r, name) for r in self.results)
            for name in ("decode_s", "record_s", "detect_s", "track_s", "total_s")
        )
        cores = self.machine_total_s / self.seconds  # CPU seconds per second of all cores
        share = 100.0 / (self.seconds * cores)
        others = self.machine_busy_s - total - self.cameras_s - self.parent_s
        late = sum(s.late for s in self.per_stream)
        return [
            str(self.streams),
            str(self.processes),
            num(min(self.fps), 2),
            num(statistics.median(self.fps), 2),
            num(min(s.read for s in self.per_stream) / self.seconds, 1),
            num(100.0 * late / max(1, late + frames), 1),
            num(self.p95_s * 1000, 0),
            num(max(0.0, self.behind_s), 2),
            *(num(v * 1000 / frames, 1) for v in (decode, record, detect, track)),
            num(max(0.0, total - decode - record - detect - track) * 1000 / frames, 1),
            num(total * share, 0),
            num(self.cameras_s * share, 0),
            num(max(0.0, others) * share, 0),
            num(self.machine_busy_s * share, 0),
            "yes" if self.sustained else "no",
        ]


def _spawn(target: object, args: tuple[object, ...]) -> tuple[SpawnProcess, Connection]:
    """A fresh interpreter (no forked OpenVINO or FFmpeg threads) and a pipe to it."""
    ours, theirs = multiprocessing.get_context("spawn").Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=target, args=(*args, theirs), daemon=True
    )
    process.start()
    theirs.close()
    return process, ours


def _stop(process: SpawnProcess, conn: Connection) -> None:
    with suppress(OSError):
        conn.send("stop")
    process.join(15)
    if process.is_alive():
        process.kill()
        process.join(5)
    conn.close()


def wait_for_quiet(limit_s: float) -> float:
    """Wait until the CPUs were less than 15 % busy for 3 s, at most `limit_s`; the machine is
    shared, and what others run would otherwise be counted against stopline. Returns the last
    busy fraction seen."""
    deadline = time.monotonic() + limit_s
    while True:
        busy0, total0 = _machine_ticks()
        time.sleep(3.0)
        busy1, total1 = _machine_ticks()
        busy = (busy1 - busy0) / max(1, total1 - total0)
        if busy < QUIET_BUSY or time.monotonic() >= deadline:
            return busy
        stderr.print(f"waiting for a quiet machine: {busy:.0%} busy")


@dataclass(frozen=True)
class Setup:
    warmup_s: float
    seconds: float
    processes: int
    detector: DetectorSpec
    sub_clip: Path | None
    """The sub-stream clip with --layout dual; None with --layout main."""
    package: bool = False
    """Time one evidence package after the window."""


def _publish(clips: Sequence[Path], urls: Sequence[str]) -> subprocess.Popen[bytes]:
    """One camera: an ffmpeg sending each clip in a loop, in real time, to its RTSP URL."""
    command = [_ffmpeg(), "-hide_banner", "-loglevel", "error"]
    for clip in clips:
        command += ["-re", "-stream_loop", "-1", "-i", str(clip)]
    for index, url in enumerate(urls):
        command += ["-map", f"{index}:v", "-c", "copy", "-f", "rtsp", "-rtsp_transport", "tcp"]
        command.append(url)
    # Own session: Ctrl-C reaches only us, and we stop them in order.
    return subprocess.Popen(command, stdin=subprocess.DEVNULL, start_new_session=True)


def run_round(clip: Path, streams: int, setup: Setup) -> Round:
    """Cameras, then workers; measure one window; stop everything, also on an exception."""
    seconds = setup.seconds
    clips = [clip] if setup.sub_clip is None else [clip, setup.sub_clip]
    ports = [[_free_port() for _ in clips] for _ in range(streams)]
    urls = [[f"rtsp://127.0.0.1:{port}/live" for port in pair] for pair in ports]
    cameras = [Camera(u[-1], u[0] if len(u) > 1 else None) for u in urls]
    children: list[tuple[SpawnProcess, Connection]] = []
    publishers: list[subprocess.Popen[bytes]] = []
    try:
        relay = _spawn(_serve_relays, ([port for pair in ports for port in pair],))
        children.append(relay)
        if not relay[1].poll(30):
            raise RuntimeError("the RTSP relays did not start")
        relay[1].recv()
        for index, camera_urls in enumerate(urls):
            if index:
                time.sleep(GOP_S / streams)  # spread key frames, as real cameras are
            publishers.append(_publish(clips, camera_urls))
        count = min(setup.processes or streams, streams)
        for share in range(count):
            children.append(_spawn(_worker, (cameras[share::count], setup.detector)))
        workers = children[1:]
        for _, conn in workers:
            if not conn.poll(READY_TIMEOUT_S + 60):
                raise RuntimeError("a worker did not start its streams")
            conn.recv()
        t0 = time.monotonic() + setup.warmup_s
        t1 = t0 + seconds
        for index, (_, conn) in enumerate(workers):
            conn.send((t0, t1, setup.package and index == 0))
        time.sleep(max(0.0, t0 - time.monotonic()))
        cams = [p.pid for p in publishers] + [relay[0].pid or 0]
        before = (sum(map(_pid_ticks, cams)), _machine_ticks(), _pid_ticks(os.getpid()))
        time.sleep(max(0.0, t1 - time.monotonic()))
        after = (sum(map(_pid_ticks, cams)), _machine_ticks(), _pid_ticks(os.getpid()))
        results = []
        for _, conn in workers:
            if not conn.poll(60):
                raise RuntimeError("a worker did not report")
            results.append(conn.recv())
        return Round(
            streams=streams,
            processes=count,
            seconds=seconds,
            results=results,
            cameras_s=(after[0] - before[0]) / CLK_TCK,
            machine_busy_s=(after[1][0] - before[1][0]) / CLK_TCK,
            machine_total_s=(after[1][1] - before[1][1]) / CLK_TCK,
            parent_s=(after[2] - before[2]) / CLK_TCK,
        )
    finally:
        # Workers, then cameras, then relays: nobody sees its peer vanish and logs an error.
        for process, conn in children[1:]:
            _stop(process, conn)
        for publisher in publishers:
            publisher.kill()
            publisher.wait(10)
        for process, conn in children[:1]:
            _stop(process, conn)
