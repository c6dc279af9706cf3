"""`stopline camera check`: what the detect stage sees of a camera, drawn on its own frames.

Setting up a camera is drawing lines on the paint and zones on the road; a mistake there
silently cites nobody (or the wrong road user). So the check runs the real detect stage on the
camera's source (geometry, detector, tracker, road users, signal source as configured, evidence
into a throw-away folder) and, at the asked stream times, writes a PNG with every line, zone
and signal head, the phase each head reads, the detections (dropped ones dashed) and the road
users with their ground point and trail.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np

from detectors.objects import Detection
from detectors.plausible_boxes import PlausibleBoxes
from detectors.signals import VisionSignal
from detectors.sources import Frame
from detectors.tracking import ByteTrackTracker
from pipeline.config import CameraConfig, StoplineConfig
from pipeline.events import ViolationDetected
from pipeline.evidence import EvidenceStore, load_or_create_key
from pipeline.geometry import ground_point
from stopline.camera_run import CameraRun

START = datetime(2000, 1, 1, tzinfo=UTC)
"""Stream clock origin of a check: only stream times are shown."""
PHASE_BGR = {
    "red": (40, 40, 230),
    "amber": (0, 190, 255),
    "green": (80, 200, 60),
    "unknown": (200, 200, 200),
}
STOP_BGR, ENTRY_BGR, ZEBRA_BGR, ROAD_BGR, ZONE_BGR = (
    (0, 0, 255),
    (0, 140, 255),
    (255, 255, 255),
    (160, 160, 160),
    (90, 220, 90),
)
TRAIL_S = 3.0


@dataclass
class Shot:
    t_s: float
    path: Path
    phases: dict[str, str]
    detections: int
    dropped: int
    road_users: int


@dataclass
class CheckResult:
    shots: list[Shot] = field(default_factory=list)
    events: list[ViolationDetected] = field(default_factory=list)
    frames: int = 0


def check_camera(
    config: StoplineConfig,
    camera: CameraConfig,
    at_s: Sequence[float],
    out_dir: Path,
    base_dir: Path,
) -> CheckResult:
    """Run the camera's detect stage up to the last of `at_s` and draw the frame at each."""
    wanted = sorted(set(at_s)) or [0.0]
    out_dir.mkdir(parents=True, exist_ok=True)
    result = CheckResult()
    with tempfile.TemporaryDirectory(prefix="stopline-check-") as scratch:
        store = EvidenceStore(Path(scratch), load_or_create_key(Path(scratch) / "key.pem"))
        run = CameraRun(config, camera, store, result.events.append, base_dir, START)

        def frames() -> Iterator[Frame]:
            pending = list(wanted)
            for frame in run.frames:
                yield frame  # the stage has handled it when the next one is asked for
                result.frames += 1
                while pending and frame.t >= pending[0] - 1e-6:
                    pending.pop(0)
                    result.shots.append(_shoot(run, camera, frame, out_dir))
                if not pending:
                    return

        try:
            run.stage.process(frames())
        finally:
            run.close()
    return result


def _shoot(run: CameraRun, camera: CameraConfig, frame: Frame, out_dir: Path) -> Shot:
    image = frame.image.copy()
    geo = camera.geometry
    for zone in geo.detection_zones:
        _polygon(image, zone.polygon, ZONE_BGR, zone.id)
    for road in geo.carriageways:
        _polygon(image, road.polygon, ROAD_BGR, road.id)
    for zebra in geo.crosswalks:
        _polygon(image, zebra.polygon, ZEBRA_BGR, zebra.id)
    for stop in geo.stop_lines:
        _line(image, stop.points, STOP_BGR, f"{stop.id} ({stop.direction})", thickness=2)
    for entry in geo.entry_lines:
        _line(image, entry.points, ENTRY_BGR, entry.id, thickness=1)
    phases = {}
    approaches = {s.approach for s in geo.stop_lines} | {h.approach for h in geo.signal_heads}
    for approach in sorted(approaches):
        phases[approach] = run.signals.phase_at(approach, frame.t).phase
    for head in geo.signal_heads:
        x, y, w, h = head.roi_px
        vision = isinstance(run.signals, VisionSignal)
        shown = run.signals.read(frame.image, head) if vision else phases[head.approach]
        cv2.rectangle(image, (x, y), (x + w, y + h), PHASE_BGR[shown], 2)
        for lamp in head.lamps:
            cv2.circle(image, lamp.centre_px, lamp.radius_px + 1, PHASE_BGR[lamp.colour], 1)
        _label(image, f"{head.id}: {shown}", (x, y + h + 14), PHASE_BGR[shown])
    kept, dropped = _detections(run)
    for d in kept:
        cv2.rectangle(image, _pt(d.x1, d.y1), _pt(d.x2, d.y2), (255, 200, 0), 1)
    for d in dropped:
        _dashed_box(image, (d.x1, d.y1, d.x2, d.y2), (180, 0, 255))
        _label(image, f"dropped {d.class_name}", _pt(d.x1, d.y2 + 12), (180, 0, 255))
    users = [k for k, pts in run.stage.tracks.items() if pts[-1].t == frame.t]
    for track_id in users:
        points = run.stage.tracks[track_id]
        box = points[-1].box
        cv2.rectangle(image, _pt(box[0], box[1]), _pt(box[2], box[3]), (0, 255, 255), 2)
        trail = [_pt(*ground_point(p.box)) for p in points if p.t >= frame.t - TRAIL_S]
        cv2.polylines(image, [np.array(trail, np.int32)], False, (0, 255, 255), 1)
        cv2.circle(image, trail[-1], 3, (0, 0, 255), -1)
        name = run.stage.classes.get(track_id, "?")
        _label(image, f"{track_id} {name}", _pt(box[0], box[1] - 4), (0, 255, 255))
    status = "  ".join(f"{a}: {p}" for a, p in phases.items()) or "no approach"
    _label(image, f"{camera.id}  t={frame.t:.2f} s  {status}", (6, 18), (255, 255, 255))
    path = out_dir / f"{camera.id}-at-{frame.t:07.2f}s.png"
    cv2.imwrite(str(path), image)
    return Shot(frame.t, path, phases, len(kept), len(dropped), len(users))


def _detections(run: CameraRun) -> tuple[list[Detection], list[Detection]]:
    tracker = run.stage.tracker
    detector = tracker.detector if isinstance(tracker, ByteTrackTracker) else None
    return detector.last if isinstance(detector, PlausibleBoxes) else ([], [])


def _pt(x: float, y: float) -> tuple[int, int]:
    return round(x), round(y)


def _label(image: np.ndarray, text: str, at: tuple[int, int], colour: tuple[int, int, int]) -> None:
    cv2.putText(image, text, at, cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(image, text, at, cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1, cv2.LINE_AA)


def _polygon(image: np.ndarray, polygon, colour: tuple[int, int, int], name: str) -> None:
    points = np.array([_pt(x, y) for x, y in polygon], np.int32)
    cv2.polylines(image, [points], True, colour, 1, cv2.LINE_AA)
    x, y = points.min(axis=0)
    _label(image, name, (max(int(x), 0) + 4, max(int(y), 0) + 14), colour)


def _line(image, points, colour: tuple[int, int, int], name: str, thickness: int) -> None:
    a, b = (_pt(*p) for p in points)
    cv2.line(image, a, b, colour, thickness, cv2.LINE_AA)
    _label(image, name, (min(a[0], b[0]) + 4, min(a[1], b[1]) - 6), colour)


def _dashed_box(image: np.ndarray, box, colour: tuple[int, int, int], dash: int = 6) -> None:
    x1, y1, x2, y2 = (round(v) for v in box)
    for x in range(x1, x2, 2 * dash):
        for y in (y1, y2):
            cv2.line(image, (x, y), (min(x + dash, x2), y), colour, 1)
    for y in range(y1, y2, 2 * dash):
        for x in (x1, x2):
            cv2.line(image, (x, y), (x, min(y + dash, y2)), colour, 1)
