"""What every command shares: the consoles, config loading, plain one-line failures, the store."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, Protocol

import typer
from rich.console import Console

from pipeline.config import CameraConfig, ConfigError, ServerLimits, StoplineConfig, load_config

if TYPE_CHECKING:
    from fastapi import FastAPI

    from pipeline.store import Store


out = Console()
err = Console(stderr=True)


ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="Deployment YAML file")]


def read_config(path: Path) -> StoplineConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            err.print(f"{exc.source}: {problem}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def fail(message: str, code: int) -> NoReturn:
    err.print(message, markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def plain_errors() -> Iterator[None]:
    """A source that cannot be read or a model that cannot be loaded is the user's to fix:
    one line, exit 1, no traceback."""
    try:
        yield
    except typer.Exit:
        raise  # already reported (click's Exit is a RuntimeError)
    except (OSError, RuntimeError, ValueError) as exc:
        fail(f"stopline: {exc}", 1)


@contextmanager
def open_store(cfg: StoplineConfig) -> Iterator[Store]:
    """The deployment's store for one command, closed however the command ends."""
    from stopline.deployment import deployment_store

    store = deployment_store(cfg, Path.cwd())
    try:
        yield store
    finally:
        store.close()


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def camera_of(cfg: StoplineConfig, config: Path, camera: str | None) -> CameraConfig:
    """The one camera a command works on: --camera, or the only one."""
    ids = [c.id for c in cfg.cameras]
    if camera is None and len(ids) > 1:
        fail(f"{config}: several cameras; choose one with --camera: {', '.join(ids)}", 2)
    chosen = next((c for c in cfg.cameras if c.id == (camera or ids[0])), None)
    if chosen is None:
        fail(f"{config}: no camera {camera!r}; cameras: {', '.join(ids)}", 2)
    return chosen


class Served(Protocol):
    """A config section of a web server: the console, the kiosk pages, the portal."""

    listen_host: str
    listen_port: int
    server: ServerLimits


def serve_web(
    config: Path,
    verbose: bool,
    build: Callable[[StoplineConfig, Path], FastAPI],
    section: Callable[[StoplineConfig], Served],
    pages: Callable[[StoplineConfig], list[tuple[str, str]]],
) -> None:
    """Build the app from the config (failing in one line), print where each page is, then
    serve until Ctrl-C."""
    import uvicorn

    from stopline.serving import server_config

    setup_logging(verbose)
    cfg = read_config(config)
    with plain_errors():
        web = build(cfg, Path.cwd())
    served = section(cfg)
    host, port = served.listen_host, served.listen_port
    for name, path in pages(cfg):
        out.print(f"{name}: http://{host}:{port}{path}", markup=False, highlight=False)
    level = "info" if verbose else "warning"
    uvicorn.Server(server_config(web, host, port, served.server, level)).run()
