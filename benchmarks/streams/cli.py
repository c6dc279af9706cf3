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
work each violation adds on top of the streams."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

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
from benchmarks.streams.cameras import camera_clip, sub_clip
from benchmarks.streams.rounds import Round, Setup, run_round, wait_for_quiet
from benchmarks.streams.settings import ANALYSIS_FPS, CAMERA_FPS, COLUMNS, GOP_S
from detectors.objects import DetectorSpec
from pipeline.model_cache import default_cache_dir


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
            "SSD on OpenVINO"
            if m.backend.startswith("ssd")
            else f"{m.backend} {m.model_path or 'traffic-yolo11n (packaged)'}"
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
