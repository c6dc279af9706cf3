"""`stopline review`: serve the police review console."""

from __future__ import annotations

from typing import Annotated

import typer

from stopline.commands.common import ConfigOption, serve_web

app = typer.Typer(help="The police review console.", no_args_is_help=True)


@app.command("serve")
def review_serve(
    config: ConfigOption,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each request")] = False,
) -> None:
    """Serve the review console and its JSON API at review.listen_host:listen_port."""
    from stopline.console import console_app

    pages = [("review console", "/")]
    serve_web(config, verbose, console_app, lambda cfg: cfg.review, lambda _: pages)
