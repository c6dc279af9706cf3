"""Put a traffic YOLO checkpoint into the package: OpenVINO IR, fp16 weights, in
detectors/weights/traffic-yolo11n/ (what `yolo-openvino` with no model_path runs).

fp16 halves the file (about 5 MB) and changes no box: OpenVINO computes in f32 or bf16 on a CPU
whatever the stored precision. The class names stay in the IR (`model_info`), so the label map
needs no list of its own. Update MODEL_CARD.md beside the weights with the measurements.

    .venv/bin/python scripts/ship_traffic_yolo.py models/checkpoints/traffic-yolo11n-completed.pt
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from detectors.detection import opt_out_of_openvino_telemetry  # noqa: E402
from detectors.yolo import TRAFFIC_MODEL, export_model  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path, help="Ultralytics .pt (a training checkpoint)")
    parser.add_argument("--imgsz", type=int, default=416)
    args = parser.parse_args()
    import openvino as ov

    opt_out_of_openvino_telemetry()
    with tempfile.TemporaryDirectory() as scratch:
        pt = Path(scratch) / f"{TRAFFIC_MODEL.stem}.pt"
        shutil.copyfile(args.checkpoint, pt)
        exported = export_model(pt, "openvino", input_size_px=args.imgsz)
        model = ov.Core().read_model(next(exported.glob("*.xml")))
        TRAFFIC_MODEL.parent.mkdir(parents=True, exist_ok=True)
        ov.save_model(model, TRAFFIC_MODEL, compress_to_fp16=True)
    size_mb = TRAFFIC_MODEL.with_suffix(".bin").stat().st_size / 1e6
    print(f"{args.checkpoint} -> {TRAFFIC_MODEL} ({size_mb:.1f} MB weights, {args.imgsz} px)")


if __name__ == "__main__":
    main()
