"""Where a camera's signal phases come from: a fixed plan, the controller's feed, or the
camera's own view of its signal heads. The live sources keep one `detectors.phases.PhaseTimeline`
per approach, so the safeguards are the same whichever source a camera uses.
"""

from __future__ import annotations

import logging
from collections import deque
from datetime import datetime
from typing import Protocol

import numpy as np

from detectors.lamps import DEFAULT_COLOURS, LampColours, PhaseName, classify_lamp, crop, read_lamps
from detectors.phases import UNKNOWN, PhaseState, PhaseTimeline
from detectors.sources import Frame
from pipeline.config import CameraConfig, SignalHead, SignalSource
from pipeline.events import Event, SignalPhaseChanged

log = logging.getLogger(__name__)


class PhaseSource(Protocol):
    """What the detect stage asks about signals; `update` sees every analysed frame first."""

    def phase_at(self, approach: str, t: float) -> PhaseState: ...

    def update(self, frame: Frame) -> None: ...


class FixedPlan:
    """A fixed-time controller: green, then amber, then red for the rest of the cycle."""

    def __init__(self, source: SignalSource) -> None:
        if source.kind != "fixed_plan" or source.cycle_s is None:
            raise ValueError("FixedPlan needs a fixed_plan signal source with cycle_s")
        self.cycle_s = source.cycle_s
        self.plan = {p.approach: p for p in source.plan}

    def update(self, frame: Frame) -> None:
        """A timed plan reads nothing from the frames."""

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


class _LiveSource:
    """Per-approach timelines of one camera, created on first use."""

    def __init__(self, camera: CameraConfig, min_amber_s: float | None) -> None:
        self.camera_id = camera.id
        self._stale_after_s = camera.signal.stale_after_s
        self._flicker = camera.signal.flicker
        self._dark_gap_s = camera.signal.dark_gap_s
        self._min_amber_s = min_amber_s
        self._timelines: dict[str, PhaseTimeline] = {}

    def timeline(self, approach: str) -> PhaseTimeline:
        found = self._timelines.get(approach)
        if found is None:
            found = self._timelines[approach] = PhaseTimeline(
                f"{self.camera_id}/{approach}",
                self._stale_after_s,
                self._flicker,
                self._min_amber_s,
                self._dark_gap_s,
            )
        return found

    def phase_at(self, approach: str, t: float) -> PhaseState:
        return self.timeline(approach).state_at(t)

    def update(self, frame: Frame) -> None:
        """Sources other than vision learn phases from elsewhere, not from frames."""


# ---------------------------------------------------------------- (a) controller feed


class ControllerFeed(_LiveSource):
    """Phases from a signal controller's gateway (NTCIP / SPaT), as `SignalPhaseChanged` events.

    Subscribe `handle` to the `signals` topic. The gateway repeats the current phase at least
    every `stale_after_s` (SPaT broadcasts ten times a second): a repeat proves the feed is alive
    without moving the onset, and silence beyond that makes the phase unknown, because a dead
    feed must never go on saying red.
    """

    def __init__(
        self,
        camera: CameraConfig,
        stream_start: datetime,
        *,
        min_amber_s: float | None = None,
    ) -> None:
        if camera.signal.kind != "controller":
            raise ValueError("ControllerFeed needs a camera whose signal kind is controller")
        super().__init__(camera, min_amber_s)
        self.stream_start = stream_start

    def handle(self, event: Event) -> None:
        if not isinstance(event, SignalPhaseChanged) or event.camera_id != self.camera_id:
            return
        t = (event.changed_at - self.stream_start).total_seconds()
        timeline = self.timeline(event.approach)
        # Redelivered (at-least-once) or reordered reports are older than what we know.
        if timeline.last_seen is not None and t < timeline.last_seen:
            log.info(
                "%s/%s: report for %.2f s after one for %.2f s ignored",
                self.camera_id,
                event.approach,
                t,
                timeline.last_seen,
            )
            return
        timeline.observe(event.phase, t)


# ---------------------------------------------------------------- (b) vision


class _Debounce:
    """Per-frame colours to an accepted phase, robust to single bad frames.

    A colour counts once it held for `frames` frames in a row; the accepted one is dropped for
    unknown once it was not seen for as long, because a flashing or dark head holds no colour.
    """

    def __init__(self, frames: int) -> None:
        self.frames = frames
        self.accepted: PhaseName | None = None
        self._recent: deque[tuple[float, PhaseName]] = deque(maxlen=frames + 1)

    def push(self, t: float, raw: PhaseName) -> tuple[float, float] | None:
        """On a change of the accepted phase: (first frame showing it, last frame before)."""
        self._recent.append((t, raw))
        if len(self._recent) < self.frames:
            return None
        window = list(self._recent)[-self.frames :]
        seen = {c for _, c in window}
        if len(seen) == 1:
            new = raw
        elif self.accepted not in seen:
            new = "unknown"
        else:
            return None
        if new == self.accepted:
            return None
        self.accepted = new
        first = window[0][0]
        before = self._recent[0][0] if len(self._recent) > self.frames else first
        return first, before


class VisionSignal(_LiveSource):
    """Phases read off the camera's own view of its signal heads (`geometry.signal_heads`).

    Heads of one approach that show a lit lamp must agree (an occluded head abstains), and a
    colour must hold for `smoothing_frames` frames before it counts, so a passing truck or one
    bad frame changes nothing; the accepted change is dated back to the first frame showing it.
    """

    def __init__(
        self,
        camera: CameraConfig,
        *,
        colours: LampColours = DEFAULT_COLOURS,
        min_amber_s: float | None = None,
    ) -> None:
        if camera.signal.kind != "vision" or not camera.geometry.signal_heads:
            raise ValueError("VisionSignal needs a vision signal source and signal_heads ROIs")
        super().__init__(camera, min_amber_s)
        self.colours = colours
        self._heads: dict[str, list[SignalHead]] = {}
        for head in camera.geometry.signal_heads:
            self._heads.setdefault(head.approach, []).append(head)
        self._debounce = {a: _Debounce(camera.signal.smoothing_frames) for a in self._heads}

    def read(self, image: np.ndarray, head: SignalHead) -> PhaseName:
        """What one head shows: by its calibrated lamps if it has them, else by hue."""
        if head.lamps:
            return read_lamps(image, head.lamps)
        return classify_lamp(crop(image, head.roi_px), self.colours)

    def update(self, frame: Frame) -> None:
        for approach, heads in self._heads.items():
            lit = {self.read(frame.image, head) for head in heads}
            lit.discard("unknown")
            raw: PhaseName = lit.pop() if len(lit) == 1 else "unknown"
            debounce = self._debounce[approach]
            began = debounce.push(frame.t, raw)
            if debounce.accepted is None:
                continue
            onset_t, after_t = began or (None, None)
            self.timeline(approach).observe(
                debounce.accepted, frame.t, onset_t=onset_t, after_t=after_t
            )


def phase_source(
    camera: CameraConfig, stream_start: datetime, min_amber_s: float
) -> FixedPlan | ControllerFeed | VisionSignal:
    """The configured source of a camera's phases; a ControllerFeed still needs its bus feed."""
    match camera.signal.kind:
        case "fixed_plan":
            return FixedPlan(camera.signal)
        case "controller":
            return ControllerFeed(camera, stream_start, min_amber_s=min_amber_s)
        case "vision":
            return VisionSignal(camera, min_amber_s=min_amber_s)
