"""Signal phase per approach.

Rules never read a lamp directly: they ask for a `PhaseState`, which carries how long the phase
has lasted and how long the amber before it was, because both decide whether a citation is fair.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pipeline.config import SignalSource

PhaseName = Literal["red", "amber", "green", "unknown"]


@dataclass(frozen=True)
class PhaseState:
    phase: PhaseName
    onset_s: float | None
    """Stream time the current phase began; None when not known (e.g. first seen mid-phase)."""
    amber_s: float | None
    """Measured length of the amber that preceded the current red; None when not measured."""

    def time_in_phase(self, t: float) -> float | None:
        return None if self.onset_s is None else t - self.onset_s


UNKNOWN = PhaseState("unknown", None, None)


class FixedPlan:
    """A fixed-time controller: green, then amber, then red for the rest of the cycle."""

    def __init__(self, source: SignalSource) -> None:
        if source.kind != "fixed_plan" or source.cycle_s is None:
            raise ValueError("FixedPlan needs a fixed_plan signal source with cycle_s")
        self.cycle_s = source.cycle_s
        self.plan = {p.approach: p for p in source.plan}

    def phase_at(self, approach: str, t: float) -> PhaseState:
        p = self.plan.get(approach)
        if p is None:
            return UNKNOWN
        cycle_start = t - ((t - p.green_start_s) % self.cycle_s)
        into = t - cycle_start
        if into < p.green_s:
            return PhaseState("green", cycle_start, None)
        if into < p.green_s + p.amber_s:
            return PhaseState("amber", cycle_start + p.green_s, None)
        return PhaseState("red", cycle_start + p.green_s + p.amber_s, p.amber_s)
