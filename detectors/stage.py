"""The detect stage for one camera: frames in, ViolationDetected events out.

Track histories, rule evaluation and evidence recording meet here; everything this stage says to
the rest of the system goes out as events on the bus, with evidence referenced by hash.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from detectors.evidence import Case, EvidenceRecorder, Package
from detectors.phases import PhaseState
from detectors.road_users import Join, RoadUsers, shift
from detectors.rules import (
    JaywalkFinding,
    RedLightFinding,
    Suppressed,
    TrackPoint,
    ground_speed_kmh,
    jaywalk,
    red_light,
)
from detectors.signals import PhaseSource
from detectors.sources import Frame
from detectors.tracking import Tracker
from pipeline.config import CameraConfig, RulesConfig
from pipeline.events import EvidenceRef, Reason, SignalSnapshot, ViolationDetected, derived_id
from pipeline.geometry import Box, ground_point, homography, on_ground

log = logging.getLogger(__name__)

# Longer than any tracker keeps a lost id, so a forgotten id never comes back.
FORGET_AFTER_S = 30.0
VEHICLE_CLASSES = {"car", "motorcycle", "bus", "truck", "bicycle"}


def _red_summary(found: RedLightFinding) -> str:
    if found.phase.onset_s is None:
        return f"RED >= {found.time_into_red_s:.2f}s (onset before view, amber not measured)"
    return f"RED +{found.time_into_red_s:.2f}s (amber {found.phase.amber_s}s)"


def live_label(state: PhaseState, t: float) -> str:
    """`RED +1.56s`: the phase and how long it has lasted at `t`, as each evidence frame shows
    it; `RED (onset not seen)` where the source never saw the change."""
    if state.phase in ("green", "unknown"):
        return state.phase.upper()
    into = state.time_in_phase(t)
    suffix = " (onset not seen)" if into is None else f" +{into:.2f}s"
    return f"{state.phase.upper()}{suffix}"


def violation_id(camera_id: str, kind: str, track_id: int, captured_at: datetime) -> str:
    """Deterministic, so re-processing the same stream yields the same id (idempotent store)."""
    return derived_id("violation", camera_id, kind, str(track_id), captured_at.isoformat())


@dataclass
class StageStats:
    frames: int = 0
    violations: int = 0
    suppressed: list[str] = field(default_factory=list)


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
    ) -> None:
        self.camera = camera
        self.rules = rules
        self.tracker = tracker
        self.signals = signals
        self.recorder = recorder
        self.publish = publish
        self.stream_start = stream_start
        self.tracks: dict[int, list[TrackPoint]] = {}
        self.classes: dict[int, str] = {}
        self.road_users = RoadUsers()
        """A rider and the two-wheeler under them are one road user, judged as a vehicle."""
        self.decided: set[tuple[int, str]] = set()
        self.pending: dict[str, dict[str, Any]] = {}
        self.stats = StageStats()
        calibration = camera.ground_calibration
        self.to_ground: Callable[[tuple[float, float]], tuple[float, float] | None] | None = None
        """Image to road-plane metres, where the camera is calibrated: speeds in km/h."""
        if calibration is not None:
            image = [(float(x), float(y)) for x, y in calibration.image_points]
            self.to_ground = partial(on_ground, homography(image, calibration.ground_points_m))

    def process(self, frames: Iterable[Frame]) -> StageStats:
        for frame in frames:
            self._on_frame(frame)
        for package in self.recorder.flush():
            self._emit(package)
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
        for package in self.recorder.add_frame(frame):
            self._emit(package)
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

    def _decide(self, track_id: int, rule_key: str, result: object) -> bool:
        """Record a final outcome for (track, rule); True when it is a citation to open."""
        if result is None:
            return False
        self.decided.add((track_id, rule_key))
        if isinstance(result, Suppressed):
            note = f"track {track_id} at {result.stop_line_id}: {result.reason}"
            self.stats.suppressed.append(note)
            log.info("citation suppressed on %s: %s", self.camera.id, note)
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
                if self._decide(track_id, stop.id, found):
                    assert isinstance(found, RedLightFinding)
                    self._open_red_light_case(track_id, points, found)
                    break

    def _evaluate_jaywalk(self, track_id: int, points: list[TrackPoint]) -> None:
        geo = self.camera.geometry
        if not self.rules.jaywalk.enabled or (track_id, "jaywalk") in self.decided:
            return
        found = jaywalk(
            points, geo.carriageways, geo.crosswalks, self.signals.phase_at, self.rules.jaywalk
        )
        if self._decide(track_id, "jaywalk", found):
            assert isinstance(found, JaywalkFinding)
            self._open_jaywalk_case(track_id, points, found)

    def _open_red_light_case(
        self, track_id: int, points: list[TrackPoint], found: RedLightFinding
    ) -> None:
        signal = SignalSnapshot(
            phase="red",
            source=self.camera.signal.kind,
            time_into_red_s=round(found.time_into_red_s, 3),
            amber_duration_s=found.phase.amber_s,
            red_onset_seen=found.phase.onset_s is not None,
            grace_s=self.rules.red_light.grace_s,
        )
        self._open_case(
            kind="red_light",
            reason="stop_line_on_red",
            track_id=track_id,
            points=points,
            at_s=found.crossed_stop_s,
            key_times={"stop_line": found.crossed_stop_s, "entry_line": found.crossed_entry_s},
            signal=signal,
            speed=found.speed_px_s,
            rule=found.stop_line_id,
            approach=next(
                s.approach for s in self.camera.geometry.stop_lines if s.id == found.stop_line_id
            ),
            summary=_red_summary(found),
            facts={
                "stop_line": found.stop_line_id,
                "crossed_stop_s": found.crossed_stop_s,
                "crossed_entry_s": found.crossed_entry_s,
                "time_into_red_s": found.time_into_red_s,
                "amber_s": found.phase.amber_s,
            },
        )

    def _open_jaywalk_case(
        self, track_id: int, points: list[TrackPoint], found: JaywalkFinding
    ) -> None:
        signal = None
        summary = "off the crosswalk"
        reason: Reason = "outside_crosswalk"
        if found.phase is not None:
            reason = "crosswalk_on_flashing" if found.phase.phase == "amber" else "crosswalk_on_red"
            into = found.phase.time_in_phase(found.entered_s)
            signal = SignalSnapshot(
                phase=found.phase.phase,
                source=self.camera.signal.kind,
                time_into_red_s=round(into, 3) if found.phase.phase == "red" and into else None,
                amber_duration_s=found.phase.amber_s,
            )
            summary = f"DON'T WALK ({found.phase.phase})"
        self._open_case(
            kind="jaywalk",
            reason=reason,
            track_id=track_id,
            points=points,
            at_s=found.entered_s,
            key_times={"entered": found.entered_s, "on_road": found.cited_s},
            signal=signal,
            speed=found.speed_px_s,
            rule=found.zone_id,
            approach=next(
                (c.approach for c in self.camera.geometry.crosswalks if c.id == found.zone_id),
                None,
            ),
            summary=f"{summary} in {found.zone_id}",
            facts={
                "zone": found.zone_id,
                "reason": found.reason,
                "entered_s": found.entered_s,
                "cited_s": found.cited_s,
                "distance_px": found.distance_px,
            },
        )

    def _open_case(
        self,
        *,
        kind: str,
        reason: Reason,
        track_id: int,
        points: list[TrackPoint],
        at_s: float,
        key_times: dict[str, float],
        signal: SignalSnapshot | None,
        speed: float,
        rule: str,
        approach: str | None,
        summary: str,
        facts: dict[str, Any],
    ) -> None:
        captured_at = self.stream_start + timedelta(seconds=at_s)
        vid = violation_id(self.camera.id, kind, track_id, captured_at)
        kmh = None
        if self.to_ground is not None:
            measured = ground_speed_kmh(points, at_s, self.to_ground)
            kmh = None if measured is None else round(measured, 1)
        self.pending[vid] = {
            "violation_id": vid,
            "kind": kind,
            "reason": reason,
            "camera_id": self.camera.id,
            "occurred_at": captured_at,
            "track_id": track_id,
            "object_class": self.classes[track_id],
            "signal": signal,
            "speed_px_s": round(speed, 1),
            "speed_kmh": kmh,
            "rule": rule,
            "stream_s": round(at_s, 3),
            "where_px": ground_point(min(points, key=lambda p: abs(p.t - at_s)).box),
        }
        self.recorder.open_case(
            Case(
                violation_id=vid,
                at_s=at_s,
                key_times=key_times,
                track=points,
                live=None if approach is None else partial(self._live, approach),
                data_bar=(
                    f"{self.camera.id} {self.camera.location} | {summary}"
                    f"{'' if kmh is None else f' | {kmh:.0f} km/h'} | track {track_id}"
                ),
                facts={
                    "kind": kind,
                    "camera_id": self.camera.id,
                    "location": self.camera.location,
                    "occurred_at": captured_at.isoformat(),
                    "speed_px_s": speed,
                    "speed_kmh": kmh,
                    "tracker": self.tracker.name,
                    "camera_setup": self.camera.setup_record(),
                    **facts,
                },
            )
        )

    def _live(self, approach: str, t: float) -> str:
        """The approach's signal at stream time `t`, for that frame's data bar."""
        return live_label(self.signals.phase_at(approach, t), t)

    def _emit(self, package: Package) -> None:
        fields = self.pending.pop(package.violation_id)
        refs = [
            EvidenceRef(sha256=f.sha256, role=f.role, media_type=f.media_type)
            for f in package.files
        ]
        self.publish(
            ViolationDetected(**fields, evidence=refs, manifest_sha256=package.manifest_sha256)
        )
        self.stats.violations += 1
