"""The camera set-up a case was decided under, and its lines in the recorded frame's pixels.

The detect stage records the set-up in each signed manifest (`camera_setup`), so a line moved
since is never drawn over an old case; only evidence older than that record falls back on the
configuration of today, and says so. The geometry is in analysed-frame pixels and is scaled to
the recorded frame here once, for the court report (Pillow) and the console (SVG) alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pipeline.config import Geometry
from pipeline.geometry import XY

LineKind = Literal["stop", "entry", "crosswalk"]


@dataclass(frozen=True)
class Setup:
    record: dict[str, Any]
    origin: str


@dataclass(frozen=True)
class DrawnLine:
    kind: LineKind
    id: str
    points: list[XY]
    """In recorded-frame pixels; a crosswalk's polygon is closed by the drawer."""


def camera_setup(today: dict[str, Any] | None, facts: dict[str, Any]) -> Setup | None:
    """The recorded set-up when the manifest has one, else today's (`CameraConfig.setup_record`)."""
    recorded = facts.get("camera_setup")
    if recorded is not None:
        same = "the same as" if recorded == today else "different from"
        origin = f"recorded in the signed manifest with the evidence; {same} today's configuration"
        return Setup(recorded, origin if today is not None else origin.split(";")[0])
    if today is None:
        return None
    return Setup(today, "today's configuration: this evidence predates recording the set-up")


def frame_size(facts: dict[str, Any], fallback: tuple[int, int]) -> tuple[int, int]:
    width, height = facts.get("frame_size") or fallback
    return int(width), int(height)


def drawn_lines(
    setup: Setup | None,
    facts: dict[str, Any],
    fallback_size: tuple[int, int],
    kinds: tuple[LineKind, ...] = ("stop", "entry"),
) -> list[DrawnLine]:
    """The set-up's lines of `kinds`, scaled from analysed-frame to recorded-frame pixels."""
    if setup is None:
        return []
    width, height = frame_size(facts, fallback_size)
    aw, ah = facts.get("analysis_frame_size") or (width, height)
    sx, sy = width / aw, height / ah
    geometry = Geometry.model_validate(setup.record["geometry"])
    shapes: dict[LineKind, list[tuple[str, list[list[float]]]]] = {
        "stop": [(line.id, line.points) for line in geometry.stop_lines],
        "entry": [(line.id, line.points) for line in geometry.entry_lines],
        "crosswalk": [(zone.id, zone.polygon) for zone in geometry.crosswalks],
    }
    return [
        DrawnLine(kind, name, [(x * sx, y * sy) for x, y in points])
        for kind in kinds
        for name, points in shapes[kind]
    ]
