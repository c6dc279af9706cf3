"""The detect stage for one camera: frames in, ViolationDetected events out, and a
ViolationSuppressed for each crossing a safeguard kept from being cited.

Track histories and rule evaluation meet here; what a rule's final outcome becomes (the case or
suppressed crossing with its evidence, and its event) is `detectors.outcomes`. Everything this
stage says to the rest of the system goes out as events on the bus, with evidence referenced by
hash.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime

from detectors.evidence import EvidenceRecorder
from detectors.outcomes import Outcomes, StageStats
from detectors.road_users import Join, RoadUsers, shift
from detectors.rules import (
    JaywalkFinding,
    RedLightFinding,
    Suppressed,
    TrackPoint,
    jaywalk,
    red_light,
)
from detectors.signals import PhaseSource
from detectors.sources import Frame
from detectors.tracking import Tracker
from pipeline.config import CameraConfig, RulesConfig
from pipeline.events import ViolationDetected, ViolationSuppressed
from pipeline.geometry import Box

log = logging.getLogger(__name__)

# Longer than any tracker keeps a lost id, so a forgotten id never comes back.
FORGET_AFTER_S = 30.0
VEHICLE_CLASSES = {"car", "motorcycle", "bus", "truck", "bicycle"}


class DetectStage:
    def __init__(
        self,
        camera: CameraConfig,
        rules: RulesConfig,
        tracker: Tracker,
        signals: PhaseSource,
        recorder: EvidenceRecorder,
        publish: Callable[[ViolationDetected], None],
        stream_start: datetime,
        publish_suppressed: Callable[[ViolationSuppressed], None] | None = None,
    ) -> None:
        """`publish_suppressed` takes the suppressed crossings; without it they are only
        counted and logged, and no evidence is made of them."""
        self.camera = camera
        self.rules = rules
        self.tracker = tracker
        self.signals = signals
        self.recorder = recorder
        self.tracks: dict[int, list[TrackPoint]] = {}
        self.classes: dict[int, str] = {}
        self.road_users = RoadUsers()
        """A rider and the two-wheeler under them are one road user, judged as a vehicle."""
        self.decided: set[tuple[int, str]] = set()
        self.stats = StageStats()
        self.outcomes = Outcomes(
            camera,
            rules,
            signals,
            recorder,
            publish,
            publish_suppressed,
            stream_start,
            tracker.name,
            self.stats,
        )

    def process(self, frames: Iterable[Frame]) -> StageStats:
        for frame in frames:
            self._on_frame(frame)
        self.outcomes.publish_finished(self.recorder.flush())
        return self.stats

    def _on_frame(self, frame: Frame) -> None:
        self.stats.frames += 1
        self.signals.update(frame)
        seen, joins = self.road_users.update(self.tracker.update(frame), frame.t)
        for join in joins:
            self._join(join)
        for obj in seen:
            self.tracks.setdefault(obj.track_id, []).append(TrackPoint(frame.t, obj.box))
            self.classes[obj.track_id] = obj.object_class
        self.outcomes.publish_finished(self.recorder.add_frame(frame))
        # A track without a new point cannot change any rule's outcome: judge only those seen.
        for obj in seen:
            points = self.tracks[obj.track_id]
            if len(points) < self.rules.min_track_age_frames:
                continue
            if obj.object_class in VEHICLE_CLASSES:
                self._evaluate_red_light(obj.track_id, points)
            elif obj.object_class == "person":
                self._evaluate_jaywalk(obj.track_id, points)
        self._forget_tracks_unseen_since(frame.t - FORGET_AFTER_S)

    def _join(self, join: Join) -> None:
        """One history for a road user, in its own box frame; what was decided for either holds."""
        merged = {p.t: p for p in self._shifted(join.merged, join.merged_offset)}
        merged.update((p.t, p) for p in self._shifted(join.into, join.into_offset))
        self.tracks[join.into] = [merged[t] for t in sorted(merged)]
        self.tracks.pop(join.merged, None)
        self.classes.pop(join.merged, None)
        self.decided |= {(join.into, rule) for track, rule in self.decided if track == join.merged}
        log.info("%s: track %d rides %d", self.camera.id, join.merged, join.into)

    def _shifted(self, track_id: int, offset: Box) -> list[TrackPoint]:
        return [TrackPoint(p.t, shift(p.box, offset)) for p in self.tracks.get(track_id, [])]

    def _forget_tracks_unseen_since(self, cutoff_s: float) -> None:
        """Bound memory on a stream that never ends; open cases keep their own reference."""
        for track_id in [k for k, pts in self.tracks.items() if pts[-1].t < cutoff_s]:
            del self.tracks[track_id], self.classes[track_id]
            self.decided = {d for d in self.decided if d[0] != track_id}
        self.road_users.forget(cutoff_s)

    def _decide(
        self, kind: str, track_id: int, rule_key: str, points: list[TrackPoint], result: object
    ) -> bool:
        """Record a final outcome for (track, rule); True when it is a citation to open. A
        suppressed one is recorded here, for the audit of the safeguards."""
        if result is None:
            return False
        self.decided.add((track_id, rule_key))
        if isinstance(result, Suppressed):
            self.outcomes.suppressed(kind, track_id, self.classes[track_id], points, result)
            return False
        return True

    def _evaluate_red_light(self, track_id: int, points: list[TrackPoint]) -> None:
        rule = self.rules.red_light
        if not rule.enabled:
            return
        geo = self.camera.geometry
        for stop in geo.stop_lines:
            if (track_id, stop.id) in self.decided:
                continue
            for entry in (e for e in geo.entry_lines if e.stop_line == stop.id):
                found = red_light(
                    points,
                    stop,
                    entry,
                    lambda t, a=stop.approach: self.signals.phase_at(a, t),
                    rule,
                    geo.anchor,
                )
                if self._decide("red_light", track_id, stop.id, points, found):
                    assert isinstance(found, RedLightFinding)
                    self.outcomes.red_light(track_id, self.classes[track_id], points, found)
                if found is not None:
                    break

    def _evaluate_jaywalk(self, track_id: int, points: list[TrackPoint]) -> None:
        geo = self.camera.geometry
        if not self.rules.jaywalk.enabled or (track_id, "jaywalk") in self.decided:
            return
        found = jaywalk(
            points, geo.carriageways, geo.crosswalks, self.signals.phase_at, self.rules.jaywalk
        )
        if self._decide("jaywalk", track_id, "jaywalk", points, found):
            assert isinstance(found, JaywalkFinding)
            self.outcomes.jaywalk(track_id, self.classes[track_id], points, found)
