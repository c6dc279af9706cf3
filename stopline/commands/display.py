"""`stopline billboard` and `stopline display`: render billboard frames, serve the kiosk pages."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.config import StoplineConfig
from stopline.commands.common import (
    ConfigOption,
    fail,
    open_store,
    out,
    plain_errors,
    read_config,
    serve_web,
)

billboard_app = typer.Typer(help="LED billboards at the crossings.", no_args_is_help=True)
display_app = typer.Typer(help="The billboards' kiosk pages.", no_args_is_help=True)


@billboard_app.command("render")
def billboard_render(
    config: ConfigOption,
    citation: Annotated[str, typer.Option("--citation", help="Citation id (approved)")],
    screen: Annotated[str, typer.Option("--screen", help="Screen id from display.screens")],
    out_file: Annotated[Path, typer.Option("--out", help="PNG file to write")],
) -> None:
    """Render one approved citation as a screen would show it, to check a layout by eye.

    A citation that is not approved (or was appealed or dismissed) is refused, exit 1.
    """
    from display.render import png
    from display.slide import NotShowable
    from pipeline.evidence import EvidenceStore
    from stopline.deployment import make_billboards

    cfg = read_config(config)
    with plain_errors(), open_store(cfg) as store:
        evidence = EvidenceStore(Path.cwd() / cfg.storage.evidence_dir)
        billboards = make_billboards(cfg, store, evidence)
        try:
            image = billboards.render_citation(citation, screen)
        except (NotShowable, KeyError) as exc:
            fail(f"stopline: {exc.args[0]}", 1)
        out_file.write_bytes(png(image))
    out.print(f"{out_file}: {image.width}x{image.height}", markup=False, highlight=False)


@display_app.command("serve")
def display_serve(
    config: ConfigOption,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each request")] = False,
) -> None:
    """Serve the kiosk pages /billboard/<screen_id> at display.listen_host:listen_port."""
    from stopline.billboard import kiosk_app

    def pages(cfg: StoplineConfig) -> list[tuple[str, str]]:
        return [(f"billboard {s.id}", f"/billboard/{s.id}") for s in cfg.display.screens]

    serve_web(config, verbose, kiosk_app, lambda cfg: cfg.display, pages)
