"""`stopline review`: serve the police review console."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stopline.commands.common import (
    ConfigOption,
    plain_errors,
    read_config,
    serve_app,
    setup_logging,
)

app = typer.Typer(help="The police review console.", no_args_is_help=True)


@app.command("serve")
def review_serve(
    config: ConfigOption,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each request")] = False,
) -> None:
    """Serve the review console and its JSON API at review.listen_host:listen_port."""
    from stopline.console import console_app

    setup_logging(verbose)
    cfg = read_config(config)
    with plain_errors():
        web = console_app(cfg, Path.cwd())
    review = cfg.review
    pages = [("review console", "/")]
    serve_app(web, review.listen_host, review.listen_port, review.server, verbose, pages)
