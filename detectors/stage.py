"""The detect stage for one camera: frames in, ViolationDetected events out.

Track histories, rule evaluation and evidence recording meet here; everything this stage says to
the rest of the system goes out as events on the bus, with evidence referenced by hash.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from detectors.evidence import Case, EvidenceRecorder, Package
from detectors.rules import RedLightFinding, Suppressed, TrackPoint, red_light
from detectors.signals import PhaseState
from detectors.sources import Frame
from detectors.tracking import Tracker
from pipeline.config import CameraConfig, RulesConfig
from pipeline.events import EvidenceRef, SignalSnapshot, ViolationDetected, derived_id

log = logging.getLogger(__name__)

VEHICLE_CLASSES = {"car", "motorcycle", "bus", "truck", "bicycle"}


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
        phase_at: Callable[[str, float], PhaseState],
        recorder: EvidenceRecorder,
        publish: Callable[[ViolationDetected], None],
        stream_start: datetime,
    ) -> None:
        self.camera = camera
        self.rules = rules
        self.tracker = tracker
        self.phase_at = phase_at
        self.recorder = recorder
        self.publish = publish
        self.stream_start = stream_start
        self.tracks: dict[int, list[TrackPoint]] = {}
        self.classes: dict[int, str] = {}
        self.decided: set[tuple[int, str]] = set()
        self.pending: dict[str, dict[str, Any]] = {}
        self.stats = StageStats()

    def process(self, frames: Iterable[Frame]) -> StageStats:
        for frame in frames:
            self._on_frame(frame)
        for package in self.recorder.flush():
            self._emit(package)
        return self.stats

    def _on_frame(self, frame: Frame) -> None:
        self.stats.frames += 1
        for obj in self.tracker.update(frame):
            self.tracks.setdefault(obj.track_id, []).append(TrackPoint(frame.t, obj.box))
            self.classes[obj.track_id] = obj.object_class
        for package in self.recorder.add_frame(frame):
            self._emit(package)
        self._evaluate_red_light()

    def _evaluate_red_light(self) -> None:
        rule = self.rules.red_light
        if not rule.enabled:
            return
        geo = self.camera.geometry
        for track_id, points in self.tracks.items():
            if self.classes.get(track_id) not in VEHICLE_CLASSES:
                continue
            if len(points) < self.rules.min_track_age_frames:
                continue
            for stop in geo.stop_lines:
                if (track_id, stop.id) in self.decided:
                    continue
                for entry in (e for e in geo.entry_lines if e.stop_line == stop.id):
                    result = red_light(
                        points, stop, entry, lambda t, a=stop.approach: self.phase_at(a, t), rule
                    )
                    if isinstance(result, Suppressed):
                        self.decided.add((track_id, stop.id))
                        note = f"track {track_id} at {stop.id}: {result.reason}"
                        self.stats.suppressed.append(note)
                        log.info("citation suppressed on %s: %s", self.camera.id, note)
                    elif isinstance(result, RedLightFinding):
                        self.decided.add((track_id, stop.id))
                        self._open_red_light_case(track_id, points, result)

    def _open_red_light_case(
        self, track_id: int, points: list[TrackPoint], found: RedLightFinding
    ) -> None:
        captured_at = self.stream_start + timedelta(seconds=found.crossed_stop_s)
        vid = violation_id(self.camera.id, "red_light", track_id, captured_at)
        signal = SignalSnapshot(
            phase="red",
            source=self.camera.signal.kind,
            time_into_red_s=round(found.time_into_red_s, 3),
            amber_duration_s=found.phase.amber_s,
        )
        bar = (
            f"{self.camera.id} {self.camera.location} | RED +{found.time_into_red_s:.2f}s"
            f" | {found.speed_px_s:.0f} px/s | track {track_id}"
        )
        facts = {
            "kind": "red_light",
            "camera_id": self.camera.id,
            "location": self.camera.location,
            "occurred_at": captured_at.isoformat(),
            "stop_line": found.stop_line_id,
            "crossed_stop_s": found.crossed_stop_s,
            "crossed_entry_s": found.crossed_entry_s,
            "time_into_red_s": found.time_into_red_s,
            "amber_s": found.phase.amber_s,
            "speed_px_s": found.speed_px_s,
            "tracker": self.tracker.name,
        }
        self.pending[vid] = {
            "violation_id": vid,
            "kind": "red_light",
            "camera_id": self.camera.id,
            "occurred_at": captured_at,
            "track_id": track_id,
            "object_class": self.classes[track_id],
            "signal": signal,
            "speed_px_s": round(found.speed_px_s, 1),
            "rule": found.stop_line_id,
        }
        self.recorder.open_case(
            Case(
                violation_id=vid,
                at_s=found.crossed_stop_s,
                key_times={"stop_line": found.crossed_stop_s, "entry_line": found.crossed_entry_s},
                track=points,
                data_bar=bar,
                facts=facts,
            )
        )

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
