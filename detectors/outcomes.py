"""What a rule's final outcome becomes: a case, or a crossing a safeguard kept from being cited.

Both get the same evidence from the same code (key frames and a clip with the data bar and the
road user's box, crops, a signed manifest of facts) and go out as one event each once their
package is made: a case as `ViolationDetected` on `violations`, a suppressed crossing as
`ViolationSuppressed` on `violations.suppressed`, which only the supervisors' record reads, so
no safeguard's crossing can ever become a citation.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from detectors.evidence import Case, EvidenceRecorder, Package
from detectors.phases import PhaseState
from detectors.rules import (
    JaywalkFinding,
    RedLightFinding,
    Suppressed,
    TrackPoint,
    ground_speed_kmh,
    speed_px_s,
)
from detectors.signals import PhaseSource
from pipeline.config import CameraConfig, RulesConfig
from pipeline.events import (
    EvidenceRef,
    Reason,
    SignalSnapshot,
    ViolationDetected,
    ViolationSuppressed,
    derived_id,
)
from pipeline.geometry import ground_point, homography, on_ground

log = logging.getLogger(__name__)

HOUR_S = 3600.0
Emitted = ViolationDetected | ViolationSuppressed


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


def suppressed_id(camera_id: str, kind: str, track_id: int, captured_at: datetime) -> str:
    """A suppressed crossing's event id, deterministic as a violation's: a replay of the same
    footage re-publishes it and the record keeps it once."""
    return derived_id("suppressed", camera_id, kind, str(track_id), captured_at.isoformat())


def _red_summary(found: RedLightFinding) -> str:
    if found.phase.onset_s is None:
        return f"RED >= {found.time_into_red_s:.2f}s (onset before view, amber not measured)"
    return f"RED +{found.time_into_red_s:.2f}s (amber {found.phase.amber_s}s)"


@dataclass
class StageStats:
    frames: int = 0
    violations: int = 0
    suppressed: list[str] = field(default_factory=list)


class Outcomes:
    """One camera's cases and suppressed crossings, from finding to published event."""

    def __init__(
        self,
        camera: CameraConfig,
        rules: RulesConfig,
        signals: PhaseSource,
        recorder: EvidenceRecorder,
        publish: Callable[[ViolationDetected], None],
        publish_suppressed: Callable[[ViolationSuppressed], None] | None,
        stream_start: datetime,
        tracker_name: str,
        stats: StageStats,
    ) -> None:
        """`publish_suppressed` takes the suppressed crossings; without it they are only
        counted and logged, and no evidence is made of them."""
        self.camera = camera
        self.rules = rules
        self.signals = signals
        self.recorder = recorder
        self.publish = publish
        self.publish_suppressed = publish_suppressed
        self.stream_start = stream_start
        self.tracker_name = tracker_name
        self.stats = stats
        self.pending: dict[str, tuple[type[Emitted], dict[str, Any]]] = {}
        """Events waiting for their evidence package, by case id: the type and its fields."""
        self.suppressed_kept: deque[float] = deque()
        """Stream times of the suppressed crossings given evidence in the last hour."""
        calibration = camera.ground_calibration
        self.to_ground: Callable[[tuple[float, float]], tuple[float, float] | None] | None = None
        """Image to road-plane metres, where the camera is calibrated: speeds in km/h."""
        if calibration is not None:
            image = [(float(x), float(y)) for x, y in calibration.image_points]
            self.to_ground = partial(on_ground, homography(image, calibration.ground_points_m))

    def red_light(
        self, track_id: int, object_class: str, points: list[TrackPoint], found: RedLightFinding
    ) -> None:
        self._open_case(
            kind="red_light",
            reason="stop_line_on_red",
            track_id=track_id,
            object_class=object_class,
            points=points,
            at_s=found.crossed_stop_s,
            key_times={"stop_line": found.crossed_stop_s, "entry_line": found.crossed_entry_s},
            signal=self._snapshot(found.phase, found.committed_s, self.rules.red_light.grace_s),
            speed=found.speed_px_s,
            rule=found.stop_line_id,
            summary=_red_summary(found),
            facts={
                "stop_line": found.stop_line_id,
                "crossed_stop_s": found.crossed_stop_s,
                "crossed_entry_s": found.crossed_entry_s,
                "time_into_red_s": found.time_into_red_s,
                "amber_s": found.phase.amber_s,
            },
        )

    def jaywalk(
        self, track_id: int, object_class: str, points: list[TrackPoint], found: JaywalkFinding
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
            object_class=object_class,
            points=points,
            at_s=found.entered_s,
            key_times={"entered": found.entered_s, "on_road": found.cited_s},
            signal=signal,
            speed=found.speed_px_s,
            rule=found.zone_id,
            summary=f"{summary} in {found.zone_id}",
            facts={
                "zone": found.zone_id,
                "reason": found.reason,
                "entered_s": found.entered_s,
                "cited_s": found.cited_s,
                "distance_px": found.distance_px,
            },
        )

    def suppressed(
        self,
        kind: str,
        track_id: int,
        object_class: str,
        points: list[TrackPoint],
        found: Suppressed,
    ) -> None:
        """Log and count a suppressed crossing; where someone takes them, publish it with the
        evidence a case would have had (while `rules.suppressed_evidence` allows)."""
        note = f"track {track_id} at {found.stop_line_id}: {found.reason}"
        self.stats.suppressed.append(note)
        log.info("citation suppressed on %s: %s", self.camera.id, note)
        if self.publish_suppressed is None:
            return
        at_s = found.crossed_stop_s
        captured_at = self.stream_start + timedelta(seconds=at_s)
        sid = suppressed_id(self.camera.id, kind, track_id, captured_at)
        grace = self.rules.red_light.grace_s if kind == "red_light" else None
        fields: dict[str, Any] = {
            "event_id": sid,
            "kind": kind,
            "safeguard": found.safeguard,
            "reason": found.reason,
            "camera_id": self.camera.id,
            "occurred_at": captured_at,
            "track_id": track_id,
            "object_class": object_class,
            "rule": found.stop_line_id,
            "signal": self._snapshot(found.phase, found.judged_s, grace),
            "judged_s": round(found.judged_s, 3),
            "stream_s": round(at_s, 3),
            "where_px": _where(points, at_s),
        }
        if not self._keeps_suppressed_evidence(at_s):
            self.publish_suppressed(ViolationSuppressed(**fields))
            return
        self.pending[sid] = (ViolationSuppressed, fields)
        moments = {"stop_line" if kind == "red_light" else "entered": at_s}
        if abs(found.judged_s - at_s) > 0.5 / self.camera.analysis_fps:
            moments["judged"] = found.judged_s
        self._record(
            sid,
            kind=kind,
            rule=found.stop_line_id,
            track_id=track_id,
            points=points,
            at_s=at_s,
            key_times=moments,
            summary=f"NOT CITED: {found.reason} at {found.stop_line_id}",
            speed=speed_px_s(points, at_s),
            kmh=self._kmh(points, at_s),
            facts={
                "suppressed": True,
                "safeguard": found.safeguard,
                "reason": found.reason,
                "rule": found.stop_line_id,
                "crossed_s": at_s,
                "judged_s": found.judged_s,
            },
        )

    def publish_finished(self, packages: list[Package]) -> None:
        """Publish the events whose evidence the recorder has finished."""
        for package in packages:
            self._emit(package)

    def _open_case(
        self,
        *,
        kind: str,
        reason: Reason,
        track_id: int,
        object_class: str,
        points: list[TrackPoint],
        at_s: float,
        key_times: dict[str, float],
        signal: SignalSnapshot | None,
        speed: float,
        rule: str,
        summary: str,
        facts: dict[str, Any],
    ) -> None:
        captured_at = self.stream_start + timedelta(seconds=at_s)
        vid = violation_id(self.camera.id, kind, track_id, captured_at)
        kmh = self._kmh(points, at_s)
        self.pending[vid] = (
            ViolationDetected,
            {
                "violation_id": vid,
                "kind": kind,
                "reason": reason,
                "camera_id": self.camera.id,
                "occurred_at": captured_at,
                "track_id": track_id,
                "object_class": object_class,
                "signal": signal,
                "speed_px_s": round(speed, 1),
                "speed_kmh": kmh,
                "rule": rule,
                "stream_s": round(at_s, 3),
                "where_px": _where(points, at_s),
            },
        )
        self._record(
            vid,
            kind=kind,
            rule=rule,
            track_id=track_id,
            points=points,
            at_s=at_s,
            key_times=key_times,
            summary=summary,
            speed=speed,
            kmh=kmh,
            facts=facts,
        )

    def _record(
        self,
        case_id: str,
        *,
        kind: str,
        rule: str,
        track_id: int,
        points: list[TrackPoint],
        at_s: float,
        key_times: dict[str, float],
        summary: str,
        speed: float,
        kmh: float | None,
        facts: dict[str, Any],
    ) -> None:
        """Open the evidence package of a case or a suppressed crossing: key frames, clip and
        crops with the data bar and the road user's box, the signed manifest of facts."""
        geo = self.camera.geometry
        lines = geo.stop_lines if kind == "red_light" else geo.crosswalks
        # None off every crosswalk (a walk on the carriageway), and at an unsignalised one.
        approach = next((g.approach for g in lines if g.id == rule), None)
        captured_at = self.stream_start + timedelta(seconds=at_s)
        self.recorder.open_case(
            Case(
                violation_id=case_id,
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
                    "tracker": self.tracker_name,
                    "camera_setup": self.camera.setup_record(),
                    **facts,
                },
            )
        )

    def _keeps_suppressed_evidence(self, at_s: float) -> bool:
        """Within `rules.suppressed_evidence`: kept at all, and under the hour's cap."""
        policy = self.rules.suppressed_evidence
        kept = self.suppressed_kept
        while kept and kept[0] <= at_s - HOUR_S:
            kept.popleft()
        if not policy.keep or len(kept) >= policy.max_per_hour:
            return False
        kept.append(at_s)
        return True

    def _snapshot(self, state: PhaseState, t: float, grace_s: float | None) -> SignalSnapshot:
        """The signal when a rule judged at `t`; time into red is a lower bound where red began
        before the source saw it."""
        into = state.time_in_phase(t)
        onset_seen = into is not None
        if into is None and state.seen_since_s is not None:
            into = t - state.seen_since_s
        return SignalSnapshot(
            phase=state.phase,
            source=self.camera.signal.kind,
            time_into_red_s=round(into, 3) if state.phase == "red" and into is not None else None,
            amber_duration_s=state.amber_s,
            red_onset_seen=onset_seen or state.phase != "red",
            grace_s=grace_s,
        )

    def _kmh(self, points: list[TrackPoint], at_s: float) -> float | None:
        if self.to_ground is None:
            return None
        measured = ground_speed_kmh(points, at_s, self.to_ground)
        return None if measured is None else round(measured, 1)

    def _live(self, approach: str, t: float) -> str:
        """The approach's signal at stream time `t`, for that frame's data bar."""
        return live_label(self.signals.phase_at(approach, t), t)

    def _emit(self, package: Package) -> None:
        kind, fields = self.pending.pop(package.violation_id)
        refs = [
            EvidenceRef(sha256=f.sha256, role=f.role, media_type=f.media_type)
            for f in package.files
        ]
        event = kind(**fields, evidence=refs, manifest_sha256=package.manifest_sha256)
        if isinstance(event, ViolationSuppressed):
            assert self.publish_suppressed is not None  # evidence is made only for a taker
            self.publish_suppressed(event)
            return
        self.publish(event)
        self.stats.violations += 1


def _where(points: list[TrackPoint], at_s: float) -> tuple[float, float]:
    """The road user's ground point in the frame nearest `at_s`."""
    return ground_point(min(points, key=lambda p: abs(p.t - at_s)).box)
