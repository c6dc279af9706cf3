"""The commands that run the pipeline: `demo`, `run`, `worker`, `detect`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from pipeline.events import ViolationDetected
from stopline.commands.common import (
    ConfigOption,
    camera_of,
    err,
    fail,
    out,
    plain_errors,
    read_config,
    setup_logging,
)


def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for every demo output")] = Path(
        "demo-output"
    ),
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each stage")] = False,
) -> None:
    """Compose the demo intersection from packaged photos and run every stage on it, offline."""
    from stopline.demo.run import run_demo

    setup_logging(verbose)
    run_demo(out_dir, out, read_config)


def run(
    config: ConfigOption,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each stage")] = False,
) -> None:
    """Run every stage in this process until the camera sources end (Ctrl-C stops)."""
    from stopline.wiring import Pipeline, stop_on_signals

    setup_logging(verbose)
    cfg = read_config(config)
    with plain_errors(), Pipeline(cfg, base_dir=Path.cwd()) as pipeline:
        summary = pipeline.run_all(progress=out, stop=stop_on_signals())
    summary.print(out)


def worker(
    stage: Annotated[
        str, typer.Argument(help="detect, identify, review-policy, relay, notify or display")
    ],
    config: ConfigOption,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each message")] = False,
) -> None:
    """Run one stage as its own process (normally against Kafka and PostgreSQL)."""
    from stopline.wiring import STAGES, Pipeline, stop_on_signals

    setup_logging(verbose)
    if stage not in STAGES:
        fail(f"unknown stage {stage!r}; expected one of: {', '.join(STAGES)}", 2)
    cfg = read_config(config)
    with plain_errors(), Pipeline(cfg, base_dir=Path.cwd()) as pipeline:
        pipeline.run_worker(stage, stop_on_signals())


def detect(
    source: Annotated[
        str, typer.Argument(help="Video file, image folder, or rtsp:// or http:// URL")
    ],
    config: ConfigOption,
    camera: Annotated[
        str | None,
        typer.Option(help="Camera whose geometry and signals apply; needed if there are several"),
    ] = None,
    json_lines: Annotated[
        bool, typer.Option("--json", help="One ViolationDetected JSON line per violation")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each stage")] = False,
) -> None:
    """Run the detect stage alone on SOURCE: violations to stdout, a summary to stderr.

    Evidence goes to the config's evidence store; nothing is published and no citation is made.
    """
    from stopline.wiring import Pipeline, stop_on_signals

    setup_logging(verbose)
    cfg = read_config(config)
    chosen = camera_of(cfg, config, camera)
    cfg = cfg.model_copy(update={"cameras": [chosen.model_copy(update={"source": source})]})

    def emit(event: ViolationDetected) -> None:
        if json_lines:
            print(event.model_dump_json(), flush=True)
        else:
            signal = event.signal.phase if event.signal else "no signal"
            where = f"  at {event.stream_s:.2f} s" if event.stream_s is not None else ""
            if event.where_px is not None:
                where += f" ({event.where_px[0]:.0f}, {event.where_px[1]:.0f}) px"
            out.print(
                f"{event.occurred_at:%H:%M:%S.%f}"[:-3]
                + f"  {event.kind}  track {event.track_id} ({event.object_class}, {signal}, "
                f"{event.speed_px_s:.0f} px/s){where}  manifest {event.manifest_sha256[:12]}",
                markup=False,
                highlight=False,
            )

    started = time.monotonic()
    with plain_errors(), Pipeline(cfg, base_dir=Path.cwd()) as pipeline:
        (run,) = pipeline.detect_all(stop_on_signals(), publish=emit)
    elapsed = time.monotonic() - started
    source_stats, stage_stats = run.source_stats, run.stage.stats
    err.print(
        f"{source}: {source_stats.analysed} frames analysed in {elapsed:.1f} s "
        f"({source_stats.analysed / max(elapsed, 1e-9):.1f} fps), {source_stats.dropped} dropped, "
        f"{source_stats.corrupt} corrupt; {stage_stats.violations} violation(s), "
        f"{len(stage_stats.suppressed)} suppressed (safeguards); evidence in "
        f"{cfg.storage.evidence_dir}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    for note in stage_stats.suppressed:
        err.print(f"  suppressed: {note}", markup=False, highlight=False, soft_wrap=True)
    if source_stats.incomplete:
        # What was there was analysed and its cases kept; the rest of the recording is missing.
        fail(f"{source}: {source_stats.incomplete}", 1)
