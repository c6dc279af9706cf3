"""`stopline portal`: serve the citizen portal for fined people."""

from __future__ import annotations

from typing import Annotated

import typer

from stopline.commands.common import ConfigOption, serve_web

app = typer.Typer(help="The citizen portal for fined people.", no_args_is_help=True)


@app.command("serve")
def portal_serve(
    config: ConfigOption,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each request")] = False,
) -> None:
    """Serve the portal at portal.listen_host:listen_port: notice number and PIN open a case."""
    from stopline.console import portal_app

    serve_web(config, verbose, portal_app, lambda cfg: cfg.portal, lambda _: [("portal", "/")])
