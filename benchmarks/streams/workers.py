"""The analysis workers: each analyses its share of the streams and reports what it measured."""

from __future__ import annotations

import json
import os
import signal
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np

from benchmarks.streams.cpu import _pid_ticks, _thread_ticks
from benchmarks.streams.settings import ANALYSIS_FPS, CLK_TCK, READY_TIMEOUT_S
from detectors.evidence import EVIDENCE_WINDOW_S, Case, EvidenceRecorder
from detectors.objects import Detection, Detector, DetectorSpec, make_detector
from detectors.recording import KEEP_MARGIN_S, LiveRecording
from detectors.rules import TrackPoint
from detectors.sources import Frame, LiveStream, SourceStats
from detectors.tracking import ByteTrackTracker
from pipeline.evidence import EvidenceStore, load_or_create_key


@dataclass
class StreamResult:
    analysed: int
    read: int
    late: int
    ages_s: list[float]


@dataclass
class EvidenceTiming:
    """One evidence package made from a recorded main stream."""

    cpu_s: float
    wall_s: float
    frames: int
    frame_size: list[int]
    clip_mb: float


@dataclass
class WorkerResult:
    streams: list[StreamResult]
    decode_s: float
    record_s: float
    detect_s: float
    track_s: float
    total_s: float
    evidence: EvidenceTiming | None = None


@dataclass(frozen=True)
class Camera:
    analysed: str
    """The stream analysed: the sub-stream, or the main stream with --layout main."""
    recorded: str | None
    """The main stream, recorded for evidence (--layout dual)."""


@dataclass
class _Lane:
    """One stream's reader, detector and tracker, and what its analysis thread recorded."""

    url: str
    records: list[tuple[float, float, float, float]] = field(default_factory=list)
    """(done at, age s, detect CPU s, track CPU s) per analysed frame."""
    tid: int = 0
    shape: tuple[int, ...] | None = None


def _analyse(lane: _Lane, detector: Detector, stream: LiveStream) -> None:
    lane.tid = threading.get_native_id()
    spent = [0.0]

    class Timed(Detector):
        """Times detection inside the tracker's update, on this thread's CPU clock."""

        name = detector.name

        def detect(self, image_bgr: np.ndarray) -> list[Detection]:
            start = time.thread_time()
            try:
                return detector.detect(image_bgr)
            finally:
                spent[0] = time.thread_time() - start

    tracker = ByteTrackTracker(Timed(), frame_rate=ANALYSIS_FPS)
    for frame in stream:
        start = time.thread_time()
        lane.shape = frame.image.shape
        tracker.update(frame)
        cpu = time.thread_time() - start
        done = time.monotonic()
        lane.records.append((done, done - (stream.clock.mono0 + frame.t), spent[0], cpu - spent[0]))


def _worker(cameras: Sequence[Camera], spec: DetectorSpec, conn: Connection) -> None:
    """Analyse the cameras' streams; report ready once every stream delivered a frame, then
    measure the window the parent names and send a `WorkerResult`."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us, also on Ctrl-C
    detectors = [make_detector(spec) for _ in cameras]
    warm = np.zeros((1080, 1920, 3), np.uint8)
    for detector in detectors:
        for _ in range(3):
            detector.detect(warm)
    # Threads alive now are OpenVINO's and OpenCV's pools (and this one): detection's.
    detect_pool = set(_thread_ticks()) - {threading.get_native_id()}
    lanes, streams, recordings, stats, threads = [], [], [], [], []
    for camera, detector in zip(cameras, detectors, strict=True):
        lane, stat = _Lane(camera.analysed), SourceStats()
        stream = LiveStream(camera.analysed, ANALYSIS_FPS, datetime.now(UTC), stat).start()
        if camera.recorded is not None:
            recording = LiveRecording(
                camera.recorded, stream.clock, EVIDENCE_WINDOW_S + KEEP_MARGIN_S, SourceStats()
            )
            recordings.append(recording.start())
        thread = threading.Thread(target=_analyse, args=(lane, detector, stream))
        thread.start()
        threads.append(thread)
        lanes.append(lane)
        streams.append(stream)
        stats.append(stat)
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while any(not lane.records for lane in lanes) and time.monotonic() < deadline:
            time.sleep(0.1)
        conn.send("ready")
        message = conn.recv()
        if message == "stop":  # stopped before the window, e.g. on Ctrl-C
            return
        t0, t1, package = message
        time.sleep(max(0.0, t0 - time.monotonic()))
        before = ([(s.read, s.late) for s in stats], _thread_ticks(), _pid_ticks(os.getpid()))
        time.sleep(max(0.0, t1 - time.monotonic()))
        after = ([(s.read, s.late) for s in stats], _thread_ticks(), _pid_ticks(os.getpid()))
        record_tids = {r.thread_id for r in recordings}
        result = _result(lanes, before, after, detect_pool, record_tids, (t0, t1))
        _close(streams, recordings, threads)
        if package and recordings:
            result.evidence = _package_once(recordings[0], lanes[0].shape)
        conn.send(result)
        conn.recv()  # stop
    except EOFError:
        pass  # the parent is gone
    finally:
        _close(streams, recordings, threads)


def _close(
    streams: list[LiveStream], recordings: list[LiveRecording], threads: list[threading.Thread]
) -> None:
    for reader in [*streams, *recordings]:
        reader.close()
    # Each ends with its stream; exiting under a running inference aborts in C++.
    for thread in threads:
        thread.join()


def _package_once(recording: LiveRecording, shape: tuple[int, ...] | None) -> EvidenceTiming:
    """Package one case from the last 12 s the recording holds, with a box crossing the frame,
    timed on this process's CPU clock (the streams are closed by now)."""
    groups = [p for g in recording.groups for p in g]
    end = groups[-1].t - 0.5
    at = end - EVIDENCE_WINDOW_S / 2
    height, width = shape[:2] if shape else (360, 640)
    track = [
        TrackPoint(t, (x, height * 0.5, x + width * 0.2, height * 0.8))
        for t, x in ((at - 3 + 0.2 * i, width * 0.05 * i) for i in range(16))
    ]
    with tempfile.TemporaryDirectory() as tmp:
        store = EvidenceStore(Path(tmp), load_or_create_key(Path(tmp) / "key.pem"))
        recorder = EvidenceRecorder(store, ANALYSIS_FPS, footage=recording)
        recorder.add_frame(Frame(0, at, datetime.now(UTC), np.zeros((height, width, 3), np.uint8)))
        recorder.open_case(Case("bench", at, {"stop_line": at}, track, "bench | RED", {}))
        cpu0, wall0 = time.process_time(), time.monotonic()
        (package,) = recorder.flush()
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
        facts = json.loads(store.manifest_path("bench").read_text())["manifest"]["facts"]
        clip = next(f for f in package.files if f.role == "clip")
        frames = round((facts["clip_end_s"] - facts["clip_start_s"]) * facts["clip_fps"]) + 1
        return EvidenceTiming(
            cpu, wall, frames, facts["frame_size"], len(store.get(clip.sha256)) / 1e6
        )


def _result(
    lanes: Sequence[_Lane],
    before: tuple[list[tuple[int, int]], dict[int, int], int],
    after: tuple[list[tuple[int, int]], dict[int, int], int],
    detect_pool: set[int],
    record_tids: set[int],
    window: tuple[float, float],
) -> WorkerResult:
    t0, t1 = window
    streams, detect_s, track_s = [], 0.0, 0.0
    for lane, (read0, late0), (read1, late1) in zip(lanes, before[0], after[0], strict=True):
        inside = [r for r in lane.records if t0 <= r[0] < t1]
        detect_s += sum(r[2] for r in inside)
        track_s += sum(r[3] for r in inside)
        streams.append(
            StreamResult(len(inside), read1 - read0, late1 - late0, [r[1] for r in inside])
        )
    ticks0, ticks1 = before[1], after[1]
    spent = {tid: (ticks1[tid] - ticks0.get(tid, 0)) / CLK_TCK for tid in ticks1}
    analysis = {lane.tid for lane in lanes}
    main = threading.get_native_id()
    pool_s = sum(s for tid, s in spent.items() if tid in detect_pool)
    record_s = sum(s for tid, s in spent.items() if tid in record_tids)
    # Everything started with the streams but analysis and recording: readers and FFmpeg's.
    decode_s = sum(
        s
        for tid, s in spent.items()
        if tid not in detect_pool | analysis | record_tids and tid != main
    )
    return WorkerResult(
        streams, decode_s, record_s, detect_s + pool_s, track_s, (after[2] - before[2]) / CLK_TCK
    )
