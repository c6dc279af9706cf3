"""`stopline camera`: set up a camera (see what the detect stage sees, calibrate signal heads)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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

app = typer.Typer(help="Set up cameras.", no_args_is_help=True)


@app.command("calibrate-signal")
def camera_calibrate_signal(
    config: ConfigOption,
    camera: Annotated[
        str | None, typer.Option(help="Camera to calibrate; needed if there are several")
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="Another recording or URL of this camera to learn from")
    ] = None,
    seconds: Annotated[
        float, typer.Option(min=1, help="Stream seconds to read: at least one whole cycle")
    ] = 180.0,
) -> None:
    """Find where each signal head's lamps are from the camera's own frames, so the heads are
    read by which lamp is lit rather than by hue. Prints the evidence and the signal_heads
    YAML to paste into the camera's geometry; exits 1 when a head got no lamp."""
    from stopline.signal_calibration import calibrate_camera

    cfg = read_config(config)
    chosen = camera_of(cfg, config, camera)
    if source is not None:
        chosen = chosen.model_copy(update={"source": source})
    with plain_errors():
        result = calibrate_camera(chosen, Path.cwd(), seconds)
    plain = {"markup": False, "highlight": False, "soft_wrap": True}
    out.print(f"# {result.frames} frames, {result.seconds:.1f} s of {chosen.source}", **plain)
    for head in result.heads:
        for fit in head.fits:
            lamp, off = fit.lamp, "never seen" if fit.off_value is None else f"{fit.off_value:.0f}"
            votes = ", ".join(f"{c} {n}" for c, n in fit.hue_votes.items() if n)
            out.print(
                f"# {head.head.id}: {lamp.colour} at {list(lamp.centre_px)} r {lamp.radius_px}, "
                f"lit in {fit.lit_frames} frames (hue: {votes}); brightness lit "
                f"{fit.on_value:.0f}, off {off}, threshold {lamp.lit_value}",
                **plain,
            )
        for warning in head.warnings:
            err.print(f"warning: {warning}", **plain)
    out.print(result.yaml(), end="", **plain)
    if any(not head.fits for head in result.heads):
        raise typer.Exit(1)


@app.command("check")
def camera_check(
    config: ConfigOption,
    camera: Annotated[
        str | None, typer.Option(help="Camera to check; needed if there are several")
    ] = None,
    at: Annotated[
        list[float] | None,
        typer.Option("--at", help="Stream time in seconds to draw (repeat for several); 0 if none"),
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="Another recording or URL of this camera to check on")
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the PNGs")] = Path(
        "camera-check"
    ),
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each stage")] = False,
) -> None:
    """Draw what the detect stage sees on the camera's frames: lines, zones, signal heads and
    the phase they read, detections and road users. One PNG per --at time."""
    from stopline.camera_check import check_camera

    setup_logging(verbose)
    cfg = read_config(config)
    chosen = camera_of(cfg, config, camera)
    if source is not None:
        chosen = chosen.model_copy(update={"source": source})
    with plain_errors():
        result = check_camera(cfg, chosen, at or [0.0], out_dir, Path.cwd())
    for shot in result.shots:
        phases = ", ".join(f"{a} {p}" for a, p in shot.phases.items()) or "no approach"
        out.print(
            f"{shot.path}  t={shot.t_s:.2f} s  {phases}; {shot.detections} detection(s), "
            f"{shot.dropped} dropped, {shot.road_users} road user(s)",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    for event in result.events:
        out.print(
            f"  {event.kind} track {event.track_id} ({event.object_class}) at "
            f"{event.stream_s:.2f} s",
            markup=False,
            highlight=False,
        )
    missed = sorted(set(at or [0.0]))[len(result.shots) :]
    if missed:
        times = ", ".join(f"{t:g}" for t in missed)
        fail(f"{chosen.source}: ended after {result.frames} frames, before {times} s", 1)
