"""Object detector accuracy on the signals test set: AP50 per road-user class, and speed.

Frames: the 253 CCTV frames of ../shared/data/signals-roboflow (Vietnamese intersections, day
and night; never trained on), labelled car and motobike (the bike and its rider in one box)
among others. Models: the packaged SSD-MobileNet-v2, the packaged traffic YOLO, and each
`--yolo` export given (e.g. a traffic-yolo checkpoint exported with Ultralytics). Every model
runs with OpenVINO on one thread at f32, so ms/frame compares models, not machines.
- AP50: area under the precision-recall curve (all points), a detection matching a labelled
  box of its class at IoU >= 0.5, each label matched once; scores down to 0.05 count;
- P / R: precision and recall at the model's own score threshold (`--score`);
- car: the label's car against stopline's car (SSD's bus and truck boxes also count as car,
  since the labels have no bus or truck class); motorcycle: the label's motobike. COCO's
  motorcycle box covers the bike alone, so the SSD cannot score there; the row says so.
Parked cars are often unlabelled, so precision is a lower bound.
"""

from __future__ import annotations

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
from detectors.label_maps import read_yolo_labels
from detectors.objects import Detection, DetectorSpec, make_detector
from pipeline.geometry import iou

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "signals-roboflow"
LABELS = {0: "car", 2: "motorcycle"}
"""signals-roboflow class ids and the stopline class each one is judged as."""
AS_CAR = {"car", "bus", "truck"}
MIN_SCORE = 0.05


@dataclass
class ClassScore:
    truths: int = 0
    found: list[tuple[float, bool]] = field(default_factory=list)
    """(score, matched a label) per detection, over all frames."""

    def ap50(self) -> float:
        if not self.truths or not self.found:
            return 0.0
        hits = np.array([hit for _, hit in sorted(self.found, key=lambda f: -f[0])])
        tp = np.cumsum(hits)
        recall = tp / self.truths
        precision = tp / np.arange(1, len(hits) + 1)
        # All-point interpolation: precision made non-increasing from the right.
        precision = np.maximum.accumulate(precision[::-1])[::-1]
        steps = np.diff(np.concatenate([[0.0], recall]))
        return float((steps * precision).sum())

    def at(self, threshold: float) -> tuple[float, float]:
        kept = [hit for score, hit in self.found if score >= threshold]
        tp = sum(kept)
        return (tp / len(kept) if kept else 1.0), (tp / self.truths if self.truths else 0.0)


def truth_boxes(label: Path, width: int, height: int) -> dict[str, list[tuple[float, ...]]]:
    boxes: dict[str, list[tuple[float, ...]]] = {name: [] for name in LABELS.values()}
    for class_id, box in read_yolo_labels(label, width, height):
        if class_id in LABELS:
            boxes[LABELS[class_id]].append(box)
    return boxes


def score_frame(
    found: Sequence[Detection],
    truths: dict[str, list[tuple[float, ...]]],
    scores: dict[str, ClassScore],
) -> None:
    for name, boxes in truths.items():
        scores[name].truths += len(boxes)
        mine = sorted(
            (
                d
                for d in found
                if (d.class_name in AS_CAR if name == "car" else d.class_name == name)
            ),
            key=lambda d: -d.score,
        )
        taken = [False] * len(boxes)
        for d in mine:
            overlaps = [0.0 if taken[i] else iou(d.box, box) for i, box in enumerate(boxes)]
            best = int(np.argmax(overlaps)) if overlaps else -1
            hit = best >= 0 and overlaps[best] >= 0.5
            if hit:
                taken[best] = True
            scores[name].found.append((d.score, hit))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argument_parser("benchmarks.detector_accuracy", __doc__)
    parser.add_argument(
        "--yolo", type=Path, action="append", default=[], help="YOLO export (OpenVINO or ONNX)"
    )
    parser.add_argument("--score", type=float, default=0.4, help="threshold for P and R")
    args = parser.parse_args(argv)
    frames = sorted((DATA / "images").glob("*.jpg"))
    if not frames:
        raise SystemExit(f"no frames under {DATA / 'images'}")
    one_thread = {"openvino_threads": 1, "openvino_precision": "f32", "score_threshold": MIN_SCORE}
    shipped = [DetectorSpec(**one_thread), DetectorSpec(backend="yolo-openvino", **one_thread)]
    specs = shipped + [
        DetectorSpec(
            backend="yolo-onnxruntime" if path.suffix == ".onnx" else "yolo-openvino",
            model_path=path,
            **one_thread,
        )
        for path in args.yolo
    ]

    def body() -> None:
        rows = []
        with progress_bar() as progress:
            for spec in specs:
                detector = make_detector(spec)
                scores = {name: ClassScore() for name in LABELS.values()}
                spent = 0.0
                for path in tracked(progress, frames, detector.name):
                    image = cv2.imread(str(path))
                    started = time.perf_counter()
                    found = detector.detect(image)
                    spent += time.perf_counter() - started
                    label = DATA / "labels" / f"{path.stem}.txt"
                    score_frame(found, truth_boxes(label, image.shape[1], image.shape[0]), scores)
                for name, score in scores.items():
                    precision, recall = score.at(args.score)
                    rows.append(
                        [
                            detector.name,
                            name,
                            str(score.truths),
                            num(score.ap50(), 3),
                            num(precision, 2),
                            num(recall, 2),
                            num(1000 * spent / len(frames)),
                        ]
                    )
        print_table(
            f"detectors on signals-roboflow ({len(frames)} frames; P, R at score {args.score})",
            ("model", "class", "labels", "AP50", "P", "R", "ms/frame"),
            rows,
            label_columns=2,
        )

    run_benchmark(body)


if __name__ == "__main__":
    main()
