"""Object detector speed: ms per frame for every backend, in one run, on the same real frames.

Frames: evenly spaced frames of each clip in ../shared/data/video (CCTV, 450x360 to 1280x720).
Models: yolo11n and yolo26n built from Ultralytics' yaml with calibrated random weights (no
package ships COCO YOLO weights; see detectors.models.untrained), one per input size, exported to
ONNX and OpenVINO IR; and the packaged SSD-MobileNet-v2 default at its 300 px.
Each row times `Detector.detect` on a whole frame: letterbox or resize, inference, decode, NMS.
Rows are measured in interleaved rounds, so load from other processes falls on all of them alike.
- mean / p95 ms: over every frame of every round, after warm-up frames;
- vs predict: Ultralytics `predict` mean on the same model and size / this row's mean (higher is
  faster); predict runs on the .pt with rect=False, the square input every export has (its
  default rect=True would shrink 16:9 frames to fewer pixels); SSD rows have no predict;
- boxes/frame: mean detections returned, so a fast row is not fast for finding nothing;
- openvino rows use OpenVINO's fastest precision (bf16 on CPUs that have it, as here); the f32
  row shows the cost of identical numbers on every machine.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from benchmarks.common import (
    argument_parser,
    num,
    print_table,
    progress_bar,
    run_benchmark,
    tracked,
)
from detectors.objects import Detector, DetectorSpec, make_detector
from detectors.yolo import export_model
from pipeline.model_cache import default_cache_dir

VIDEOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "video"
COLUMNS = ("model", "size", "backend", "mean ms", "p95 ms", "vs predict", "boxes/frame")
YOLO_MODELS = ("yolo11n", "yolo26n")
CALIBRATION_FRAMES = 6
WARMUP_FRAMES = 3


@dataclass
class Row:
    model: str
    size: int
    backend: str
    detector: Detector
    samples_s: list[float] = field(default_factory=list)
    boxes: list[int] = field(default_factory=list)

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.samples_s) * 1000


def read_frames(per_clip: int) -> list[np.ndarray]:
    """`per_clip` evenly spaced frames of every clip, decoded once, before any timing."""
    clips = sorted(p for p in VIDEOS.iterdir() if p.suffix in {".mp4", ".mov"})
    if not clips:
        raise SystemExit(f"no clips in {VIDEOS} (the shared data folder beside the repository)")
    frames = []
    for clip in clips:
        # Counted, then read in order rather than by seeking: a header's frame count can
        # overstate, and seeking lands on key frames only.
        capture = cv2.VideoCapture(str(clip))
        count = 0
        while capture.grab():
            count += 1
        capture.release()
        wanted = set(np.linspace(0, count - 1, per_clip, dtype=int).tolist())
        capture = cv2.VideoCapture(str(clip))
        for index in range(count):
            if capture.grab() and index in wanted:
                frames.append(capture.retrieve()[1])
        capture.release()
    return frames


def yolo_rows(
    name: str, size: int, frames: Sequence[np.ndarray], folder: Path, cache_dir: Path
) -> list[Row]:
    from detectors.models.untrained import build_untrained_yolo

    folder.mkdir()
    calibration = frames[:: max(1, len(frames) // CALIBRATION_FRAMES)]
    pt = build_untrained_yolo(
        f"{name}.yaml", folder / f"{name}.pt", calibration, input_size_px=size
    )
    onnx = export_model(pt, "onnx", input_size_px=size)
    openvino = export_model(pt, "openvino", input_size_px=size)
    variants: list[tuple[str, dict[str, object]]] = [
        (
            "ultralytics predict",
            {"backend": "ultralytics", "model_path": pt, "input_size_px": size},
        ),
        ("yolo-openvino", {"backend": "yolo-openvino", "model_path": openvino}),
        (
            "yolo-openvino f32",
            {"backend": "yolo-openvino", "model_path": openvino, "openvino_precision": "f32"},
        ),
        ("yolo-onnxruntime", {"backend": "yolo-onnxruntime", "model_path": onnx}),
    ]
    return [
        Row(
            name,
            size,
            label,
            make_detector(DetectorSpec.model_validate(fields), cache_dir=cache_dir),
        )
        for label, fields in variants
    ]


def ssd_rows(cache_dir: Path) -> list[Row]:
    variants: list[tuple[str, dict[str, object]]] = [
        ("ssd-openvino", {}),
        ("ssd-openvino f32", {"openvino_precision": "f32"}),
        ("ssd-opencv", {"backend": "ssd-opencv"}),
    ]
    return [
        Row(
            "ssd_mobilenet_v2",
            300,
            label,
            make_detector(DetectorSpec.model_validate(fields), cache_dir=cache_dir),
        )
        for label, fields in variants
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argument_parser("benchmarks.detector_speed", __doc__)
    parser.add_argument("--frames-per-clip", type=int, default=12, help="frames from each clip")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over all frames")
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[320, 640], help="YOLO input sizes in px"
    )
    parser.add_argument(
        "--cache-dir", type=Path, default=default_cache_dir(), help="converted-model cache"
    )
    args = parser.parse_args(argv)

    def body() -> None:
        frames = read_frames(args.frames_per_clip)
        with tempfile.TemporaryDirectory(prefix="stopline-bench-detectors-") as scratch:
            rows = [
                row
                for name in YOLO_MODELS
                for size in args.sizes
                for row in yolo_rows(
                    name, size, frames, Path(scratch) / f"{name}-{size}", args.cache_dir
                )
            ]
            rows += ssd_rows(args.cache_dir)
            for row in rows:
                for frame in frames[:WARMUP_FRAMES]:
                    row.detector.detect(frame)
            with progress_bar() as bar:
                passes = [(row, r) for r in range(args.rounds) for row in rows]
                for row, _ in tracked(bar, passes, "detecting"):
                    for frame in frames:
                        start = time.perf_counter()
                        found = row.detector.detect(frame)
                        row.samples_s.append(time.perf_counter() - start)
                        row.boxes.append(len(found))
        predict = {(r.model, r.size): r.mean_ms for r in rows if r.backend.startswith("ultra")}
        table = []
        for row in rows:
            reference = predict.get((row.model, row.size))
            table.append(
                [
                    row.model,
                    str(row.size),
                    row.backend,
                    num(row.mean_ms, 2),
                    num(float(np.percentile(row.samples_s, 95)) * 1000, 2),
                    f"{reference / row.mean_ms:.2f}x" if reference else "-",
                    num(statistics.fmean(row.boxes), 1),
                ]
            )
        shapes = sorted({f"{f.shape[1]}x{f.shape[0]}" for f in frames})
        print_table(
            "Object detectors: ms per frame, same frames, one run",
            COLUMNS,
            table,
            label_columns=3,
            notes=[
                f"{len(frames)} frames ({', '.join(shapes)}), {args.rounds} timed passes per row, "
                f"after {WARMUP_FRAMES} warm-up frames; score >= 0.4, NMS IoU 0.5",
                "YOLO weights are calibrated random ones: speed is real, boxes are not",
            ],
        )

    run_benchmark(body)


if __name__ == "__main__":
    main()
