"""Complete the traffic-yolo labels with a COCO teacher before training on them.

The Roboflow export labels road users sparsely: 1,847 of its 2,733 frames have no `motobike`
box although most show riders, and cars passing or parked are often unlabelled. Trained on that,
a detector learns that most motorbikes and cars are background: the first model scored well on
the test set (near-copies of training frames) and found no road user on the real clips. So every
frame is looked at by the COCO SSD that stopline ships, over the whole frame and 2x2 and 3x3
overlapping windows (the frames are unsquashed to 16:9 first, as the cameras filmed them):
- a car, bus or truck the labels miss becomes a `car` box;
- a person riding a two-wheeler (`detectors.road_users.ridden_by`) and the two-wheeler become
  one `motobike` box (the class holds the bike and its rider), and so does a riderless
  two-wheeler;
- what stays unsure (a person with no two-wheeler under them: a rider whose bike was missed, or
  a walker; a road user found below `--sure`) is painted grey in the training copy of the frame,
  so the model is taught neither that it is a road user nor that it is background.
The labellers' own boxes are all kept, and nothing is painted over them.

    .venv/bin/python scripts/complete_traffic_labels.py   # -> runs/traffic-labels/{images,labels}
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from detectors.detection import Detection  # noqa: E402
from detectors.label_maps import read_yolo_labels  # noqa: E402
from detectors.road_users import ridden_by  # noqa: E402
from pipeline.geometry import Box, enclosing, intersection  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "traffic-yolo" / "train"
CAR, MOTOBIKE = 0, 2
VEHICLES = frozenset({"car", "bus", "truck"})
TWO_WHEELERS = frozenset({"motorcycle", "bicycle"})
WIDE = (1138, 640)
"""The export stretched 16:9 camera frames to 640x640; the teacher sees them unsquashed."""
MAX_BOX_SHARE = 0.2
"""Teacher boxes over this share of the frame are its known frame-wide false positives."""
GREY = (114, 114, 114)

_detector = None


def _teacher():
    global _detector
    if _detector is None:
        from detectors.objects import ZoomedDetector, make_detector
        from pipeline.config import DetectorSpec

        spec = DetectorSpec(
            backend="ssd-openvino",
            score_threshold=0.2,
            classes=("person", "car", "motorcycle", "bicycle", "bus", "truck"),
            openvino_threads=1,
            openvino_precision="f32",
        )
        width, height = WIDE
        windows = _windows(width, height, 2) + _windows(width, height, 3)
        _detector = ZoomedDetector(make_detector(spec), windows, spec.nms_iou)
    return _detector


def _windows(width: int, height: int, n: int) -> list[tuple[int, int, int, int]]:
    """n x n windows, each 1.4 times an n-th of the frame, so neighbours overlap."""
    w, h = int(width / n * 1.4), int(height / n * 1.4)
    return [
        (round(i * (width - w) / (n - 1)), round(j * (height - h) / (n - 1)), w, h)
        for i in range(n)
        for j in range(n)
    ]


def _covered(box: Box, by: list[Box], share: float) -> bool:
    area = max((box[2] - box[0]) * (box[3] - box[1]), 1e-6)
    return any(intersection(box, other) >= share * area for other in by)


def complete(
    labels: list[tuple[int, Box]], found: list[Detection], sure: float
) -> tuple[list[tuple[int, Box]], list[Box]]:
    """(labels with what the teacher adds, unsure boxes); boxes in 640x640 pixels."""
    road_users = [box for c, box in labels if c in (CAR, MOTOBIKE)]
    frame_area = 640.0 * 640.0
    found = [d for d in found if (d.x2 - d.x1) * (d.y2 - d.y1) <= MAX_BOX_SHARE * frame_area]
    wheels = [d for d in found if d.class_name in TWO_WHEELERS]
    added: list[tuple[int, Box]] = []
    unsure: list[Box] = []
    ridden: set[int] = set()
    for person in (d for d in found if d.class_name == "person"):
        if _covered(person.box, road_users, 0.5):
            continue
        bike = next((i for i, w in enumerate(wheels) if ridden_by(person.box, w.box)), None)
        if bike is None or min(person.score, wheels[bike].score) < sure:
            unsure.append(person.box)
            continue
        ridden.add(bike)
        added.append((MOTOBIKE, enclosing(person.box, wheels[bike].box)))
    for i, wheel in enumerate(wheels):
        if i in ridden or _covered(wheel.box, road_users, 0.5):
            continue
        if wheel.score >= sure:
            added.append((MOTOBIKE, wheel.box))
        else:
            unsure.append(wheel.box)
    for vehicle in (d for d in found if d.class_name in VEHICLES):
        if _covered(vehicle.box, road_users, 0.3):
            continue
        if vehicle.score >= sure:
            added.append((CAR, vehicle.box))
        else:
            unsure.append(vehicle.box)
    return labels + added, unsure


def _one(args: tuple[Path, Path, float]) -> tuple[int, int, int]:
    image_path, out, sure = args
    image = cv2.imread(str(image_path))
    label_path = image_path.parent.parent / "labels" / f"{image_path.stem}.txt"
    labels = read_yolo_labels(label_path, 640, 640)
    sx, sy = WIDE[0] / image.shape[1], WIDE[1] / image.shape[0]
    found = [
        Detection(d.x1 / sx, d.y1 / sy, d.x2 / sx, d.y2 / sy, d.score, d.class_name)
        for d in _teacher().detect(cv2.resize(image, WIDE, interpolation=cv2.INTER_LINEAR))
    ]
    completed, grey = complete(labels, found, sure)
    target = out / "images" / image_path.name
    if grey:
        painted = image.copy()
        for x1, y1, x2, y2 in grey:
            cv2.rectangle(painted, (int(x1), int(y1)), (int(x2), int(y2)), GREY, thickness=-1)
        # A labelled box keeps its pixels where an unsure one overlaps it.
        for _, (x1, y1, x2, y2) in completed:
            xs, ys = slice(max(int(x1), 0), int(x2) + 1), slice(max(int(y1), 0), int(y2) + 1)
            painted[ys, xs] = image[ys, xs]
        image = painted
        cv2.imwrite(str(target), image, [cv2.IMWRITE_JPEG_QUALITY, 95])
    else:
        shutil.copyfile(image_path, target)
    lines = []
    for c, (x1, y1, x2, y2) in completed:
        x1, y1, x2, y2 = max(x1, 0), max(y1, 0), min(x2, 640), min(y2, 640)
        if x2 - x1 >= 2 and y2 - y1 >= 2:
            lines.append(
                f"{c} {(x1 + x2) / 1280:.6f} {(y1 + y2) / 1280:.6f} "
                f"{(x2 - x1) / 640:.6f} {(y2 - y1) / 640:.6f}"
            )
    (out / "labels" / f"{image_path.stem}.txt").write_text("\n".join(lines) + "\n")
    return len(labels), len(completed) - len(labels), len(grey)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "traffic-labels")
    parser.add_argument("--sure", type=float, default=0.5, help="teacher score to add a box")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--limit", type=int, default=0, help="only the first N frames (a look)")
    args = parser.parse_args()
    from tqdm import tqdm

    images = sorted((args.data / "images").glob("*.jpg"))
    if args.limit:
        images = images[: args.limit]
    for sub in ("images", "labels"):
        (args.out / sub).mkdir(parents=True, exist_ok=True)
    totals = np.zeros(3, dtype=int)
    with ProcessPoolExecutor(args.jobs) as pool:
        work = [(image, args.out, args.sure) for image in images]
        for counts in tqdm(pool.map(_one, work, chunksize=8), total=len(work), unit="frame"):
            totals += counts
    print(
        f"{len(images)} frames: {totals[0]} boxes labelled, {totals[1]} added by the teacher, "
        f"{totals[2]} unsure regions painted grey -> {args.out}"
    )


if __name__ == "__main__":
    main()
