"""`stopline plates`: read licence plates from images."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from stopline.commands.common import out, plain_errors, read_config

app = typer.Typer(help="Read licence plates.", no_args_is_help=True)


class PlateRegion(StrEnum):
    cn = "cn"
    eu = "eu"
    us = "us"
    br = "br"
    auto = "auto"


@app.command("read")
def plates_read(
    images: Annotated[list[Path], typer.Argument(help="Photos or vehicle crops")],
    region: Annotated[
        PlateRegion | None, typer.Option(help="Plate formats; default: the config's (auto)")
    ] = None,
    json_lines: Annotated[
        bool, typer.Option("--json", help="One JSON line per image: {image, plates}")
    ] = False,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Deployment YAML (plates settings)")
    ] = None,
) -> None:
    """Read the plates in each image, most confident first."""
    import json

    from pipeline.config import PlatesConfig
    from pipeline.images import read_image
    from stopline.deployment import plate_reader

    settings = read_config(config).identification.plates if config else PlatesConfig()
    with plain_errors():
        reader = plate_reader(settings)
        for path in images:
            reads = reader.read(read_image(path), region.value if region else None)
            if json_lines:
                plates = [
                    {"text": r.text, "confidence": round(r.confidence, 4), "box": list(r.box)}
                    for r in reads
                ]
                print(json.dumps({"image": str(path), "plates": plates}, ensure_ascii=False))
            else:
                found = ", ".join(f"{r.text} ({r.confidence:.2f})" for r in reads)
                out.print(f"{path}: {found or 'no plate'}", markup=False, highlight=False)
