"""Process wiring: the same stage objects run in one process (`run`) or one per worker.

This module only connects things: config -> bus, store, evidence store -> stages -> consumers.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import cv2
from rich.console import Console
from rich.progress import Progress, TaskID
from rich.table import Table
from sqlalchemy import func, select

from detectors.evidence import EvidenceRecorder
from detectors.identify import IdentifyStage
from detectors.signals import UNKNOWN, FixedPlan, PhaseState
from detectors.sources import Frame, SourceStats, open_source
from detectors.stage import DetectStage
from detectors.tracking import Tracker
from pipeline.bus import DEAD_LETTER_TOPIC, Consumer, make_bus
from pipeline.config import CameraConfig, StoplineConfig
from pipeline.events import VIOLATIONS, VIOLATIONS_IDENTIFIED, Event, ViolationDetected
from pipeline.evidence import EvidenceStore, load_or_create_key
from pipeline.store import open_store
from pipeline.store.models import Citation
from pipeline.store.registry import put_camera
from review.policy import AutoReviewer
from stopline.demo.scripted import ScriptedTracker

log = logging.getLogger(__name__)

STAGES = ("detect", "identify", "review-policy")


def resolve_sqlite(url: str, base_dir: Path) -> str:
    """A relative SQLite path in the config is relative to the run's base folder."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/"):
        return prefix + str((base_dir / url[len(prefix) :]).resolve())
    return url


def make_tracker(camera: CameraConfig, base_dir: Path) -> Tracker:
    """The tracker for a camera.

    Object detection with ByteTrack is issue 3; today only a source that ships its own ground
    truth (`<source>.truth.json`, as the demo scene does) can be tracked, and anything else
    stops with a plain error instead of running blind.
    """
    truth = (base_dir / camera.source).with_suffix(".truth.json")
    if truth.is_file():
        return ScriptedTracker(truth)
    raise RuntimeError(
        f"camera {camera.id}: no object detector is available yet for {camera.source}; "
        "only sources with a ground-truth track file can be processed in this version"
    )


def phase_source(camera: CameraConfig) -> Callable[[str, float], PhaseState]:
    """Phase lookup for a camera; sources not wired yet report `unknown`, which cites no one."""
    if camera.signal.kind == "fixed_plan":
        return FixedPlan(camera.signal).phase_at

    def unknown(_approach: str, _t: float) -> PhaseState:
        return UNKNOWN

    return unknown


@dataclass
class Summary:
    frames: int = 0
    corrupt_frames: int = 0
    violations: int = 0
    suppressed: list[str] = field(default_factory=list)
    citations: Counter[str] = field(default_factory=Counter)
    dead_letters: int = 0

    def print(self, console: Console) -> None:
        table = Table(title="stopline run", show_header=False)
        table.add_row("frames analysed", str(self.frames))
        table.add_row("corrupt frames skipped", str(self.corrupt_frames))
        table.add_row("violations detected", str(self.violations))
        table.add_row("citations suppressed (signal)", str(len(self.suppressed)))
        for status, count in sorted(self.citations.items()):
            table.add_row(f"citations {status}", str(count))
        table.add_row("dead letters", str(self.dead_letters))
        console.print(table)


class Pipeline:
    def __init__(self, config: StoplineConfig, base_dir: Path) -> None:
        self.config = config
        self.base_dir = base_dir
        self.bus = make_bus(config.bus.kind, config.bus.bootstrap_servers, config.bus.client_id)
        self.store = open_store(resolve_sqlite(config.storage.database_url, base_dir))
        key = load_or_create_key(base_dir / config.storage.signing_key_path)
        self.evidence = EvidenceStore(base_dir / config.storage.evidence_dir, key)
        with self.store.session() as session:
            for cam in config.cameras:
                put_camera(session, cam.id, cam.id, cam.location)
        self.identify = IdentifyStage(self.store, self.bus, config.identification)
        self.reviewer = AutoReviewer(self.store, self.bus, config.review)
        self.dead_letters = 0

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.bus.close()
        self.store.close()

    def _consumer(self, stage: str) -> Consumer:
        attempts = self.config.bus.max_attempts
        if stage == "identify":
            return self.bus.subscribe(
                VIOLATIONS, IdentifyStage.group, self.identify.handle, max_attempts=attempts
            )
        if stage == "review-policy":
            self.reviewer.ensure_user()
            return self.bus.subscribe(
                VIOLATIONS_IDENTIFIED,
                AutoReviewer.group,
                self.reviewer.handle,
                max_attempts=attempts,
            )
        raise ValueError(f"stage {stage!r} does not consume")

    def detect(
        self, camera: CameraConfig, progress: Progress | None = None
    ) -> tuple[SourceStats, DetectStage]:
        stats = SourceStats()
        start = datetime.now(UTC)
        frames = open_source(camera.source, camera.analysis_fps, start, stats, self.base_dir)
        stage = DetectStage(
            camera=camera,
            rules=self.config.rules,
            tracker=make_tracker(camera, self.base_dir),
            phase_at=phase_source(camera),
            recorder=EvidenceRecorder(self.evidence, camera.analysis_fps),
            publish=self._publish_violation,
            stream_start=start,
        )
        if progress is not None:
            total = _frame_count(self.base_dir / camera.source, camera.analysis_fps)
            task = progress.add_task(f"camera {camera.id}", total=total)
            frames = _advancing(frames, progress, task)
        stage.process(frames)
        return stats, stage

    def _publish_violation(self, event: ViolationDetected) -> None:
        self.bus.publish(VIOLATIONS, event.camera_id, event)

    def run_all(self, progress: Console | None = None) -> Summary:
        """Run every camera to the end of its source, then drain the downstream stages."""
        consumers = [self._consumer(s) for s in ("identify", "review-policy")]
        dead = self.bus.subscribe(DEAD_LETTER_TOPIC, "run-summary", self._count_dead_letter)
        consumers.append(dead)
        summary = Summary()
        stop = threading.Event()
        threads = [threading.Thread(target=c.run, args=(stop,), daemon=True) for c in consumers]
        for thread in threads:
            thread.start()
        try:
            with Progress(console=progress, disable=progress is None, transient=True) as bar:
                for camera in self.config.cameras:
                    stats, stage = self.detect(camera, bar)
                    summary.frames += stats.analysed
                    summary.corrupt_frames += stats.corrupt
                    summary.violations += stage.stats.violations
                    summary.suppressed += stage.stats.suppressed
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        try:
            _drain(consumers)
        finally:
            for consumer in consumers:
                consumer.close()
        summary.dead_letters = self.dead_letters
        with self.store.session() as session:
            rows = session.execute(select(Citation.status, func.count()).group_by(Citation.status))
            summary.citations = Counter({status: n for status, n in rows})
        return summary

    def _count_dead_letter(self, _event: Event) -> None:
        self.dead_letters += 1

    def run_worker(self, stage: str) -> None:
        """One stage until SIGINT/SIGTERM; detect runs its cameras to the end of their sources."""
        if stage == "detect":
            for camera in self.config.cameras:
                self.detect(camera)
            return
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        consumer = self._consumer(stage)
        try:
            consumer.run(stop)
        finally:
            consumer.close()


def _drain(consumers: list[Consumer]) -> None:
    """Poll until a full round handles nothing: every stage has caught up with the others."""
    while sum(c.poll(0.05) for c in consumers):
        pass


def _frame_count(path: Path, analysis_fps: float) -> float | None:
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


def _advancing(frames: Iterator[Frame], progress: Progress, task: TaskID) -> Iterator[Frame]:
    for frame in frames:
        yield frame
        progress.advance(task)
