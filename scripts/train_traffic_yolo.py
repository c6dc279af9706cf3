"""Train the shipped traffic detector (Ultralytics YOLO) on the CC BY 4.0 frames in traffic-yolo.

Long on a CPU (2 cores: ~17 min an epoch at 320 px), so it is built to run in the background
across sessions of work and to be stopped at any moment:
- the validation split is a fixed function of each file name (1 in 10 by SHA-1), so every run
  and every machine trains and validates on the same frames;
- after every epoch the full checkpoint (weights, optimiser, epoch) is copied atomically to
  `--checkpoint` (committed, under `models/checkpoints/`), and a new run resumes from the newer
  of that file and the run folder's own `last.pt`;
- nothing is fetched: the model is built from its YAML (no pretrained weights exist offline),
  Ultralytics runs with YOLO_OFFLINE and plots off (plots fetch a font).

signals-roboflow is the test set: it is never read here.

The shipped model is made in two steps (detectors/weights/traffic-yolo11n/MODEL_CARD.md): from
scratch on the labels as exported, then, since those leave most road users unlabelled, fine-tuned
from that checkpoint on the labels completed by `scripts/complete_traffic_labels.py`:

    .venv/bin/python scripts/train_traffic_yolo.py --epochs 40 --imgsz 416        # start or resume
    .venv/bin/python scripts/complete_traffic_labels.py
    .venv/bin/python scripts/train_traffic_yolo.py --data runs/traffic-labels --epochs 10 \
        --init models/checkpoints/traffic-yolo11n.pt --work runs/traffic-yolo-completed \
        --checkpoint models/checkpoints/traffic-yolo11n-completed.pt            # start or resume
    .venv/bin/python scripts/train_traffic_yolo.py --device 0 --batch 64 --workers 12  # on a GPU
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "traffic-yolo" / "train"
CLASSES = ("car", "green_light", "motobike", "red_light", "stop_line", "yellow_light")
VAL_EVERY = 10


def is_validation(name: str) -> bool:
    return int(hashlib.sha1(name.encode()).hexdigest(), 16) % VAL_EVERY == 0


def write_dataset(data: Path, work: Path) -> Path:
    """Ultralytics dataset YAML over image lists; labels sit beside images as `labels/`."""
    images = sorted((data / "images").glob("*.jpg"))
    if not images:
        raise SystemExit(f"no images under {data / 'images'}")
    work.mkdir(parents=True, exist_ok=True)
    splits: dict[str, list[str]] = {"train": [], "val": []}
    for image in images:
        splits["val" if is_validation(image.name) else "train"].append(str(image.resolve()))
    for split, paths in splits.items():
        (work / f"{split}.txt").write_text("\n".join(paths) + "\n")
    names = "\n".join(f"  {i}: {name}" for i, name in enumerate(CLASSES))
    yaml_path = work / "traffic.yaml"
    yaml_path.write_text(
        f"path: {work.resolve()}\ntrain: train.txt\nval: val.txt\nnames:\n{names}\n"
    )
    print(f"split: {len(splits['train'])} train, {len(splits['val'])} validation frames")
    return yaml_path


def newest_checkpoint(run_last: Path, committed: Path) -> Path | None:
    """The checkpoint with the most epochs done, by the epoch stored in it."""
    import torch

    best: tuple[int, Path] | None = None
    for path in (run_last, committed):
        if path.is_file():
            epoch = int(torch.load(path, map_location="cpu", weights_only=False).get("epoch", -1))
            if best is None or epoch > best[0]:
                best = (epoch, path)
    return None if best is None else best[1]


def copy_atomically(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
        shutil.copyfile(source, tmp.name)
    os.replace(tmp.name, target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--work", type=Path, default=ROOT / "runs" / "traffic-yolo")
    parser.add_argument(
        "--checkpoint", type=Path, default=ROOT / "models" / "checkpoints" / "traffic-yolo11n.pt"
    )
    parser.add_argument("--model", default="yolo11n.yaml")
    parser.add_argument(
        "--init", type=Path, help="start from these weights (fine-tune) instead of --model"
    )
    parser.add_argument("--imgsz", type=int, default=416)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    config_dir = args.work / "ultralytics-config"
    config_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_AUTOINSTALL", "False")
    os.environ.setdefault("YOLO_CONFIG_DIR", str(config_dir))
    from detectors.torch_compat import import_torchvision

    import_torchvision()  # validation runs NMS through torchvision
    from ultralytics import YOLO

    dataset = write_dataset(args.data, args.work)
    run = args.work / "run"
    run_last = run / "weights" / "last.pt"
    resume = newest_checkpoint(run_last, args.checkpoint)

    def keep(trainer: object) -> None:
        last = Path(trainer.last)  # type: ignore[attr-defined]
        if last.is_file():
            copy_atomically(last, args.checkpoint)
            print(f"checkpoint: epoch {trainer.epoch + 1} -> {args.checkpoint}")  # type: ignore[attr-defined]

    if resume is not None:
        if resume != run_last:
            copy_atomically(resume, run_last)
        print(f"resuming from {resume}")
        model = YOLO(str(run_last))
        model.add_callback("on_fit_epoch_end", keep)
        model.train(resume=True, device=args.device, workers=args.workers, plots=False)
    else:
        model = YOLO(str(args.init) if args.init else args.model)
        model.add_callback("on_fit_epoch_end", keep)
        fine_tune = {"warmup_epochs": 1, "close_mosaic": 3} if args.init else {}
        model.train(
            data=str(dataset),
            epochs=args.epochs,
            imgsz=args.imgsz,
            batch=args.batch,
            workers=args.workers,
            device=args.device,
            project=str(args.work),
            name="run",
            exist_ok=True,
            pretrained=bool(args.init),
            plots=False,
            seed=0,
            deterministic=False,
            patience=0,
            **fine_tune,
        )


if __name__ == "__main__":
    main()
