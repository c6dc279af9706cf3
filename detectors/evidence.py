"""Evidence packages: key frames, offender crop and a 12 s clip, each with a data bar, signed.

A case is packaged once the stream has passed 6 s after the violation (or ended): its 12 s come
from the camera's footage, either the analysed frames themselves (kept in a ring buffer) or the
camera's full-resolution main stream (`detectors.recording`), while the track was measured on
the analysed frames and is scaled and interpolated onto whichever frames the footage has. Every
file goes into the content-addressed store and a signed manifest fixes the set. Packaging runs
on its own thread, so decoding and encoding a clip never holds up analysis.
"""

from __future__ import annotations

import bisect
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

import cv2
import numpy as np

from detectors.rules import TrackPoint
from detectors.sources import Frame
from pipeline.evidence import EvidenceStore, StoredFile
from pipeline.images import TRACK_CROP_QUALITY, clamp_box, crop, jpeg
from pipeline.outages import until_back
from pipeline.video import encode_mp4

BAR_PX = 40
TRACK_CROPS = 8
"""Offender crops kept for identification: plates and faces are voted over several frames."""
BEFORE_S = AFTER_S = 6.0
EVIDENCE_WINDOW_S = BEFORE_S + AFTER_S
MAX_INTERPOLATION_GAP_S = 1.0
"""Track points further apart than this are not joined: the box between them is unknown."""

Box = tuple[float, float, float, float]


class Clip(Protocol):
    """A window of footage, taken on the stage thread and read on the evidence thread."""

    @property
    def fps(self) -> float: ...

    def frame_times(self) -> list[float]: ...

    def frames(self) -> Iterator[Frame]: ...


class Footage(Protocol):
    """Where a camera's evidence frames come from."""

    def add(self, frame: Frame) -> None:
        """Called with every analysed frame."""

    def take(self, t0: float, t1: float) -> Clip: ...


@dataclass(frozen=True)
class BufferedClip:
    fps: float
    buffered: list[Frame]

    def frame_times(self) -> list[float]:
        return [f.t for f in self.buffered]

    def frames(self) -> Iterator[Frame]:
        return iter(self.buffered)


class AnalysedFootage:
    """The analysed frames of the last `keep_s` seconds: evidence at the analysis rate."""

    def __init__(self, fps: float, keep_s: float) -> None:
        self.fps = fps
        self.buffer: deque[Frame] = deque(maxlen=max(2, round(keep_s * fps) + 2))

    def add(self, frame: Frame) -> None:
        self.buffer.append(frame)

    def take(self, t0: float, t1: float) -> BufferedClip:
        return BufferedClip(self.fps, [f for f in self.buffer if t0 <= f.t <= t1])


@dataclass
class Case:
    violation_id: str
    at_s: float
    """Stream time of the violation (stop-line crossing); the clip is centred on it."""
    key_times: dict[str, float]
    """Named moments to keep as key frames, e.g. {"stop_line": 15.3, "entry_line": 16.3}."""
    track: list[TrackPoint]
    """The offender's track in analysed-frame pixels, still growing while the case is open."""
    data_bar: str
    facts: dict[str, Any]
    live: Callable[[float], str] | None = None
    """The signal as each frame's data bar shows it (`RED +1.56s`), by stream time; None where
    no signal applies (a walk off every crosswalk)."""


@dataclass(frozen=True)
class Package:
    violation_id: str
    files: list[StoredFile]
    manifest_sha256: str


def bar_lines(frame: Frame, text: str, live: str | None) -> tuple[str, str]:
    """The data bar's two lines: capture time, camera and place; then the signal at this frame
    (when one applies) and the facts of the violation."""
    stamp = frame.captured_at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-4] + "Z"
    head, _, facts = text.partition(" | ")
    return f"{stamp}  {head}", facts if live is None else f"now {live} | {facts}"


def _with_bar(frame: Frame, text: str, box: Box | None, live: str | None) -> np.ndarray:
    img = frame.image.copy()
    if box is not None:
        x1, y1, x2, y2 = (round(c) for c in box)
        cv2.rectangle(img, (x1, y1), (x2, y2), (0, 0, 255), 2)
    bar = np.zeros((BAR_PX, img.shape[1], 3), np.uint8)
    for row, line in enumerate(bar_lines(frame, text, live)):
        cv2.putText(
            bar, line, (4, 15 + 18 * row), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (255, 255, 255), 1
        )
    return np.vstack([img, bar])


def box_at(track: list[TrackPoint], t: float, tolerance_s: float) -> Box | None:
    """The track's box at time `t`: a point's own box within `tolerance_s`, else interpolated
    between the points around `t` when they are close enough, else unknown."""
    times = [p.t for p in track]
    i = bisect.bisect_left(times, t)
    near = [p for p in track[max(0, i - 1) : i + 1] if abs(p.t - t) <= tolerance_s]
    if near:
        return min(near, key=lambda p: abs(p.t - t)).box
    if 0 < i < len(track):
        a, b = track[i - 1], track[i]
        if b.t - a.t <= MAX_INTERPOLATION_GAP_S:
            w = (t - a.t) / (b.t - a.t)
            return tuple(pa + w * (pb - pa) for pa, pb in zip(a.box, b.box, strict=True))  # type: ignore[return-value]
    return None


def _scaled(box: Box, sx: float, sy: float) -> Box:
    x1, y1, x2, y2 = box
    return (x1 * sx, y1 * sy, x2 * sx, y2 * sy)


def _pixels(box: Box | None) -> list[int] | None:
    return None if box is None else [round(c) for c in box]


def _area(box: Box, shape: tuple[int, ...]) -> int:
    x1, y1, x2, y2 = clamp_box(box, shape)
    return (x2 - x1) * (y2 - y1)


def track_crop_points(
    points: list[TrackPoint], shape: tuple[int, ...], count: int
) -> list[TrackPoint]:
    """The points whose offender box is largest, at most `count`, in time order.

    The largest boxes are where a plate or face has the most pixels; identification picks the
    sharpest among them itself.
    """
    largest = sorted(points, key=lambda p: _area(p.box, shape), reverse=True)
    return sorted(largest[:count], key=lambda p: p.t)


class EvidenceRecorder:
    """Turns cases into signed evidence packages from a camera's footage."""

    def __init__(
        self,
        store: EvidenceStore,
        fps: float,
        before_s: float = BEFORE_S,
        after_s: float = AFTER_S,
        footage: Footage | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.store = store
        self.stop = stop or threading.Event()
        """Set, evidence that cannot be written (disk full) stops waiting for space and fails."""
        self.fps = fps
        self.before_s = before_s
        self.after_s = after_s
        self.footage: Footage = footage or AnalysedFootage(fps, before_s + after_s)
        self.open: list[Case] = []
        self.shape: tuple[int, ...] | None = None
        """Of the analysed frames, whose pixels the tracks are in."""
        self._packaging: deque[Future[Package]] = deque()
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="evidence")

    def open_case(self, case: Case) -> None:
        self.open.append(case)

    def add_frame(self, frame: Frame) -> list[Package]:
        """Packages finished since the last call, in the order their cases were opened."""
        self.shape = frame.image.shape
        self.footage.add(frame)
        self._start([c for c in self.open if frame.t >= c.at_s + self.after_s])
        packages = []
        while self._packaging and self._packaging[0].done():
            packages.append(self._packaging.popleft().result())
        return packages

    def flush(self) -> list[Package]:
        """End of stream: complete every open case with the footage there is."""
        self._start(list(self.open))
        packages = [f.result() for f in self._packaging]
        self._packaging.clear()
        return packages

    def _start(self, cases: list[Case]) -> None:
        for case in cases:
            self.open.remove(case)
            if self.shape is None:
                raise ValueError(f"case {case.violation_id} has no frames")
            clip = self.footage.take(case.at_s - self.before_s, case.at_s + self.after_s)
            track = list(case.track)  # the stage keeps appending to its list
            # Read here, in the stage's thread, while the signal source is the stage's alone.
            live = {t: case.live(t) for t in clip.frame_times()} if case.live else {}
            self._packaging.append(
                self._worker.submit(self._package, case, track, clip, self.shape, live)
            )

    def _package(
        self,
        case: Case,
        track: list[TrackPoint],
        clip: Clip,
        shape: tuple[int, ...],
        live: dict[float, str],
    ) -> Package:
        times = clip.frame_times()
        if not times:
            raise ValueError(f"case {case.violation_id} has no frames")
        tolerance = 0.5 / max(clip.fps, self.fps)

        def nearest(t: float) -> float:
            return min(times, key=lambda x: abs(x - t))

        points = [p for p in track if times[0] - tolerance <= p.t <= times[-1] + tolerance]
        key_times = {name: nearest(t) for name, t in case.key_times.items()}
        crop_points = track_crop_points(points, shape, TRACK_CROPS)
        crop_times = sorted({nearest(p.t) for p in crop_points})
        largest = max(crop_points, key=lambda p: _area(p.box, shape), default=None)
        offender_time = None if largest is None else nearest(largest.t)
        wanted = {*key_times.values(), *crop_times, offender_time}
        kept: dict[float, tuple[Frame, Box | None]] = {}
        boxes: list[list[int] | None] = []
        """The offender's box in each frame of the clip, for the portal's redaction."""

        def rendered() -> Iterator[np.ndarray]:
            for frame in clip.frames():
                h, w = frame.image.shape[:2]
                box = box_at(points, frame.t, tolerance)
                if box is not None:
                    box = _scaled(box, w / shape[1], h / shape[0])
                boxes.append(_pixels(box))
                if frame.t in wanted:
                    kept[frame.t] = (frame, box)
                yield _with_bar(frame, case.data_bar, box, live.get(frame.t))

        clip_bytes = encode_mp4(rendered(), clip.fps)
        what = f"evidence of {case.violation_id}"

        def put(data: bytes, role: str, media_type: str) -> StoredFile:
            # A full disk pauses this case's packaging (not the camera) until there is space.
            return until_back(partial(self.store.put, data, role, media_type), self.stop, what)

        files: list[StoredFile] = []
        missing = [name for name, t in key_times.items() if t not in kept]
        for name, t in key_times.items():
            if t in kept:
                image = _with_bar(kept[t][0], case.data_bar, kept[t][1], live.get(t))
                files.append(put(jpeg(image), f"key_frame:{name}", "image/jpeg"))
        boxed = {t: (f, b) for t, (f, b) in kept.items() if b is not None}
        if offender_time in boxed:
            frame, box = boxed[offender_time]
            files.append(put(jpeg(crop(frame.image, box)), "crop:offender", "image/jpeg"))
        crops = [(t, *boxed[t]) for t in crop_times if t in boxed]
        files.extend(
            put(jpeg(crop(frame.image, box), TRACK_CROP_QUALITY), "crop:track", "image/jpeg")
            for _, frame, box in crops
        )
        files.append(put(clip_bytes, "clip", "video/mp4"))
        height, width = next(iter(kept.values()))[0].image.shape[:2] if kept else shape[:2]
        facts = {
            **case.facts,
            "clip_start_s": times[0],
            "clip_end_s": times[-1],
            "clip_fps": round(clip.fps, 3),
            "frame_size": [width, height],
            # The camera's geometry is in analysed-frame pixels: what a report scales it by.
            "analysis_frame_size": [shape[1], shape[0]],
            "track_crops": [{"t": t, "box": [round(c, 1) for c in box]} for t, _, box in crops],
            "offender_boxes": boxes,
            "key_frame_boxes": {
                name: _pixels(kept[t][1]) for name, t in key_times.items() if t in kept
            },
            **({"missing_key_frames": missing} if missing else {}),
        }
        write = partial(self.store.write_manifest, case.violation_id, files, facts)
        manifest = until_back(write, self.stop, what)
        return Package(case.violation_id, files, manifest)
