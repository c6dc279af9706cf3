"""One camera's detect stage wired to its source, recording, signal phases, tracker and evidence."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TypeVar

import cv2

from detectors.evidence import EVIDENCE_WINDOW_S, EvidenceRecorder
from detectors.objects import ZoomedDetector, make_detector
from detectors.outcomes import StageStats
from detectors.plausible_boxes import PlausibleBoxes
from detectors.recording import FileRecording, LiveRecording, open_recording
from detectors.signals import phase_source
from detectors.sources import Frame, ReconnectingReader, SourceStats, local_path, open_source
from detectors.stage import DetectStage
from detectors.tracking import ByteTrackTracker, Tracker
from detectors.video_files import recorded_at
from pipeline.config import CameraConfig, StoplineConfig, is_live
from pipeline.events import ViolationDetected, ViolationSuppressed
from pipeline.evidence import EvidenceStore
from pipeline.outages import until_back

E = TypeVar("E", ViolationDetected, ViolationSuppressed)


def make_tracker(camera: CameraConfig, config: StoplineConfig) -> Tracker:
    """ByteTrack over the configured detector; one detector per camera, as each holds one
    inference request.
    """
    detector = make_detector(config.detector)
    if camera.zoom_windows_px:
        detector = ZoomedDetector(detector, camera.zoom_windows_px, config.detector.nms_iou)
    detector = PlausibleBoxes(detector, camera.max_box_share, camera.geometry.detection_zones)
    return ByteTrackTracker(
        detector,
        frame_rate=camera.analysis_fps,
        **config.tracking.model_dump(),
    )


log = logging.getLogger(__name__)


class CameraRun:
    """One camera's source, signal source and detect stage, stoppable from another thread."""

    def __init__(
        self,
        config: StoplineConfig,
        camera: CameraConfig,
        evidence: EvidenceStore,
        publish: Callable[[ViolationDetected], None],
        base_dir: Path,
        start: datetime | None = None,
        suppressed: Callable[[ViolationSuppressed], None] | None = None,
    ) -> None:
        """`suppressed` takes the crossings a safeguard kept from being cited; without it they
        are only counted (`stopline detect`, `stopline camera check`)."""
        self.camera = camera
        self.start = start or capture_start(camera, base_dir)
        self._stop = threading.Event()
        self.source_stats = SourceStats()
        self.frames = open_source(
            camera.source,
            camera.analysis_fps,
            self.start,
            self.source_stats,
            base_dir,
            camera.stream,
        )
        self.recording: LiveRecording | FileRecording | None = None
        if camera.evidence_source is not None:
            self.recording = open_recording(
                camera.evidence_source,
                self.frames,
                EVIDENCE_WINDOW_S,
                self.start,
                base_dir,
                SourceStats(),
                camera.stream,
            )
        self.signals = phase_source(camera, self.start, config.rules.red_light.min_amber_s)
        self.stage = DetectStage(
            camera=camera,
            rules=config.rules,
            tracker=make_tracker(camera, config),
            signals=self.signals,
            recorder=EvidenceRecorder(
                evidence, camera.analysis_fps, footage=self.recording, stop=self._stop
            ),
            publish=partial(self._publish, publish),
            stream_start=self.start,
            publish_suppressed=None if suppressed is None else partial(self._publish, suppressed),
        )

    def run(self, stop: threading.Event, advance: Callable[[], None] | None = None) -> StageStats:
        """Process frames until the source ends or `stop` is set."""

        def frames() -> Iterator[Frame]:
            for frame in self.frames:
                if stop.is_set():
                    return
                yield frame
                if advance is not None:
                    advance()

        if isinstance(self.recording, LiveRecording):
            self.recording.start()
        stats = self.stage.process(frames())
        if self.source_stats.incomplete:
            log.warning("camera %s: %s", self.camera.id, self.source_stats.incomplete)
        return stats

    def _publish(self, publish: Callable[[E], None], event: E) -> None:
        """A case (or suppressed crossing) waits, with its camera, while the bus is away: it
        has no other copy."""
        name = event.violation_id if isinstance(event, ViolationDetected) else event.event_id
        what = f"camera {self.camera.id}: publishing {name}"
        until_back(partial(publish, event), self._stop, what)

    def close(self) -> None:
        """Stop waiting for the bus or the evidence disk, and unblock a live stream's readers;
        files end by themselves."""
        self._stop.set()
        for reader in (self.frames, self.recording):
            if isinstance(reader, ReconnectingReader):
                reader.close()


def capture_start(camera: CameraConfig, base_dir: Path) -> datetime:
    """When the source's first frame was filmed: now for a live stream; for footage, the
    configured `recorded_at` or the file's own time, so that processing the same footage again
    (a restart after a crash) gives the same capture times and violation ids: no new case."""
    if camera.recorded_at is not None:
        return camera.recorded_at
    path = local_path(camera.source, base_dir)
    if is_live(camera.source) or not path.exists():  # a missing file fails when it is opened
        return datetime.now(UTC)
    return recorded_at(path)


def frame_count(path: Path, analysis_fps: float) -> float | None:
    if not path.is_file():
        return None
    cap = cv2.VideoCapture(str(path))
    try:
        frames, fps = cap.get(cv2.CAP_PROP_FRAME_COUNT), cap.get(cv2.CAP_PROP_FPS)
    finally:
        cap.release()
    if frames <= 0 or fps <= 0:
        return None
    return frames / fps * min(analysis_fps, fps)
