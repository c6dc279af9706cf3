"""Violation rules as pure functions over a track, the geometry and the signal phase.

Pure so that every citation can be re-derived from the stored track and signal timeline, and so
each safeguard (grace period, second line, amber check, unknown phase) is testable on its own.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from detectors.phases import PhaseState
from pipeline.config import (
    Anchor,
    Crosswalk,
    EntryLine,
    JaywalkRule,
    RedLightRule,
    StopLine,
    Zone,
)
from pipeline.events import Safeguard
from pipeline.geometry import ground_point, inside

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
    committed_s: float
    """When the signal was judged: the front reached the line, or it moved off from standing."""
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
    """A crossing that a safeguard kept from being cited, with which one and why: the detect
    stage records it with evidence for the supervisors' audit of the safeguards."""

    stop_line_id: str
    """The stop line, or the crosswalk a pedestrian stepped onto."""
    crossed_stop_s: float
    reason: str
    safeguard: Safeguard
    phase: PhaseState
    """The signal as the rule saw it when it judged."""
    judged_s: float
    """When the signal was judged: the moment the road user committed (or stepped on)."""


def leading_point(box: Box, direction: str) -> XY:
    """The box edge in the direction of travel: on an oblique camera a roof, not a bumper."""
    x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    return {"up": (cx, y1), "down": (cx, y2), "left": (x1, cy), "right": (x2, cy)}[direction]


def anchor_point(box: Box, direction: str, anchor: Anchor) -> XY:
    return ground_point(box) if anchor == "bottom_centre" else leading_point(box, direction)


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
    track: Sequence[TrackPoint],
    line: Sequence[XY],
    direction: str,
    after_s: float = float("-inf"),
    anchor: Anchor = "bottom_centre",
    before_s: float = float("inf"),
) -> float | None:
    """Interpolated time the anchor point first crosses `line` moving in `direction`."""
    dx, dy = _DIRECTION[direction]
    for prev, cur in itertools.pairwise(track):
        if cur.t <= after_s:
            continue
        if prev.t >= before_s:
            break
        p, q = anchor_point(prev.box, direction, anchor), anchor_point(cur.box, direction, anchor)
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


def ground_speed_kmh(
    track: Sequence[TrackPoint],
    around_s: float,
    to_ground: Callable[[XY], XY | None],
    window_s: float = 1.0,
) -> float | None:
    """Mean speed of the ground point over a window around a time, on the calibrated road
    plane (the box centre of `speed_px_s` would move with the box's growth as a car nears);
    None where it cannot be measured there: too few points in the window, or a point off the
    road plane. A speed is stated in evidence only when it was measured."""
    pts = [tp for tp in track if abs(tp.t - around_s) <= window_s / 2]
    if len(pts) < 2 or pts[-1].t == pts[0].t:
        return None
    a, b = to_ground(ground_point(pts[0].box)), to_ground(ground_point(pts[-1].box))
    if a is None or b is None:
        return None
    return math.dist(a, b) / (pts[-1].t - pts[0].t) * 3.6


STILL_WINDOW_S = 1.0
"""How long a ground point must barely move to count as standing."""


def last_still_s(
    track: Sequence[TrackPoint],
    before_s: float,
    min_speed_px_s: float,
    window_s: float = STILL_WINDOW_S,
) -> float | None:
    """The last time before `before_s` that the ground point had stood still for `window_s`.

    That is when a road user waiting at the line moved off: the moment it chose to go.
    """
    found = None
    start = 0
    for cur in track:
        if cur.t > before_s:
            break
        while start + 1 < len(track) and track[start + 1].t <= cur.t - window_s:
            start += 1
        first = track[start]
        if cur.t - first.t < window_s:
            continue
        moved = math.dist(ground_point(first.box), ground_point(cur.box))
        if moved < min_speed_px_s * (cur.t - first.t):
            found = cur.t
    return found


def _extended(line: Sequence[XY]) -> tuple[XY, XY]:
    """The line run on by its own length at both ends.

    The ground point crossed the painted segment; the box edge ahead of it may pass the line's
    run beside an end (a rider overtaking a queue at its kerb end), and that is still when the
    road user reached the line.
    """
    (ax, ay), (bx, by) = line
    return (2 * ax - bx, 2 * ay - by), (2 * bx - ax, 2 * by - ay)


def committed_at(
    track: Sequence[TrackPoint], stop_line: StopLine, crossed_s: float, still_s: float | None
) -> float | None:
    """When a road user whose ground point crossed the stop line at `crossed_s` decided to go.

    Moving through, that is when its front reached the line or the line's run past an end (the
    box edge ahead, which on an oblique camera is early: the lenient side); waiting at the
    line, when it moved off; the later of the two when both were seen. None when neither was
    seen (first seen already over the line): then nobody can say what the signal showed when
    it went. `still_s`: when it last stood still before the crossing (`last_still_s`).
    """
    line, direction = _extended(stop_line.points), stop_line.direction
    front = first_crossing(track, line, direction, anchor="leading_edge", before_s=crossed_s)
    seen = [t for t in (front, still_s) if t is not None]
    return max(seen) if seen else None


def red_light(
    track: Sequence[TrackPoint],
    stop_line: StopLine,
    entry_line: EntryLine,
    phase_at: Callable[[float], PhaseState],
    rule: RedLightRule,
    anchor: Anchor = "bottom_centre",
) -> RedLightFinding | Suppressed | None:
    """Cite only a vehicle that crossed the stop line on established red and then entered.

    A car that stops over the line never crosses the entry line; a car that crossed within the
    grace period or after a short amber is not a violator; an unknown phase cites no one. These
    safeguards answer `Suppressed`, final for the crossing, so it can be audited. With
    the ground point as anchor the signal is judged when the vehicle committed (`committed_at`),
    so a car whose front passed on amber is not cited when its rear wheels cross on red.
    """
    crossed = first_crossing(track, stop_line.points, stop_line.direction, anchor=anchor)
    if crossed is None:
        return None
    committed, still = crossed, None
    if anchor == "bottom_centre":
        still = last_still_s(track, crossed, rule.min_speed_px_s)
        committed = committed_at(track, stop_line, crossed, still)
        if committed is None:
            return None
    phase = phase_at(committed)
    if phase.phase == "unknown":
        return Suppressed(
            stop_line.id, crossed, "signal phase unknown", "unknown_phase", phase, committed
        )
    if phase.phase != "red":
        return None
    into_red = phase.time_in_phase(committed)
    if into_red is None:
        # Red began before the source saw it: only a lower bound of time into red is known and
        # the amber was never measured. Cite only after red held so long that even no amber at
        # all would have left the driver the minimum amber plus the grace period to stop, or
        # when the road user was seen standing through a whole still window of this red before
        # it moved off: it had stopped for the red, so no amber could have caught it moving.
        seen_s = None if phase.seen_since_s is None else committed - phase.seen_since_s
        stood_on_red = (
            still is not None
            and phase.seen_since_s is not None
            and phase.seen_since_s <= still - STILL_WINDOW_S
        )
        if not stood_on_red and (seen_s is None or seen_s < rule.grace_s + rule.min_amber_s):
            shown = "never" if seen_s is None else f"only {seen_s:.2f} s"
            reason = f"red onset not observed and red seen for {shown}"
            return Suppressed(stop_line.id, crossed, reason, "red_onset_not_seen", phase, committed)
        into_red = seen_s
    elif into_red < rule.grace_s:
        reason = f"committed {into_red:.2f} s into red, within the {rule.grace_s} s grace period"
        return Suppressed(stop_line.id, crossed, reason, "grace_period", phase, committed)
    elif phase.amber_s is None or phase.amber_s < rule.min_amber_s:
        reason = f"amber {phase.amber_s} s below minimum"
        return Suppressed(stop_line.id, crossed, reason, "amber_too_short", phase, committed)
    entered = first_crossing(
        track, entry_line.points, stop_line.direction, after_s=crossed, anchor=anchor
    )
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
            reason = f"{movement} turn on red is allowed here"
            return Suppressed(stop_line.id, crossed, reason, "turn_allowed", phase, committed)
    return RedLightFinding(stop_line.id, crossed, entered, committed, phase, into_red, speed)


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
    (ax, ay), (bx, by) = ground_point(pts[0].box), ground_point(pts[-1].box)
    vx, vy = bx - ax, by - ay
    if math.hypot(vx, vy) < decision_px:
        return None
    dx, dy = _DIRECTION[direction]
    angle = math.degrees(math.atan2(dx * vy - dy * vx, dx * vx + dy * vy))
    if abs(angle) < 30:
        return "straight"
    return "right" if angle > 0 else "left"


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
        foot = ground_point(tp.box)
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
                    reason = "pedestrian signal unknown"
                    return Suppressed(zone.id, tp.t, reason, "unknown_phase", phase, tp.t)
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
