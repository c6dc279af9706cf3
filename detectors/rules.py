"""Violation rules as pure functions over a track, the geometry and the signal phase.

Pure so that every citation can be re-derived from the stored track and signal timeline, and so
each safeguard (grace period, second line, amber check, unknown phase) is testable on its own.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from detectors.signals import PhaseState
from pipeline.config import Crosswalk, EntryLine, JaywalkRule, RedLightRule, StopLine, Zone

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
    """Exact, or a lower bound when `phase.onset_s` is None (red began before it was seen)."""
    speed_px_s: float


@dataclass(frozen=True)
class JaywalkFinding:
    zone_id: str
    entered_s: float
    cited_s: float
    reason: str
    phase: PhaseState | None
    """The pedestrian signal when the crosswalk was entered; None off any crosswalk."""
    distance_px: float
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
        # Red began before the source saw it: only a lower bound of time into red is known and
        # the amber was never measured. Cite only after red held so long that even no amber at
        # all would have left the driver the minimum amber plus the grace period to stop.
        seen_s = None if phase.seen_since_s is None else crossed - phase.seen_since_s
        if seen_s is None or seen_s < rule.grace_s + rule.min_amber_s:
            shown = "never" if seen_s is None else f"only {seen_s:.2f} s"
            return Suppressed(
                stop_line.id, crossed, f"red onset not observed and red seen for {shown}"
            )
        into_red = seen_s
    elif into_red < rule.grace_s:
        return None
    elif phase.amber_s is None or phase.amber_s < rule.min_amber_s:
        return Suppressed(stop_line.id, crossed, f"amber {phase.amber_s} s below minimum")
    entered = first_crossing(track, entry_line.points, stop_line.direction, after_s=crossed)
    if entered is None:
        return None
    speed = speed_px_s(track, crossed)
    if speed < rule.min_speed_px_s:
        return None
    if stop_line.exempt_turns:
        movement = turn_movement(track, crossed, stop_line.direction, rule.turn_decision_px)
        if movement is None:
            return None  # not yet far enough past the line to tell the turn
        if movement in stop_line.exempt_turns:
            return Suppressed(stop_line.id, crossed, f"{movement} turn on red is allowed here")
    return RedLightFinding(stop_line.id, crossed, entered, phase, into_red, speed)


def turn_movement(
    track: Sequence[TrackPoint], after_s: float, direction: str, decision_px: float
) -> str | None:
    """left / right / straight from the heading after `after_s`; None until far enough.

    Image y grows downwards, so a clockwise heading change on screen (positive cross product)
    is a right turn.
    """
    pts = [tp for tp in track if tp.t >= after_s]
    if len(pts) < 2:
        return None
    (ax, ay), (bx, by) = _centre(pts[0].box), _centre(pts[-1].box)
    vx, vy = bx - ax, by - ay
    if math.hypot(vx, vy) < decision_px:
        return None
    dx, dy = _DIRECTION[direction]
    angle = math.degrees(math.atan2(dx * vy - dy * vx, dx * vx + dy * vy))
    if abs(angle) < 30:
        return "straight"
    return "right" if angle > 0 else "left"


def _centre(box: Box) -> XY:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def foot_point(box: Box) -> XY:
    """Where a pedestrian stands: the bottom centre of the box."""
    return (box[0] + box[2]) / 2, box[3]


def inside(point: XY, polygon: Sequence[XY]) -> bool:
    """Even-odd ray casting; points on an edge may fall either way, which is fine at px scale."""
    x, y = point
    result = False
    for (x1, y1), (x2, y2) in zip(polygon, [*polygon[1:], polygon[0]], strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            result = not result
    return result


def jaywalk(
    track: Sequence[TrackPoint],
    carriageways: Sequence[Zone],
    crosswalks: Sequence[Crosswalk],
    phase_at: Callable[[str, float], PhaseState],
    rule: JaywalkRule,
) -> JaywalkFinding | Suppressed | None:
    """Cite a pedestrian who walked onto the road off the crosswalk, or onto it on don't-walk.

    Only a continuous stay of `dwell_s` that also covered `min_distance_px` counts, so a person
    waiting at the kerb with their toes over the edge is not cited; the crosswalk signal is
    judged when the person stepped on, so someone caught mid-crossing by the change is not.
    The step on must be seen: a person not yet seen on the pavement (outside every zone) is not
    judged, because that is mostly a rider whose motorcycle the detector missed, riding along
    the road and through the crosswalk, or someone who stepped out from behind a bus; neither
    can be shown to have walked onto the road.
    """
    episode: tuple[str, float, XY, str, PhaseState | None] | None = None
    seen_on_pavement = False
    for tp in track:
        foot = foot_point(tp.box)
        zone = next((c for c in crosswalks if inside(foot, c.polygon)), None)
        road = None if zone else next((c for c in carriageways if inside(foot, c.polygon)), None)
        if zone is None and road is None:
            episode = None
            seen_on_pavement = True
            continue
        key = zone.id if zone is not None else road.id  # type: ignore[union-attr]
        if not seen_on_pavement:
            continue
        if episode is None or episode[0] != key:
            phase = None
            reason = "walked on the carriageway outside every crosswalk"
            if zone is not None:
                if zone.approach is None:
                    episode = None
                    continue  # an unsignalised crosswalk is always open to pedestrians
                phase = phase_at(zone.approach, tp.t)
                if phase.phase == "unknown":
                    return Suppressed(zone.id, tp.t, "pedestrian signal unknown")
                if phase.phase == "green":
                    episode = (key, tp.t, foot, "", None)
                    continue
                reason = f"entered the crosswalk on don't-walk ({phase.phase})"
            episode = (key, tp.t, foot, reason, phase)
        key_now, start_s, start_xy, reason, phase = episode
        if not reason:
            continue  # entered legally; stays legal for this stay
        walked = math.dist(start_xy, foot)
        if tp.t - start_s >= rule.dwell_s and walked >= rule.min_distance_px:
            speed = walked / (tp.t - start_s) if tp.t > start_s else 0.0
            return JaywalkFinding(key_now, start_s, tp.t, reason, phase, walked, speed)
    return None
