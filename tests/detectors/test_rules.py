"""Red-light rule safeguards, one per test, on hand-made tracks."""

import pytest

from detectors.rules import RedLightFinding, Suppressed, TrackPoint, first_crossing, red_light
from detectors.signals import PhaseState
from pipeline.config import EntryLine, RedLightRule, StopLine

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


def moving_up(front_y: list[float], t0: float, dt: float = 0.1, x: float = 80) -> list[TrackPoint]:
    """A 40x60 box whose front edge goes through the given y values."""
    return [TrackPoint(t0 + i * dt, (x, y, x + 40, y + 60)) for i, y in enumerate(front_y)]


def steady(y0: float, y1: float, n: int = 40) -> list[float]:
    return [y0 + (y1 - y0) * i / (n - 1) for i in range(n)]


def test_runs_red_is_cited_with_time_into_red() -> None:
    track = moving_up(steady(160, 0), t0=RED_AT + 1.0)
    found = red_light(track, STOP, ENTRY, red_since(RED_AT), RULE)
    assert isinstance(found, RedLightFinding)
    # front moves 160 px in 3.9 s, so it reaches y=100 after 60 px = 1.4625 s
    assert found.time_into_red_s == pytest.approx(1.0 + 1.4625, abs=1e-6)
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
    crossed = first_crossing(track, STOP.points, "up")
    assert crossed is not None and 0 < crossed - RED_AT < RULE.grace_s
    assert red_light(track, STOP, ENTRY, red_since(RED_AT), RULE) is None


def test_stopped_over_the_line_is_not_cited() -> None:
    front = steady(160, 80, n=20) + [80.0] * 40
    track = moving_up(front, t0=RED_AT + 2)
    assert first_crossing(track, STOP.points, "up") is not None
    assert red_light(track, STOP, ENTRY, red_since(RED_AT), RULE) is None


def test_unknown_phase_and_short_amber_suppress() -> None:
    track = moving_up(steady(160, 0), t0=RED_AT + 2)
    unknown = red_light(track, STOP, ENTRY, lambda t: PhaseState("unknown", None, None), RULE)
    assert isinstance(unknown, Suppressed) and "unknown" in unknown.reason
    short = red_light(track, STOP, ENTRY, red_since(RED_AT, amber=2.0), RULE)
    assert isinstance(short, Suppressed) and "amber" in short.reason
    unmeasured = red_light(track, STOP, ENTRY, lambda t: PhaseState("red", None, None), RULE)
    assert isinstance(unmeasured, Suppressed)


def test_wrong_direction_and_outside_the_line_are_ignored() -> None:
    down = moving_up(steady(0, 160), t0=RED_AT + 2)
    assert red_light(down, STOP, ENTRY, red_since(RED_AT), RULE) is None
    beside = moving_up(steady(160, 0), t0=RED_AT + 2, x=400)
    assert red_light(beside, STOP, ENTRY, red_since(RED_AT), RULE) is None
