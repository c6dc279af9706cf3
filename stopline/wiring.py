"""Process wiring: the same stage objects run in one process (`run`) or one per worker.

This module only connects things: config -> bus, store, evidence store -> stages -> consumers.
"""

from __future__ import annotations

import logging
import re
import signal
import socket
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, partial
from pathlib import Path
from types import TracebackType

from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import func, select

from detectors.signals import ControllerFeed
from display.billboards import Billboards
from display.outputs import make_output
from display.player import ScreenPlayer, wake
from display.stage import DisplayStage
from identify.people import PeopleFinder
from identify.stage import IdentifyStage
from notifier.gateways import make_gateway
from notifier.sender import Sender
from notifier.stage import NoticeStage
from notifier.templates import NoticeTemplates
from pipeline.audit_checkpoints import write_checkpoint
from pipeline.bus import DEAD_LETTER_TOPIC, Consumer, kafka_security, make_bus
from pipeline.config import StoplineConfig
from pipeline.events import (
    CITATIONS_APPROVED,
    CITATIONS_DISMISSED,
    SIGNALS,
    VIOLATIONS,
    VIOLATIONS_IDENTIFIED,
    VIOLATIONS_SUPPRESSED,
    Event,
    ViolationDetected,
    ViolationSuppressed,
)
from pipeline.evidence import EvidenceStore, load_or_create_key
from pipeline.notices import load_or_create_pin_key
from pipeline.outbox import relay, relay_once
from pipeline.retention import run_retention
from pipeline.store import Store
from pipeline.store.models import Citation
from portal.stage import PortalMediaStage
from review.policy import AutoReviewer
from review.suppressed import SuppressedRecord
from stopline.camera_run import CameraRun, frame_count
from stopline.deployment import deployment_store, make_billboards, people_finder, plate_reader
from stopline.loops import Loops

log = logging.getLogger(__name__)

STAGES = (
    "detect",
    "identify",
    "review-policy",
    "review-suppressed",
    "relay",
    "notify",
    "display",
    "portal",
)
"""`relay` publishes the event outbox (decisions made in the console or by the policy),
`review-suppressed` records the crossings the safeguards kept from being cited."""


@dataclass
class Summary:
    frames: int = 0
    corrupt_frames: int = 0
    violations: int = 0
    suppressed: list[str] = field(default_factory=list)
    citations: Counter[str] = field(default_factory=Counter)
    dead_letters: int = 0

    def add(self, run: CameraRun) -> None:
        self.frames += run.source_stats.analysed
        self.corrupt_frames += run.source_stats.corrupt
        self.violations += run.stage.stats.violations
        self.suppressed += run.stage.stats.suppressed

    def print(self, console: Console) -> None:
        table = Table(title="stopline run", show_header=False)
        table.add_row("frames analysed", str(self.frames))
        table.add_row("corrupt frames skipped", str(self.corrupt_frames))
        table.add_row("violations detected", str(self.violations))
        table.add_row("citations suppressed (safeguards)", str(len(self.suppressed)))
        for status, count in sorted(self.citations.items()):
            table.add_row(f"citations {status}", str(count))
        table.add_row("dead letters", str(self.dead_letters))
        console.print(table)


class Pipeline:
    """Bus and evidence store for every stage; the database only once a stage needs it, so that
    `stopline detect` runs the detector without touching the deployment's store."""

    def __init__(self, config: StoplineConfig, base_dir: Path) -> None:
        self.config = config
        self.base_dir = base_dir
        bus = config.bus
        security = kafka_security(bus) if bus.kind == "kafka" else None
        instance = bus.instance_id or re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname())
        self.bus = make_bus(bus.kind, bus.bootstrap_servers, bus.client_id, security, instance)
        key = load_or_create_key(base_dir / config.storage.signing_key_path)
        self.evidence = EvidenceStore(base_dir / config.storage.evidence_dir, key)
        self.dead_letters = 0

    @cached_property
    def store(self) -> Store:
        return deployment_store(self.config, self.base_dir)

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.bus.close()
        if "store" in self.__dict__:
            self.store.close()

    def _consumers(self, stage: str) -> list[Consumer]:
        attempts = self.config.bus.max_attempts
        subscribe = partial(self.bus.subscribe, max_attempts=attempts)
        if stage == "identify":
            settings = self.config.identification
            plates = partial(plate_reader, settings.plates)
            identify = IdentifyStage(self.store, self.bus, settings, self.evidence, plates=plates)
            return [subscribe(VIOLATIONS, IdentifyStage.group, identify.handle)]
        if stage == "review-policy":
            reviewer = AutoReviewer(self.store, self.config.review)
            reviewer.ensure_user()
            return [subscribe(VIOLATIONS_IDENTIFIED, AutoReviewer.group, reviewer.handle)]
        if stage == "review-suppressed":
            record = SuppressedRecord(self.store)
            return [subscribe(VIOLATIONS_SUPPRESSED, SuppressedRecord.group, record.handle)]
        if stage == "notify":
            pin_key = load_or_create_pin_key(self.base_dir / self.config.storage.pin_key_path)
            notices = NoticeStage(self.store, self.config.notifier, self.templates, pin_key)
            return [subscribe(CITATIONS_APPROVED, NoticeStage.group, notices.handle)]
        if stage == "display":
            display = DisplayStage(self.billboards, partial(wake, self.players))
            return [
                subscribe(CITATIONS_APPROVED, DisplayStage.group, display.handle),
                subscribe(CITATIONS_DISMISSED, DisplayStage.recall_group, display.handle),
            ]
        if stage == "portal":
            media = PortalMediaStage(
                self.store, self.evidence, self.config.portal.media, lambda: self.people
            )
            return [subscribe(CITATIONS_APPROVED, PortalMediaStage.group, media.handle)]
        raise ValueError(f"stage {stage!r} does not consume")

    def _stages(self) -> list[str]:
        """The consuming stages `run` runs in one process."""
        stages = ["identify", "review-policy", "review-suppressed"]
        if self.config.notifier.enabled:
            stages.append("notify")
        if self.shows_billboards:
            stages.append("display")
        if self.config.portal.media.enabled:
            stages.append("portal")
        return stages

    def _side_work(self, stage: str | None) -> list[Callable[[threading.Event], None]]:
        """Loops that run beside a stage's consumers until stopped; `None`: all of `run`'s."""
        work: list[Callable[[threading.Event], None]] = []
        if stage in (None, "notify") and self.config.notifier.enabled:
            work.append(self.sender.run)
        if stage in (None, "display") and self.shows_billboards:
            work += [player.run for player in self.players]
        return work

    def detect_all(
        self,
        stop: threading.Event,
        progress: Progress | None = None,
        publish: Callable[[ViolationDetected], None] | None = None,
        start: datetime | None = None,
    ) -> list[CameraRun]:
        """Every camera at once, one thread each, until their sources end or `stop` is set.

        Live cameras never end by themselves: `stop` closes their streams. Violations and
        suppressed crossings go to the bus unless `publish` takes the violations instead; then
        suppressed crossings are only counted.
        """
        return self.run_cameras(self.camera_runs(publish, start), stop, progress)

    def camera_runs(
        self,
        publish: Callable[[ViolationDetected], None] | None = None,
        start: datetime | None = None,
    ) -> list[CameraRun]:
        suppressed = self._publish if publish is None else None
        return [
            CameraRun(
                self.config,
                camera,
                self.evidence,
                publish or self._publish,
                self.base_dir,
                start,
                suppressed,
            )
            for camera in self.config.cameras
        ]

    def run_cameras(
        self, runs: list[CameraRun], stop: threading.Event, progress: Progress | None = None
    ) -> list[CameraRun]:
        feeds = [self._signal_feed(r) for r in runs if isinstance(r.signals, ControllerFeed)]
        errors: list[BaseException] = []

        def work(run: CameraRun) -> None:
            advance = None
            if progress is not None:
                camera = run.camera
                total = frame_count(self.base_dir / camera.source, camera.analysis_fps)
                task = progress.add_task(f"camera {camera.id}", total=total)
                advance = partial(progress.advance, task)
            try:
                run.run(stop, advance)
            except BaseException as exc:  # re-raised in the caller's thread
                errors.append(exc)
                stop.set()

        threads = [threading.Thread(target=work, args=(r,), daemon=True) for r in runs]
        for thread in threads:
            thread.start()
        try:
            while any(t.is_alive() for t in threads):
                if stop.wait(0.2):
                    for run in runs:
                        run.close()
                    break
            for thread in threads:
                thread.join()
        finally:
            for consumer, feed_stop, thread in feeds:
                feed_stop.set()
                thread.join()
                consumer.close()
        if errors:
            raise errors[0]
        return runs

    def _signal_feed(self, run: CameraRun) -> tuple[Consumer, threading.Event, threading.Thread]:
        """Consume the signals topic into a camera's ControllerFeed, caught up before frames.

        Each camera has its own group, so every camera sees every phase change.
        """
        assert isinstance(run.signals, ControllerFeed)
        group = f"detect-signals-{run.camera.id}"
        consumer = self.bus.subscribe(SIGNALS, group, run.signals.handle)
        _drain([consumer])
        stop = threading.Event()
        thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
        thread.start()
        return consumer, stop, thread

    def _publish(self, event: ViolationDetected | ViolationSuppressed) -> None:
        topic = VIOLATIONS if isinstance(event, ViolationDetected) else VIOLATIONS_SUPPRESSED
        self.bus.publish(topic, event.camera_id, event)

    def run_all(
        self, progress: Console | None = None, stop: threading.Event | None = None
    ) -> Summary:
        """Run every camera until its source ends or `stop` is set, then drain the stages."""
        stop = stop or threading.Event()
        consumers = [c for stage in self._stages() for c in self._consumers(stage)]
        dead = self.bus.subscribe(DEAD_LETTER_TOPIC, "run-summary", self._count_dead_letter)
        consumers.append(dead)
        summary = Summary()
        consumers_stop = threading.Event()
        loops = [c.run for c in consumers]
        loops += [self._purge, partial(relay, self.store, self.bus), *self._side_work(None)]
        threads = Loops(loops, consumers_stop, also_stop=stop).start()
        try:
            with Progress(console=progress, disable=progress is None, transient=True) as bar:
                runs = self.detect_all(stop, bar)
        finally:
            consumers_stop.set()
            threads.join()
        try:
            _drain(consumers, self._relay_and_send)
        finally:
            for consumer in consumers:
                consumer.close()
        if self.shows_billboards:
            for player in self.players:  # the screens as the run leaves them
                player.step()
        for run in runs:
            summary.add(run)
        summary.dead_letters = self.dead_letters
        with self.store.session() as session:
            rows = session.execute(select(Citation.status, func.count()).group_by(Citation.status))
            summary.citations = Counter({status: n for status, n in rows})
        return summary

    def _purge(self, stop: threading.Event) -> None:
        """Retention and a signed audit checkpoint once at start, then every `run_every_h`
        hours until `stop`; a failed pass is logged and tried again next time rather than
        ending the run."""
        every_s = self.config.retention.run_every_h * 3600
        folder = self.base_dir / self.config.storage.audit_checkpoint_dir
        while True:
            try:
                report = run_retention(self.store, self.evidence, self.config.retention)
                log.info("%s", report.summary())
                assert self.evidence.signing_key is not None
                with self.store.session() as session:
                    write_checkpoint(session, self.evidence.signing_key, folder)
            except Exception:
                log.exception(
                    "retention or audit checkpoint failed; next try in %g h", every_s / 3600
                )
            if stop.wait(every_s):
                return

    def _count_dead_letter(self, _event: Event) -> None:
        self.dead_letters += 1

    def run_worker(self, stage: str, stop: threading.Event) -> None:
        """One stage until `stop`; detect also ends when every camera's source has ended."""
        if stage == "detect":
            self.detect_all(stop)
            return
        if stage == "relay":
            relay(self.store, self.bus, stop)
            return
        # A stage's consumers and its side loops (the sender, the screen players) run together.
        consumers = self._consumers(stage)
        loops = [c.run for c in consumers] + self._side_work(stage)
        try:
            Loops(loops, stop).start().join()
        finally:
            for consumer in consumers:
                consumer.close()

    def _relay_and_send(self) -> int:
        """One step of draining: publish stored events and send due notices; how many moved."""
        moved = relay_once(self.store, self.bus)
        if self.config.notifier.enabled:
            moved += self.sender.send_due()
        return moved

    @property
    def shows_billboards(self) -> bool:
        return self.config.display.enabled and bool(self.config.display.screens)

    @cached_property
    def billboards(self) -> Billboards:
        return make_billboards(self.config, self.store, self.evidence, lambda: self.people)

    @cached_property
    def people(self) -> PeopleFinder:
        """One people finder for the display and portal stages of a process: its models load
        once, when the first picture needs them; it serialises its own calls."""
        return people_finder(self.config)

    @cached_property
    def players(self) -> list[ScreenPlayer]:
        outputs = [(s, make_output(s, self.base_dir)) for s in self.config.display.screens]
        return [ScreenPlayer(self.billboards, s, out) for s, out in outputs if out is not None]

    @cached_property
    def templates(self) -> NoticeTemplates:
        """Loaded (and checked) once: a broken template stops the start, not the first SMS."""
        return NoticeTemplates(self.config.notifier)

    @cached_property
    def sender(self) -> Sender:
        gateway = make_gateway(self.config.notifier, self.base_dir)
        return Sender(self.store, gateway, self.config.notifier)


def stop_on_signals() -> threading.Event:
    """An event set by SIGINT or SIGTERM, so a service stops between frames or messages."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _drain(consumers: list[Consumer], relay_step: Callable[[], int] = lambda: 0) -> None:
    """Relay and poll until a full round moves nothing: every stage has caught up."""
    while relay_step() + sum(c.poll(0.05) for c in consumers):
        pass
