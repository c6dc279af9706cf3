"""Concurrent 1080p25 camera streams one machine analyses in real time, and where the CPU goes.

Cameras: one 1080p25 H.264 clip (5 Mbit/s, key frame every 2 s, no B-frames, as IP cameras
send) made once from the real clips y3.mov and y2.mp4 in ../shared/data/video, upscaled and
cached in $XDG_CACHE_HOME/stopline/bench. Each camera is an ffmpeg publishing that clip in a
loop, in real time, to its own RTSP relay on loopback (tests/detectors/rtsp_relay.py); camera
starts are spread over one key-frame interval, as real cameras are not in step.
With --layout dual (the default) each camera also sends the same scene as a 640x360 sub-stream
(about 0.8 Mbit/s, as IP cameras offer one): the sub-stream is analysed and the 1080p main stream
is recorded as compressed packets (`LiveRecording`), decoded only for evidence; with --layout
main the 1080p stream itself is analysed, every frame decoded.
Analysis: per stream a `LiveStream` (analysis_fps 5) -> default detector (SSD-MobileNet-v2 on
OpenVINO, 300 px; or the `detector` section in --detector FILE) -> ByteTrack tracker, on its
own thread; streams are spread over worker processes (--processes). The violation rules are
not run: they are per-track geometry, no measurable cost next to these stages. Each N is
measured for --seconds after a warm-up.
- N, procs: concurrent streams and the worker processes analysing them;
- fps min / med: analysed (detected and tracked) frames per second of the worst / median stream;
- read min: frames per second the slowest stream's reader grabbed (the camera sends 25);
- late %: due frames replaced by a newer one before the analysis took them (too slow), of all
  due frames; frames skipped by the 25 -> 5 fps pacing (80 % of all) are not counted;
- p95 ms: worst stream's p95 age of a frame when its tracks are ready, from its grab (after
  decode) in the reader; network and decoder buffering before the grab are not included;
- behind s: how far the slowest reader fell behind the camera over the window (25 fps x window
  minus frames grabbed, in seconds); a reader that cannot keep up grows a backlog its frame
  timestamps do not show;
- decode, record, detect, track, other: CPU ms per analysed frame, all workers together.
  decode: the analysed stream's reader threads and FFmpeg's decoder threads (demux, decode of
  all 25 frames/s, BGR conversion of due ones); record: the main streams' recording threads
  (demux into the packet ring); detect: resize, inference and box decoding on the stream's thread
  plus OpenVINO's and OpenCV's worker threads; track: ByteTrack and bookkeeping; other: the
  rest of the workers' CPU (Python's main thread, waits; thread CPU is counted in 10 ms ticks);
- stopline, cameras, others, all %: CPU use over the window as % of all cores (100 = every
  core busy): the workers; ffmpeg publishers plus relays (the cameras, not stopline); every
  other process (the machine may be shared: each N waits for a quiet machine first, see
  --quiet-wait, but others may start meanwhile); the machine's total from /proc/stat;
- sustained: fps min >= 4.75 (5 fps, 5 % tolerance), p95 < 1000 ms and behind <= 0.5 s.
N grows until one is not sustained. The last line names the largest sustained N.
With --layout dual a last table times one evidence package made from a recorded main stream
after the last N (decode of 12 s at 1080p, data bar, H.264 encode, key frames and crops), the
work each violation adds on top of the streams.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnProcess
from pathlib import Path

import numpy as np
import yaml

from benchmarks.common import (
    argument_parser,
    num,
    print_table,
    progress_bar,
    run_benchmark,
    stderr,
    tracked,
)
from detectors.evidence import EVIDENCE_WINDOW_S, Case, EvidenceRecorder
from detectors.objects import Detection, Detector, DetectorSpec, default_cache_dir, make_detector
from detectors.recording import KEEP_MARGIN_S, LiveRecording
from detectors.rules import TrackPoint
from detectors.sources import Frame, LiveStream, SourceStats
from detectors.tracking import ByteTrackTracker
from pipeline.evidence import EvidenceStore, load_or_create_key

VIDEOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "video"
CLIPS = ("y3.mov", "y2.mp4")
CAMERA_FPS = 25
ANALYSIS_FPS = 5.0
GOP_S = 2.0
# What makes the clip; part of its cache name, so changing it makes a new clip.
ENCODE = (
    *("-c:v", "libx264", "-preset", "fast", "-profile:v", "main", "-bf", "0"),
    *("-g", str(round(GOP_S * CAMERA_FPS)), "-keyint_min", str(round(GOP_S * CAMERA_FPS))),
    *("-sc_threshold", "0", "-b:v", "5M", "-maxrate", "5M", "-bufsize", "10M"),
)
FILTER = (
    f"[0:v]fps={CAMERA_FPS},scale=1920:1080:flags=bicubic,setsar=1[a];"
    # y2 is 450x360: cropped to 16:9 first, so objects keep their shape.
    f"[1:v]fps={CAMERA_FPS},crop=iw:trunc(iw*9/32)*2,scale=1920:1080:flags=bicubic,setsar=1[b];"
    "[a][b]concat=n=2:v=1:a=0,format=yuv420p[v]"
)
SUB_ENCODE = (
    *ENCODE[: ENCODE.index("-b:v")],
    *("-b:v", "800k", "-maxrate", "800k", "-bufsize", "1600k"),
)
SUB_FILTER = "scale=640:360:flags=area"
TARGET_FPS = ANALYSIS_FPS * 0.95
MAX_P95_S = 1.0
MAX_BEHIND_S = 0.5
READY_TIMEOUT_S = 90.0
CLK_TCK = os.sysconf("SC_CLK_TCK")
COLUMNS = (
    *("N", "procs", "fps min", "fps med", "read min", "late %", "p95 ms", "behind s"),
    *("decode", "record", "detect", "track", "other"),
    *("stopline %", "cameras %", "others %", "all %"),
    "sustained",
)
QUIET_BUSY = 0.15


# ---------------------------------------------------------------- CPU accounting from /proc


def _ticks(stat_path: str) -> int:
    """utime + stime of a process or thread, in clock ticks."""
    text = Path(stat_path).read_text()
    fields = text.rsplit(")", 1)[1].split()  # the name in parentheses may contain spaces
    return int(fields[11]) + int(fields[12])


def _pid_ticks(pid: int) -> int:
    try:
        return _ticks(f"/proc/{pid}/stat")
    except OSError:
        return 0


def _thread_ticks() -> dict[int, int]:
    """Ticks of every thread of this process, by kernel thread id."""
    out = {}
    for task in os.scandir("/proc/self/task"):
        try:
            out[int(task.name)] = _ticks(f"{task.path}/stat")
        except OSError:
            continue  # exited meanwhile
    return out


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) ticks of all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # guest time is already inside user
    return total - idle, total


# ---------------------------------------------------------------- the cameras


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


# ---------------------------------------------------------------- the analysis workers


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


# ---------------------------------------------------------------- one N


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


# ---------------------------------------------------------------- main


def _counts(text: str) -> list[int]:
    values = sorted({int(v) for v in text.split(",") if v.strip()})
    if not values or values[0] < 1:
        raise ValueError(f"stream counts must be at least 1: {text!r}")
    return values


def main(argv: Sequence[str] | None = None) -> None:
    parser = argument_parser("benchmarks.streams", __doc__)
    parser.add_argument(
        "--streams", type=_counts, default=[1, 2, 4, 6, 8, 10, 12], help="N values, e.g. 1,2,4,8"
    )
    parser.add_argument("--seconds", type=float, default=30.0, help="measured window per N")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds before the window")
    parser.add_argument(
        "--processes",
        type=int,
        default=0,
        help="worker processes per N, streams spread over them; 0: one per stream (default)",
    )
    parser.add_argument(
        "--all", action="store_true", help="measure every N, also after one is not sustained"
    )
    parser.add_argument(
        "--openvino-threads",
        type=int,
        default=0,
        help=(
            "DetectorSpec.openvino_threads: CPU threads per inference (0: unset, OpenVINO's "
            "LATENCY hint uses one thread per core)"
        ),
    )
    parser.add_argument(
        "--detector",
        type=Path,
        help="YAML of a `detector` section to run instead of the default SSD (e.g. a YOLO)",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=60.0,
        help="before each N, wait up to this many seconds for CPUs < 15 %% busy for 3 s",
    )
    parser.add_argument(
        "--capture-options",
        default=None,
        help=(
            "OPENCV_FFMPEG_CAPTURE_OPTIONS for the workers (key;value|key;value), e.g. "
            "'rtsp_transport;tcp|avdiscard;nonref'; replaces OpenCV's default rtsp_transport;tcp"
        ),
    )
    parser.add_argument(
        "--layout",
        choices=("dual", "main"),
        default="dual",
        help=(
            "dual: analyse a 640x360 sub-stream, record the 1080p main stream (default); "
            "main: analyse the 1080p stream itself"
        ),
    )
    args = parser.parse_args(argv)

    def body() -> None:
        if args.capture_options is not None:
            # Read by OpenCV in the workers when they open a stream.
            os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = args.capture_options
        clip = camera_clip(default_cache_dir() / "bench")
        sub = sub_clip(clip) if args.layout == "dual" else None
        spec = (
            DetectorSpec.model_validate(yaml.safe_load(args.detector.read_text()))
            if args.detector
            else DetectorSpec()
        )
        if args.openvino_threads:
            spec = spec.model_copy(update={"openvino_threads": args.openvino_threads})
        setup = Setup(args.warmup, args.seconds, args.processes, spec, sub, sub is not None)
        rounds: list[Round] = []
        with progress_bar() as bar:
            for streams in tracked(bar, args.streams, "stream counts"):
                wait_for_quiet(args.quiet_wait)
                rounds.append(run_round(clip, streams, setup))
                stderr.print(f"N={streams}: {' '.join(rounds[-1].row())}")
                if not rounds[-1].sustained and not args.all:
                    break
        best = max((r.streams for r in rounds if r.sustained), default=0)
        models = [spec, *spec.also]
        model = " + ".join(
            "SSD on OpenVINO" if m.backend.startswith("ssd") else f"{m.backend} {m.model_path}"
            for m in models
        )
        layout = (
            f"640x360 sub-stream {sub.name} (0.8 Mbit/s) analysed, 1080p main stream recorded"
            if sub is not None
            else "the 1080p stream analysed"
        )
        notes = [
            f"cameras: {clip.name}, 1920x1080, {CAMERA_FPS} fps H.264 5 Mbit/s, key frame every "
            f"{GOP_S:g} s, over RTSP/TCP on loopback; analysis {ANALYSIS_FPS:g} fps per stream",
            f"layout {args.layout}: {layout}",
            f"window {args.seconds:g} s after {args.warmup:g} s warm-up; CPU ms are per analysed "
            "frame, % of all cores",
            "capture options: "
            + os.environ.get("OPENCV_FFMPEG_CAPTURE_OPTIONS", "OpenCV default (rtsp_transport;tcp)")
            + "; OpenVINO inference threads per detector: "
            + (str(spec.openvino_threads) if spec.openvino_threads else "detector default"),
        ]
        print_table(
            f"Concurrent 1080p25 cameras: {model} + ByteTrack at 5 fps each",
            COLUMNS,
            [r.row() for r in rounds],
            label_columns=0,
            notes=notes,
        )
        packaged = [(r.streams, w.evidence) for r in rounds for w in r.results if w.evidence]
        if packaged:
            print_table(
                "One evidence package from a recorded 1080p main stream",
                ("after N", "CPU s", "wall s", "frames", "frame size", "clip MB"),
                [
                    [
                        str(n),
                        num(e.cpu_s, 2),
                        num(e.wall_s, 2),
                        str(e.frames),
                        "x".join(map(str, e.frame_size)),
                        num(e.clip_mb, 1),
                    ]
                    for n, e in packaged
                ],
                label_columns=0,
                notes=[
                    "12 s decoded from the packet ring, data bar on every frame, H.264 clip, "
                    "2 key frames, 8 crops; on the evidence thread of one worker after its window"
                ],
            )
        print(f"sustains {best} streams")

    run_benchmark(body)


if __name__ == "__main__":
    main()
