"""The `stopline` command line.

Every failure a user can cause (a bad config, a missing file, a tampered evidence package) ends
in plain lines and a non-zero exit, never in a Python traceback.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from pipeline.config import ConfigError, StoplineConfig, load_config

app = typer.Typer(
    help="stopline: red-light and jaywalk enforcement, from camera to reviewed citation.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
config_app = typer.Typer(help="Validate deployment config files.", no_args_is_help=True)
evidence_app = typer.Typer(help="Check evidence packages.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(evidence_app, name="evidence")

out = Console()
err = Console(stderr=True)

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="Deployment YAML file")]


def _load(path: Path) -> StoplineConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            err.print(f"{exc.source}: {problem}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def _logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@config_app.command("check")
def config_check(file: Annotated[Path, typer.Argument(help="YAML file to validate")]) -> None:
    """Validate a config file: exit 0 if usable, else one line per problem and exit 2."""
    cfg = _load(file)
    out.print(
        f"{file}: OK ({len(cfg.cameras)} camera(s), {len(cfg.display.screens)} screen(s), "
        f"bus {cfg.bus.kind}, store {cfg.storage.database_url.split(':', 1)[0]})",
        markup=False,
        highlight=False,
    )


@config_app.command("reference")
def config_reference() -> None:
    """Print every config key with its default and description, as a Markdown table."""
    from pipeline.config import reference

    print("| key | default | description |\n|---|---|---|")
    print("\n".join(reference()))


@evidence_app.command("verify")
def evidence_verify(
    path: Annotated[Path, typer.Argument(help="An evidence directory or one manifest file")],
    public_key: Annotated[
        str | None,
        typer.Option(help="Trusted Ed25519 public key (base64 raw); any valid signer if unset"),
    ] = None,
) -> None:
    """Check every manifest's signature and every listed file's SHA-256."""
    from pipeline.evidence import EvidenceStore

    if not path.exists():
        err.print(f"{path}: no such file or directory", markup=False)
        raise typer.Exit(2)
    root = path.parent.parent if path.is_file() else path
    reports = EvidenceStore(root).verify(path if path.is_file() else None, public_key)
    if not reports:
        err.print(f"{path}: no manifests found", markup=False)
        raise typer.Exit(1)
    bad = [r for r in reports if not r.ok]
    for report in bad:
        for problem in report.problems:
            err.print(problem, markup=False, highlight=False, soft_wrap=True)
    files = sum(r.files_checked for r in reports)
    out.print(f"{len(reports) - len(bad)}/{len(reports)} manifest(s) verified, {files} file(s)")
    if bad:
        raise typer.Exit(1)


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for every demo output")] = Path(
        "demo-output"
    ),
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each stage")] = False,
) -> None:
    """Draw the demo intersection and process it end to end, offline."""
    from stopline.demo.run import run_demo

    _logging(verbose)
    run_demo(out_dir, out, _load)


@app.command()
def run(
    config: ConfigOption,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each stage")] = False,
) -> None:
    """Run every stage in this process until the camera sources end (Ctrl-C stops)."""
    from stopline.wiring import Pipeline

    _logging(verbose)
    cfg = _load(config)
    with Pipeline(cfg, base_dir=Path.cwd()) as pipeline:
        summary = pipeline.run_all(progress=out)
    summary.print(out)


@app.command()
def worker(
    stage: Annotated[str, typer.Argument(help="detect, identify or review-policy")],
    config: ConfigOption,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each message")] = False,
) -> None:
    """Run one stage as its own process (normally against Kafka and PostgreSQL)."""
    from stopline.wiring import STAGES, Pipeline

    _logging(verbose)
    if stage not in STAGES:
        err.print(f"unknown stage {stage!r}; expected one of: {', '.join(STAGES)}", markup=False)
        raise typer.Exit(2)
    cfg = _load(config)
    with Pipeline(cfg, base_dir=Path.cwd()) as pipeline:
        pipeline.run_worker(stage)


def main() -> None:
    app()
