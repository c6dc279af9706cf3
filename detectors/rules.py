"""Violation rules as pure functions over a track, the geometry and the signal phase.

Pure so that every citation can be re-derived from the stored track and signal timeline, and so
each safeguard (grace period, second line, amber check, unknown phase) is testable on its own.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from detectors.signals import PhaseState
from pipeline.config import EntryLine, RedLightRule, StopLine

Box = tuple[float, float, float, float]
XY = tuple[float, float]

_DIRECTION: dict[str, XY] = {"up": (0, -1), "down": (0, 1), "left": (-1, 0), "right": (1, 0)}


@dataclass(frozen=True)
class TrackPoint:
    t: float
    """Capture time in seconds on the stream clock."""
    box: Box
    """x1, y1, x2, y2 in pixels."""


@dataclass(frozen=True)
class RedLightFinding:
    stop_line_id: str
    crossed_stop_s: float
    crossed_entry_s: float
    phase: PhaseState
    time_into_red_s: float
    speed_px_s: float


@dataclass(frozen=True)
class Suppressed:
    """A crossing on red that was deliberately not cited, with why (logged for audit)."""

    stop_line_id: str
    crossed_stop_s: float
    reason: str


def leading_point(box: Box, direction: str) -> XY:
    """The front of the object in its direction of travel (e.g. the bumper for `up`)."""
    x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    return {"up": (cx, y1), "down": (cx, y2), "left": (x1, cy), "right": (x2, cy)}[direction]


def _cross(o: XY, a: XY, b: XY) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def segment_crossing(p: XY, q: XY, line: Sequence[XY]) -> float | None:
    """Fraction along p->q where it crosses the line segment, or None if it does not."""
    a, b = line
    d1, d2 = _cross(a, b, p), _cross(a, b, q)
    same_side = d1 != 0 and d2 != 0 and (d1 > 0) == (d2 > 0)
    if d1 == d2 or same_side:
        return None
    frac = d1 / (d1 - d2)
    x = p[0] + frac * (q[0] - p[0])
    y = p[1] + frac * (q[1] - p[1])
    lo_x, hi_x = sorted((a[0], b[0]))
    lo_y, hi_y = sorted((a[1], b[1]))
    eps = 1e-6
    if lo_x - eps <= x <= hi_x + eps and lo_y - eps <= y <= hi_y + eps:
        return frac
    return None


def first_crossing(
    track: Sequence[TrackPoint], line: Sequence[XY], direction: str, after_s: float = float("-inf")
) -> float | None:
    """Interpolated time the leading point first crosses `line` moving in `direction`."""
    dx, dy = _DIRECTION[direction]
    for prev, cur in itertools.pairwise(track):
        if cur.t <= after_s:
            continue
        p, q = leading_point(prev.box, direction), leading_point(cur.box, direction)
        if (q[0] - p[0]) * dx + (q[1] - p[1]) * dy <= 0:
            continue
        frac = segment_crossing(p, q, line)
        if frac is not None:
            return prev.t + frac * (cur.t - prev.t)
    return None


def speed_px_s(track: Sequence[TrackPoint], around_s: float, window_s: float = 1.0) -> float:
    """Mean speed of the box centre over a window around a time."""
    pts = [tp for tp in track if abs(tp.t - around_s) <= window_s / 2] or list(track[-2:])
    if len(pts) < 2 or pts[-1].t == pts[0].t:
        return 0.0
    (ax1, ay1, ax2, ay2), (bx1, by1, bx2, by2) = pts[0].box, pts[-1].box
    dist = (((bx1 + bx2) - (ax1 + ax2)) ** 2 + ((by1 + by2) - (ay1 + ay2)) ** 2) ** 0.5 / 2
    return dist / (pts[-1].t - pts[0].t)


def red_light(
    track: Sequence[TrackPoint],
    stop_line: StopLine,
    entry_line: EntryLine,
    phase_at: Callable[[float], PhaseState],
    rule: RedLightRule,
) -> RedLightFinding | Suppressed | None:
    """Cite only a vehicle that crossed the stop line on established red and then entered.

    A car that stops over the line never crosses the entry line; a car that crossed within the
    grace period or after a short amber is not a violator; an unknown phase cites no one.
    """
    crossed = first_crossing(track, stop_line.points, stop_line.direction)
    if crossed is None:
        return None
    phase = phase_at(crossed)
    if phase.phase == "unknown":
        return Suppressed(stop_line.id, crossed, "signal phase unknown")
    if phase.phase != "red":
        return None
    into_red = phase.time_in_phase(crossed)
    if into_red is None:
        return Suppressed(stop_line.id, crossed, "red onset not observed")
    if into_red < rule.grace_s:
        return None
    if phase.amber_s is None or phase.amber_s < rule.min_amber_s:
        return Suppressed(stop_line.id, crossed, f"amber {phase.amber_s} s below minimum")
    entered = first_crossing(track, entry_line.points, stop_line.direction, after_s=crossed)
    if entered is None:
        return None
    speed = speed_px_s(track, crossed)
    if speed < rule.min_speed_px_s:
        return None
    return RedLightFinding(stop_line.id, crossed, entered, phase, into_red, speed)
