"""Red-light rule safeguards, one per test, on hand-made tracks."""

import pytest

from detectors.phases import PhaseState
from detectors.rules import (
    JaywalkFinding,
    RedLightFinding,
    Suppressed,
    TrackPoint,
    first_crossing,
    jaywalk,
    red_light,
)
from pipeline.config import Crosswalk, EntryLine, JaywalkRule, RedLightRule, StopLine, Zone

STOP = StopLine(id="s", approach="nb", points=[(0, 100), (200, 100)], direction="up")
ENTRY = EntryLine(id="e", stop_line="s", points=[(0, 40), (200, 40)])
RULE = RedLightRule()
RED_AT = 10.0


def red_since(onset: float, amber: float | None = 3.5):
    def phase_at(t: float) -> PhaseState:
        if t < onset - (amber or 0):
            return PhaseState("green", 0.0, None)
        if t < onset:
            return PhaseState("amber", onset - (amber or 0), None)
        return PhaseState("red", onset, amber)

    return phase_at


def moving_up(
    front_y: list[float], t0: float, dt: float = 0.1, x: float = 80, h: float = 20
) -> list[TrackPoint]:
    """A 40 px wide box of height `h` whose front (top) edge goes through the given y values."""
    return [TrackPoint(t0 + i * dt, (x, y, x + 40, y + h)) for i, y in enumerate(front_y)]


def steady(y0: float, y1: float, n: int = 40) -> list[float]:
    return [y0 + (y1 - y0) * i / (n - 1) for i in range(n)]


def test_runs_red_is_cited_with_time_into_red() -> None:
    track = moving_up(steady(160, 0), t0=RED_AT + 1.0)
    found = red_light(track, STOP, ENTRY, red_since(RED_AT), RULE)
    assert isinstance(found, RedLightFinding)
    # 160 px in 3.9 s: the front reaches y=100 after 60 px = 1.4625 s (judged then), the
    # ground point (20 px behind) after 80 px = 1.95 s
    assert found.time_into_red_s == pytest.approx(1.0 + 1.4625, abs=1e-6)
    assert found.committed_s == pytest.approx(RED_AT + 1.0 + 1.4625, abs=1e-6)
    assert found.crossed_stop_s == pytest.approx(RED_AT + 1.0 + 1.95, abs=1e-6)
    assert found.crossed_entry_s > found.crossed_stop_s
    assert found.speed_px_s > 0


def test_crossing_on_green_or_amber_is_not_cited() -> None:
    assert (
        red_light(moving_up(steady(160, 0), t0=1.0), STOP, ENTRY, red_since(RED_AT), RULE) is None
    )
    track = moving_up(steady(160, 0), t0=RED_AT - 1.5)
    assert red_light(track, STOP, ENTRY, red_since(RED_AT), RULE) is None


def test_grace_period_after_red_onset() -> None:
    # 160 px in 3 s: the front reaches y=100 after 1.125 s, i.e. 0.1 s after red onset.
    track = moving_up(steady(160, 0, n=31), t0=RED_AT - 1.025)
    crossed = first_crossing(track, STOP.points, "up", anchor="leading_edge")
    assert crossed is not None and 0 < crossed - RED_AT < RULE.grace_s
    found = red_light(track, STOP, ENTRY, red_since(RED_AT), RULE)
    assert isinstance(found, Suppressed) and found.safeguard == "grace_period"
    assert found.judged_s == pytest.approx(crossed) and found.phase.phase == "red"


def test_stopped_over_the_line_is_not_cited() -> None:
    front = steady(160, 70, n=20) + [70.0] * 40
    track = moving_up(front, t0=RED_AT + 2)
    assert first_crossing(track, STOP.points, "up") is not None
    assert red_light(track, STOP, ENTRY, red_since(RED_AT), RULE) is None


def test_unknown_phase_and_short_amber_suppress() -> None:
    track = moving_up(steady(160, 0), t0=RED_AT + 2)
    unknown = red_light(track, STOP, ENTRY, lambda t: PhaseState("unknown", None, None), RULE)
    assert isinstance(unknown, Suppressed) and "unknown" in unknown.reason
    assert unknown.safeguard == "unknown_phase"
    short = red_light(track, STOP, ENTRY, red_since(RED_AT, amber=2.0), RULE)
    assert isinstance(short, Suppressed) and "amber" in short.reason
    assert short.safeguard == "amber_too_short"
    unmeasured = red_light(track, STOP, ENTRY, lambda t: PhaseState("red", None, None), RULE)
    assert isinstance(unmeasured, Suppressed) and unmeasured.safeguard == "red_onset_not_seen"


@pytest.mark.parametrize(
    ("seen_s", "cited"),
    [(None, False), (0.5, False), (RULE.grace_s + RULE.min_amber_s - 0.01, False), (4.0, True)],
)
def test_red_seen_without_its_onset_needs_grace_plus_minimum_amber(
    seen_s: float | None, cited: bool
) -> None:
    """A clip or a feed that starts mid-red: only a lower bound of time into red is known."""
    track = moving_up(steady(160, 0), t0=RED_AT)
    crossed = first_crossing(track, STOP.points, "up", anchor="leading_edge")
    assert crossed is not None
    since = None if seen_s is None else crossed - seen_s
    found = red_light(
        track, STOP, ENTRY, lambda t: PhaseState("red", None, None, seen_since_s=since), RULE
    )
    if cited:
        assert isinstance(found, RedLightFinding)
        assert found.time_into_red_s == pytest.approx(seen_s)
    else:
        assert isinstance(found, Suppressed) and "onset not observed" in found.reason


@pytest.mark.parametrize(("standing_on_red_s", "cited"), [(0.5, False), (1.5, True)])
def test_moving_off_after_standing_through_red_needs_no_onset(
    standing_on_red_s: float, cited: bool
) -> None:
    """Red shown from the first frame (y3): a car that stood at the line for a whole still
    window while red showed had stopped for it, so however long the amber was, it did not catch
    this car moving. Standing through less than the window, it could have been braking."""
    seen_since = 20.0
    waiting = [70.0] * 30  # wheels at y=130, behind the line, for 3 s
    track = moving_up(
        waiting + steady(70, -40, n=30), t0=seen_since - 3.0 + standing_on_red_s, h=60
    )
    red_seen = lambda t: PhaseState("red", None, None, seen_since_s=seen_since)  # noqa: E731
    found = red_light(track, STOP, ENTRY, red_seen, RULE)
    if cited:
        assert isinstance(found, RedLightFinding)
        assert found.time_into_red_s == pytest.approx(standing_on_red_s, abs=0.15)
    else:
        assert isinstance(found, Suppressed) and "onset not observed" in found.reason


def test_wrong_direction_and_outside_the_line_are_ignored() -> None:
    down = moving_up(steady(0, 160), t0=RED_AT + 2)
    assert red_light(down, STOP, ENTRY, red_since(RED_AT), RULE) is None
    beside = moving_up(steady(160, 0), t0=RED_AT + 2, x=400)
    assert red_light(beside, STOP, ENTRY, red_since(RED_AT), RULE) is None


# ---------------------------------------------------------------- ground contact


def test_a_car_waiting_with_its_roof_over_the_line_is_cited_when_it_moves_off_on_red() -> None:
    """On an oblique camera the roof of a car at the line is past the line in the image."""
    waiting = [70.0] * 80  # roof at y=70, wheels at y=130: behind the paint, 8 s from amber
    track = moving_up(waiting + steady(70, -40, n=30), t0=RED_AT - 3.0, h=60)
    found = red_light(track, STOP, ENTRY, red_since(RED_AT), RULE)
    assert isinstance(found, RedLightFinding)
    assert found.committed_s == pytest.approx(RED_AT + 5.05, abs=0.1), "moved off 5 s into red"
    assert found.time_into_red_s == pytest.approx(5.05, abs=0.1)
    by_roof = red_light(track, STOP, ENTRY, red_since(RED_AT), RULE, anchor="leading_edge")
    assert by_roof is None, "the box top never crosses: the old anchor misses it"


def test_a_long_vehicle_whose_front_passed_on_amber_is_not_cited() -> None:
    """A bus's rear wheels cross the paint on red; it went on amber."""
    track = moving_up(steady(160, -100, n=66), t0=RED_AT - 1.5, h=100)  # 40 px/s
    crossed = first_crossing(track, STOP.points, "up")
    assert crossed is not None and crossed > RED_AT + RULE.grace_s, "ground point crosses on red"
    found = red_light(track, STOP, ENTRY, red_since(RED_AT), RULE)
    # Judged when its front reached the line, as red began: inside the grace period.
    assert isinstance(found, Suppressed) and found.safeguard == "grace_period"
    assert found.judged_s == pytest.approx(RED_AT)


def test_a_road_user_first_seen_over_the_line_is_not_judged() -> None:
    """Neither its front reaching the line nor a standstill was seen: when it went is unknown."""
    track = moving_up(steady(60, -100, n=40), t0=RED_AT + 3.0, h=60)
    assert first_crossing(track, STOP.points, "up") is not None
    assert red_light(track, STOP, ENTRY, red_since(RED_AT), RULE) is None


def test_a_rider_overtaking_a_queue_at_the_lines_end_is_judged_from_his_front() -> None:
    """Seen in Hanoi: a rider comes up right of the stop line's end and cuts in over it. His
    wheels cross the painted segment; his front passes the line's run beside its end."""
    # Up and left; a 40x60 box: the front (top centre) reaches y 100 at x 260, right of the
    # paint's end at x 200; the wheels (bottom centre) reach it at x 160, on the paint.
    track = [
        TrackPoint(RED_AT + 1.0 + 0.2 * i, (250 - 20 * i, 106 - 12 * i, 290 - 20 * i, 166 - 12 * i))
        for i in range(14)
    ]
    crossed = first_crossing(track, STOP.points, "up")
    assert crossed is not None, "the wheels cross the painted segment"
    found = red_light(track, STOP, ENTRY, red_since(RED_AT), RULE)
    assert isinstance(found, RedLightFinding)
    assert found.committed_s == pytest.approx(RED_AT + 1.1, abs=1e-6), "front at the line's run"
    assert found.committed_s < found.crossed_stop_s


# ---------------------------------------------------------------- turn on red

RIGHT_OK = StopLine(
    id="r", approach="nb", points=[(0, 100), (200, 100)], direction="up", exempt_turns=["right"]
)


def turning(dx_per_step: float) -> list[TrackPoint]:
    """Goes up through both lines, then bends sideways by `dx_per_step` px per frame."""
    pts = moving_up(steady(160, 20, n=30), t0=RED_AT + 2)
    x1, y1, x2, y2 = pts[-1].box
    tail = [
        TrackPoint(
            pts[-1].t + 0.1 * i, (x1 + dx_per_step * i, y1 - i, x2 + dx_per_step * i, y2 - i)
        )
        for i in range(1, 31)
    ]
    return pts + tail


def test_right_turn_on_red_is_exempt_but_straight_on_is_not() -> None:
    right = red_light(turning(+12), RIGHT_OK, ENTRY, red_since(RED_AT), RULE)
    assert isinstance(right, Suppressed) and "right turn" in right.reason
    assert right.safeguard == "turn_allowed"
    straight = red_light(turning(0), RIGHT_OK, ENTRY, red_since(RED_AT), RULE)
    assert isinstance(straight, RedLightFinding)
    left = red_light(turning(-12), RIGHT_OK, ENTRY, red_since(RED_AT), RULE)
    assert isinstance(left, RedLightFinding)


def test_turn_is_not_judged_before_the_vehicle_is_far_enough() -> None:
    short = moving_up(steady(160, 18, n=12), t0=RED_AT + 2)
    assert first_crossing(short, ENTRY.points, "up") is not None
    assert red_light(short, RIGHT_OK, ENTRY, red_since(RED_AT), RULE) is None


# ---------------------------------------------------------------- jaywalk

ROAD = Zone(id="road", polygon=[(100, 0), (300, 0), (300, 400), (100, 400)])
ZEBRA = Crosswalk(
    id="zebra", approach="ped", polygon=[(100, 200), (300, 200), (300, 240), (100, 240)]
)
OPEN_ZEBRA = Crosswalk(id="open", polygon=[(100, 300), (300, 300), (300, 340), (100, 340)])
JAY = JaywalkRule(dwell_s=1.0, min_distance_px=40)


def walker(points: list[tuple[float, float]], t0: float = 0.0, dt: float = 0.1) -> list[TrackPoint]:
    """A 20x50 pedestrian whose feet follow `points`."""
    return [TrackPoint(t0 + i * dt, (x - 10, y - 50, x + 10, y)) for i, (x, y) in enumerate(points)]


def across(y: float, n: int = 40, x0: float = 60, x1: float = 340) -> list[tuple[float, float]]:
    return [(x0 + (x1 - x0) * i / (n - 1), y) for i in range(n)]


def ped_phase(phase: str):
    return lambda approach, t: PhaseState(phase, 0.0, 3.0 if phase == "red" else None)  # type: ignore[arg-type]


def test_crossing_off_the_crosswalk_is_cited() -> None:
    found = jaywalk(walker(across(120)), [ROAD], [ZEBRA, OPEN_ZEBRA], ped_phase("green"), JAY)
    assert isinstance(found, JaywalkFinding)
    assert found.zone_id == "road" and found.phase is None
    assert found.cited_s - found.entered_s >= JAY.dwell_s and found.distance_px >= 40


def test_crosswalk_on_walk_is_fine_and_on_dont_walk_is_cited() -> None:
    track = walker(across(220))
    assert jaywalk(track, [ROAD], [ZEBRA], ped_phase("green"), JAY) is None
    found = jaywalk(track, [ROAD], [ZEBRA], ped_phase("red"), JAY)
    assert isinstance(found, JaywalkFinding) and found.zone_id == "zebra"
    assert "don't-walk" in found.reason
    unknown = jaywalk(track, [ROAD], [ZEBRA], ped_phase("unknown"), JAY)
    assert isinstance(unknown, Suppressed) and unknown.safeguard == "unknown_phase"


def test_unsignalised_crosswalk_is_always_open() -> None:
    assert jaywalk(walker(across(320)), [ROAD], [OPEN_ZEBRA], ped_phase("red"), JAY) is None


def test_kerb_waiter_is_not_cited() -> None:
    # Toes 10 px over the kerb line for 5 s, shuffling a little: dwell yes, distance no.
    feet = [(105 + (i % 3), 120) for i in range(50)]
    assert jaywalk(walker(feet), [ROAD], [ZEBRA], ped_phase("green"), JAY) is None


def test_a_quick_step_out_and_back_is_not_cited() -> None:
    feet = [(80, 120)] * 5 + [(140, 120)] * 5 + [(80, 120)] * 10
    assert jaywalk(walker(feet), [ROAD], [ZEBRA], ped_phase("green"), JAY) is None


def test_no_one_is_judged_before_being_seen_on_the_pavement() -> None:
    """A rider whose motorcycle went undetected looks like a person on the road from the start."""
    on_road = across(120, x0=120, x1=290)
    assert jaywalk(walker(on_road), [ROAD], [], ped_phase("green"), JAY) is None
    # Riding along the road through an open crosswalk and on: still never on the pavement.
    along = [(200.0, 390 - 5 * i) for i in range(70)]
    assert jaywalk(walker(along), [ROAD], [OPEN_ZEBRA], ped_phase("green"), JAY) is None
    # The same walk seen from the pavement is cited.
    found = jaywalk(walker([(60, 120), (80, 120), *on_road]), [ROAD], [], ped_phase("green"), JAY)
    assert isinstance(found, JaywalkFinding)


def test_caught_mid_crossing_by_the_change_is_not_cited() -> None:
    def changes(approach: str, t: float) -> PhaseState:
        return PhaseState("green", 0.0, None) if t < 1.0 else PhaseState("red", 1.0, 3.0)

    assert jaywalk(walker(across(220)), [ROAD], [ZEBRA], changes, JAY) is None


@pytest.mark.parametrize(("into_red_s", "cited"), [(0.29, False), (0.30, True), (0.31, True)])
def test_grace_boundary(into_red_s: float, cited: bool) -> None:
    track = moving_up(steady(160, 0, n=31), t0=RED_AT + into_red_s - 1.125)
    found = red_light(track, STOP, ENTRY, red_since(RED_AT), RULE)
    assert isinstance(found, RedLightFinding) is cited
