"""`stopline models`: export detector models."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from stopline.commands.common import fail, plain_errors

app = typer.Typer(help="Prepare detector models.", no_args_is_help=True)


class ExportFormat(StrEnum):
    onnx = "onnx"
    openvino = "openvino"


@app.command("export")
def models_export(
    model: Annotated[Path, typer.Argument(help="Ultralytics .pt model file")],
    export_format: Annotated[
        ExportFormat, typer.Option("--format", help="onnx, or openvino (IR folder)")
    ],
    imgsz: Annotated[int, typer.Option(help="Square input side in pixels, a multiple of 32")] = 640,
    end_to_end: Annotated[
        bool, typer.Option(help="YOLO26: export the NMS-free head ([1, 300, 6] output)")
    ] = False,
) -> None:
    """Export a YOLO .pt for the yolo-openvino / yolo-onnxruntime backends (needs the
    `ultralytics` extra); prints the exported path to put in `detector.model_path`."""
    from detectors.yolo import export_model

    if not model.is_file():
        fail(f"{model}: no such file", 2)
    if imgsz % 32:
        fail(f"--imgsz {imgsz}: expected a multiple of 32", 2)
    with plain_errors():
        path = export_model(model, export_format.value, input_size_px=imgsz, end_to_end=end_to_end)
    print(path)
