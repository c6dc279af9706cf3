"""Frames from a camera source, with capture timestamps, at the configured analysis rate.

Files and image folders are read through OpenCV; their timestamps are the position in the stream,
so re-processing a recording yields the same times. Live streams (RTSP, HTTP) are read through
OpenCV's FFmpeg backend by a thread that grabs continuously and hands over only the newest due
frame: analysis never falls behind real time, it loses frames instead, and counts them. A lost
stream is reopened with bounded, jittered exponential backoff, and its state is observable as
`CameraHealth`. A frame that cannot be decoded is skipped and counted rather than ending the
stream, because one bad frame must not blind a camera.
"""

from __future__ import annotations

import logging
import math
import random
import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Self

import cv2
import numpy as np

from detectors.video_files import missing_frames
from pipeline.config import StreamOptions, is_live

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


@dataclass(frozen=True)
class Frame:
    index: int
    """Position in the source (before subsampling); for a live stream, frames grabbed so far."""
    t: float
    """Seconds since the start of the stream."""
    captured_at: datetime
    image: np.ndarray


@dataclass
class SourceStats:
    read: int = 0
    analysed: int = 0
    dropped: int = 0
    """Frames read but not analysed (subsampling and `late` ones), corrupt ones not included."""
    corrupt: int = 0
    late: int = 0
    """Live: due frames replaced by a newer one before the consumer took them (it is too slow)."""
    notes: list[str] = field(default_factory=list)
    incomplete: str | None = None
    """A video file that holds fewer frames than its header lists (`video_files`)."""


class _Pacer:
    """One frame per analysis interval on a fixed grid of stream times, so that jitter in frame
    times neither drifts nor bunches the analysis rate."""

    def __init__(self, analysis_fps: float) -> None:
        self.interval = 1.0 / analysis_fps
        self.next_due = 0.0

    def due(self, t: float) -> bool:
        return t + 1e-9 >= self.next_due

    def taken(self, t: float) -> None:
        self.next_due = (math.floor(t / self.interval + 1e-9) + 1) * self.interval


def _retrieve(cap: cv2.VideoCapture) -> np.ndarray | None:
    """The grabbed frame as BGR, or None when it cannot be decoded."""
    ok, image = cap.retrieve()
    return image if ok and image is not None and image.size > 0 else None


def read_video(
    path: Path, analysis_fps: float, start: datetime, stats: SourceStats
) -> Iterator[Frame]:
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise OSError(f"cannot open video {path}")
    fps = cap.get(cv2.CAP_PROP_FPS) or analysis_fps
    pacer = _Pacer(analysis_fps)
    index = -1
    try:
        while True:
            grabbed = cap.grab()
            if not grabbed:
                break
            index += 1
            stats.read += 1
            t = index / fps
            if not pacer.due(t):
                stats.dropped += 1
                continue
            image = _retrieve(cap)
            if image is None:
                stats.corrupt += 1
                continue
            pacer.taken(t)
            stats.analysed += 1
            yield Frame(index, t, start + timedelta(seconds=t), image)
        stats.incomplete = missing_frames(path)
    finally:
        cap.release()


def read_folder(
    path: Path, analysis_fps: float, start: datetime, stats: SourceStats
) -> Iterator[Frame]:
    """Images in name order, one per analysis interval."""
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    for index, file in enumerate(files):
        stats.read += 1
        image = cv2.imread(str(file), cv2.IMREAD_COLOR)
        if image is None:
            stats.corrupt += 1
            stats.notes.append(f"undecodable image skipped: {file.name}")
            continue
        t = index / analysis_fps
        stats.analysed += 1
        yield Frame(index, t, start + timedelta(seconds=t), image)


class CameraState(StrEnum):
    CONNECTING = "connecting"
    """First connection not made yet."""
    LIVE = "live"
    """Frames are arriving."""
    RECONNECTING = "reconnecting"
    """The stream was lost or would not open; retrying with backoff."""
    DOWN = "down"
    """No frame for `StreamOptions.down_after_s`: worth an alert. Retrying goes on."""


@dataclass(frozen=True)
class CameraHealth:
    """A snapshot, safe to export from any thread."""

    state: CameraState
    last_frame_at: datetime | None
    reconnects: int
    """Attempts to reopen the stream after the first connection attempt."""
    dropped: int
    late: int
    corrupt: int
    last_error: str | None


def redact(url: str) -> str:
    """The URL without its password, for logs and health reports."""
    return re.sub(r"(//[^/@:]*):[^/@]*@", r"\1:***@", url)


@dataclass(frozen=True)
class StreamClock:
    """Stream time of a live camera: seconds on the monotonic clock since `start`.

    Every reader of one camera (its analysed sub-stream and its recorded main stream) shares one
    clock, so their frame times can be compared; an NTP step can neither reorder frames nor open
    a gap in them.
    """

    start: datetime
    mono0: float = field(default_factory=time.monotonic)

    def now(self) -> float:
        return time.monotonic() - self.mono0

    def at(self, t: float) -> datetime:
        return self.start + timedelta(seconds=t)


class ReconnectingReader(ABC):
    """A thread reading a live stream session after session, reopening a lost one with backoff.

    Subclasses read one session in `_read_session`; this class keeps the health state, which may
    be read from any thread, and hands a reader crash to the consumer via `_failure`.
    """

    def __init__(
        self, url: str, clock: StreamClock, stats: SourceStats, options: StreamOptions | None
    ) -> None:
        self.url = url
        self.clock = clock
        self.stats = stats
        self.options = options or StreamOptions()
        self._rng = random.Random()
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"stream {redact(url)}", daemon=True)
        self._failure: Exception | None = None
        self._state = CameraState.CONNECTING
        self._last_frame_t: float | None = None
        self._reconnects = 0
        self._last_error: str | None = None

    @property
    def health(self) -> CameraHealth:
        with self._cond:
            last = self._last_frame_t
            return CameraHealth(
                state=self._state,
                last_frame_at=None if last is None else self.clock.at(last),
                reconnects=self._reconnects,
                dropped=self.stats.dropped,
                late=self.stats.late,
                corrupt=self.stats.corrupt,
                last_error=self._last_error,
            )

    @property
    def thread_id(self) -> int | None:
        """The reader thread's native id once started, for per-thread CPU accounting."""
        return self._thread.native_id

    def start(self) -> Self:
        with self._cond:
            if not self._thread.is_alive() and not self._stop.is_set():
                self._thread.start()
        return self

    def close(self) -> None:
        """Stop reading; waits at most the open or read timeout for a blocked FFmpeg call."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(max(self.options.open_timeout_s, self.options.read_timeout_s) + 1)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _run(self) -> None:
        try:
            failures = 0
            while True:
                if self._read_session():
                    failures = 0
                if self._stop.wait(self.options.backoff_s(failures, self._rng)):
                    return
                failures += 1
                with self._cond:
                    self._reconnects += 1
        except Exception as exc:  # handed to the consumer rather than lost with the thread
            with self._cond:
                self._failure = exc
                self._stop.set()
                self._cond.notify_all()

    @abstractmethod
    def _read_session(self) -> bool:
        """Open the stream and read until it fails or `_stop` is set; True if any frame came."""

    def _arrived(self, t: float) -> None:
        """Note a frame (or packet) at stream time `t`; call with `_cond` held."""
        self._last_frame_t = t
        if self._state is not CameraState.LIVE:
            log.info("camera stream live: %s", redact(self.url))
            self._state = CameraState.LIVE

    def _lost(self, reason: str) -> None:
        with self._cond:
            since = 0.0 if self._last_frame_t is None else self._last_frame_t
            silent_s = self.clock.now() - since
            state = (
                CameraState.DOWN
                if silent_s >= self.options.down_after_s
                else CameraState.RECONNECTING
            )
            if state is not self._state:
                log.warning("camera stream %s (%s): %s", state, reason, redact(self.url))
            self._state, self._last_error = state, reason


class LiveStream(ReconnectingReader, Iterator[Frame]):
    """A live RTSP/HTTP stream as an endless iterator of frames at `analysis_fps`.

    Timestamps are wall-clock UTC at grab, on the camera's `StreamClock`. Iteration blocks until
    the next frame and ends only after `close()`; `health` may be read from any thread meanwhile.
    """

    def __init__(
        self,
        url: str,
        analysis_fps: float,
        start: datetime,
        stats: SourceStats,
        options: StreamOptions | None = None,
    ) -> None:
        super().__init__(url, StreamClock(start), stats, options)
        self._pacer = _Pacer(analysis_fps)
        self._latest: Frame | None = None

    def __next__(self) -> Frame:
        self.start()
        with self._cond:
            while self._latest is None and not self._stop.is_set():
                self._cond.wait()
            if self._failure is not None:
                raise RuntimeError(f"stream reader failed: {redact(self.url)}") from self._failure
            if self._latest is None:
                raise StopIteration
            frame, self._latest = self._latest, None
            self.stats.analysed += 1
            return frame

    def _read_session(self) -> bool:
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            round(self.options.open_timeout_s * 1000),
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            round(self.options.read_timeout_s * 1000),
        ]
        cap = cv2.VideoCapture(self.url, cv2.CAP_FFMPEG, params)
        got_frames = False
        try:
            if not cap.isOpened():
                self._lost("cannot open stream")
                return False
            while not self._stop.is_set():
                if not cap.grab():
                    self._lost("stream ended or no frame within the read timeout")
                    return got_frames
                got_frames = True
                self._on_grab(cap, self.clock.now())
            return got_frames
        except cv2.error as exc:
            self._lost(f"OpenCV error: {exc}")
            return got_frames
        finally:
            cap.release()

    def _on_grab(self, cap: cv2.VideoCapture, t: float) -> None:
        pacer = self._pacer
        with self._cond:
            index = self.stats.read
            self.stats.read += 1
            self._arrived(t)
            if not pacer.due(t):
                self.stats.dropped += 1
                return
        # Only due frames are converted to BGR: the costly part of retrieve for skipped ones.
        image = _retrieve(cap)
        with self._cond:
            if image is None:
                self.stats.corrupt += 1
                return
            pacer.taken(t)
            if self._latest is not None:
                self.stats.dropped += 1
                self.stats.late += 1
            self._latest = Frame(index, t, self.clock.at(t), image)
            self._cond.notify_all()


def local_path(source: str, base_dir: Path) -> Path:
    path = Path(source)
    return path if path.is_absolute() else base_dir / path


def open_source(
    source: str,
    analysis_fps: float,
    start: datetime,
    stats: SourceStats,
    base_dir: Path,
    options: StreamOptions | None = None,
) -> Iterator[Frame]:
    """Pick the reader for a configured source; relative paths resolve against `base_dir`.

    A URL gives a `LiveStream` (not started yet), whose `health` the caller may export.
    """
    if is_live(source):
        return LiveStream(source, analysis_fps, start, stats, options)
    path = local_path(source, base_dir)
    if path.is_dir():
        return read_folder(path, analysis_fps, start, stats)
    if path.is_file():
        return read_video(path, analysis_fps, start, stats)
    raise OSError(f"camera source not found: {path}")
