"""`stopline config`: check a deployment file, print the key reference."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stopline.commands.common import out, read_config

app = typer.Typer(help="Validate deployment config files.", no_args_is_help=True)


@app.command("check")
def config_check(file: Annotated[Path, typer.Argument(help="YAML file to validate")]) -> None:
    """Validate a config file: exit 0 if usable, else one line per problem and exit 2."""
    cfg = read_config(file)
    out.print(
        f"{file}: OK ({len(cfg.cameras)} camera(s), {len(cfg.display.screens)} screen(s), "
        f"bus {cfg.bus.kind}, store {cfg.storage.database_url.split(':', 1)[0]})",
        markup=False,
        highlight=False,
    )


@app.command("reference")
def config_reference() -> None:
    """Print every config key with its default and description, as a Markdown table."""
    from pipeline.config import reference

    print("| key | default | description |\n|---|---|---|")
    print("\n".join(reference()))
