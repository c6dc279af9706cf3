"""The `stopline` command line.

Every failure a user can cause (a bad config, a missing file, a tampered evidence package) ends
in plain lines and a non-zero exit, never in a Python traceback. Each command group lives in
its own module under `stopline.commands`.
"""

from __future__ import annotations

import typer

from stopline.commands import (
    audit,
    camera,
    config,
    display,
    evidence,
    faces,
    models,
    plates,
    portal,
    registry,
    retention,
    review,
    running,
    users,
)

app = typer.Typer(
    help="stopline: red-light and jaywalk enforcement, from camera to reviewed citation.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
for command in (running.demo, running.run, running.worker, running.detect):
    app.command()(command)
for name, group in (
    ("config", config.app),
    ("evidence", evidence.app),
    ("audit", audit.app),
    ("models", models.app),
    ("plates", plates.app),
    ("registry", registry.app),
    ("users", users.app),
    ("faces", faces.app),
    ("retention", retention.app),
    ("camera", camera.app),
    ("review", review.app),
    ("portal", portal.app),
    ("billboard", display.billboard_app),
    ("display", display.display_app),
):
    app.add_typer(group, name=name)


def main() -> None:
    app()
