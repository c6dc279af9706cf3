"""Phases as the rules see them, and the one timeline that applies the signal safeguards.

Rules never read a lamp directly: they ask for a `PhaseState`, which carries how long the phase
has lasted and how long the amber before it was, because both decide whether a citation is fair.
Every live source (a controller feed, the camera's own view of its heads) reports into a
`PhaseTimeline`, so a silent source, flicker, and a change nobody saw all turn into `unknown` or
a missing onset whichever source a camera uses, and the rules cite no one on those.
"""

from __future__ import annotations

import bisect
import logging
import math
import threading
from collections import deque
from dataclasses import dataclass

from detectors.lamps import PhaseName
from pipeline.config import FlickerPolicy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PhaseState:
    phase: PhaseName
    onset_s: float | None
    """Stream time the current phase began; None when not known (e.g. first seen mid-phase)."""
    amber_s: float | None
    """Measured length of the amber that preceded the current red; None when not measured."""
    seen_since_s: float | None = None
    """When the onset is unknown: the phase has held at least since this stream time (the
    source first reported it then), so time in phase is at least `t - seen_since_s`."""

    def time_in_phase(self, t: float) -> float | None:
        return None if self.onset_s is None else t - self.onset_s


UNKNOWN = PhaseState("unknown", None, None)


_MAX_SEGMENTS = 512


class PhaseTimeline:
    """One approach's phases as a live source reported them, with the safeguards applied.

    An onset is stated only when the change into it was seen from a known phase. The amber
    before a red runs from amber's first sample to the last sample before red: its lower bound,
    so coarse sampling can only make an amber look shorter (which suppresses), never longer.
    Lamp heads often go dark for a few frames between amber and red: a reported unknown of at
    most `dark_gap_s` between a timed amber and a red bridges the changeover, with amber ending
    at its last report and red beginning at its first (both the conservative side); a crossing
    inside the dark gap itself stays unknown.
    History is kept because the rules ask about the moment a vehicle crossed, which is a little
    in the past by the time its track shows it. A bus consumer thread may write while the detect
    stage reads, hence the lock.
    """

    def __init__(
        self,
        label: str,
        stale_after_s: float,
        flicker: FlickerPolicy,
        min_amber_s: float | None = None,
        dark_gap_s: float = 0.0,
    ) -> None:
        self.label = label
        self.dark_gap_s = dark_gap_s
        self.stale_after_s = stale_after_s
        self.flicker = flicker
        self.min_amber_s = min_amber_s
        """Only for the log: the rule itself decides whether a measured amber is too short."""
        self.last_seen: float | None = None
        self._segments: list[tuple[float, PhaseState]] = []
        self._reported: PhaseName | None = None
        self._changes: deque[float] = deque()
        self._holding = False
        self._holdoff_until = -math.inf
        self._stale_logged_for: float | None = None
        self._went_dark: tuple[PhaseState, float, float] | None = None
        """A timed amber, its last report and when the source then said unknown."""
        self._lock = threading.Lock()

    def observe(
        self,
        phase: PhaseName,
        t: float,
        *,
        onset_t: float | None = None,
        after_t: float | None = None,
    ) -> None:
        """Record that the source reported `phase` at `t` (a repeat just proves it is alive).

        When the report is a change, the lamp changed after `after_t` (the last sample of the
        old phase) and by `onset_t` (the first sample of the new one); both default to `t`, as
        for a controller that states the exact time.
        """
        onset_t = t if onset_t is None else onset_t
        after_t = onset_t if after_t is None else after_t
        with self._lock:
            self._observe(phase, t, onset_t, after_t)

    def state_at(self, t: float) -> PhaseState:
        """The phase at stream time `t`; unknown once the source was silent for too long."""
        with self._lock:
            return self._state_at(t)

    def _observe(self, phase: PhaseName, t: float, onset_t: float, after_t: float) -> None:
        if self.last_seen is not None and t - self.last_seen > self.stale_after_s:
            gap_from = self.last_seen + self.stale_after_s
            log.warning(
                "%s: no report for %.1f s; phase unknown from %.2f s",
                self.label,
                t - self.last_seen,
                gap_from,
            )
            self._append(gap_from, UNKNOWN)
            self._reported = None
        self.last_seen = t if self.last_seen is None else max(self.last_seen, t)
        changed = phase != self._reported
        if changed:
            if self._reported is not None:
                self._count_change(onset_t)
            self._reported = phase
        if self._holding:
            if t < self._holdoff_until:
                return
            self._holding = False
            log.warning("%s: stable again at %.2f s (%s, onset not trusted)", self.label, t, phase)
            self._append(t, PhaseState(phase, None, None, seen_since_s=t))
        elif changed:
            self._begin(phase, onset_t, after_t)

    def _state_at(self, t: float) -> PhaseState:
        if not self._segments or t < self._segments[0][0] or self.last_seen is None:
            return UNKNOWN
        if t - self.last_seen > self.stale_after_s:
            if self._stale_logged_for != self.last_seen:
                self._stale_logged_for = self.last_seen
                log.warning(
                    "%s: stale, last report at %.2f s; phase unknown", self.label, self.last_seen
                )
            return UNKNOWN
        i = bisect.bisect_right(self._segments, t, key=lambda s: s[0]) - 1
        return self._segments[i][1]

    def _count_change(self, t: float) -> None:
        changes = self._changes
        changes.append(t)
        while changes[0] < t - self.flicker.window_s:
            changes.popleft()
        if self._holding:
            self._holdoff_until = t + self.flicker.holdoff_s
        elif len(changes) > self.flicker.max_changes:
            self._holding = True
            self._holdoff_until = t + self.flicker.holdoff_s
            first = changes[0]
            log.warning(
                "%s: flicker, %d phase changes within %.1f s; phase unknown from %.2f s "
                "until stable for %.1f s",
                self.label,
                len(changes),
                self.flicker.window_s,
                first,
                self.flicker.holdoff_s,
            )
            # The changes inside the window were part of the flicker, so none of them counts.
            self._segments = [s for s in self._segments if s[0] < first]
            self._append(first, UNKNOWN)

    def _begin(self, phase: PhaseName, onset_t: float, after_t: float) -> None:
        prev = self._segments[-1][1] if self._segments else UNKNOWN
        went_dark, self._went_dark = self._went_dark, None
        amber_end_t = after_t
        if phase == "red" and went_dark is not None and self._bridges(went_dark, onset_t):
            prev, amber_end_t, _ = went_dark
            log.info("%s: dark changeover from amber to red at %.2f s", self.label, onset_t)
        elif phase == "unknown" or prev.phase == "unknown":
            if phase == "unknown":
                log.warning("%s: source reports phase unknown at %.2f s", self.label, onset_t)
                if prev.phase == "amber" and prev.onset_s is not None:
                    self._went_dark = (prev, after_t, onset_t)
            self._append(onset_t, PhaseState(phase, None, None, seen_since_s=onset_t))
            return
        amber_s = None
        if phase == "red":
            if prev.phase == "green":
                amber_s = 0.0
            elif prev.phase == "amber" and prev.onset_s is not None:
                amber_s = max(0.0, amber_end_t - prev.onset_s)
            if amber_s is None:
                log.info("%s: red at %.2f s without an observed amber onset", self.label, onset_t)
            elif self.min_amber_s is not None and amber_s < self.min_amber_s:
                log.warning(
                    "%s: amber of %.2f s before red at %.2f s is below the %.2f s minimum",
                    self.label,
                    amber_s,
                    onset_t,
                    self.min_amber_s,
                )
        self._append(onset_t, PhaseState(phase, onset_t, amber_s))

    def _bridges(self, went_dark: tuple[PhaseState, float, float], red_t: float) -> bool:
        """Whether the unknown since the amber is the source's own, short, and still current.

        A stale feed or flicker appends an unknown of its own, which no dark lamp explains.
        """
        _, last_amber_t, dark_t = went_dark
        start, state = self._segments[-1]
        return (
            start == dark_t
            and state.seen_since_s == dark_t
            and red_t - last_amber_t <= self.dark_gap_s
        )

    def _append(self, start: float, state: PhaseState) -> None:
        if self._segments and self._segments[-1][1] == state == UNKNOWN:
            return
        start = max(start, self._segments[-1][0]) if self._segments else start
        self._segments.append((start, state))
        del self._segments[:-_MAX_SEGMENTS]
