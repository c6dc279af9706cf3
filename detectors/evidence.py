"""Evidence packages: key frames, offender crop and a 12 s clip, each with a data bar, signed.

Frames are kept in a ring buffer so that the clip can start 6 s before the violation; a case is
completed once 6 s after it have been seen (or the stream ends), then every file goes into the
content-addressed store and a signed manifest fixes the set.
"""

from __future__ import annotations

import itertools
import tempfile
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from detectors.images import clamp_box, crop, jpeg
from detectors.rules import TrackPoint
from detectors.sources import Frame
from pipeline.evidence import EvidenceStore, StoredFile

BAR_PX = 40
TRACK_CROPS = 8
"""Offender crops kept for identification: plates and faces are voted over several frames."""
TRACK_CROP_QUALITY = 95
"""Higher than the key frames': plate characters are a few pixels wide."""


@dataclass
class Case:
    violation_id: str
    at_s: float
    """Stream time of the violation (stop-line crossing); the clip is centred on it."""
    key_times: dict[str, float]
    """Named moments to keep as key frames, e.g. {"stop_line": 15.3, "entry_line": 16.3}."""
    track: list[TrackPoint]
    """The offender's track, still growing while the case is open; drawn and cropped."""
    data_bar: str
    facts: dict[str, Any]
    frames: list[Frame] = field(default_factory=list)


@dataclass(frozen=True)
class Package:
    violation_id: str
    files: list[StoredFile]
    manifest_sha256: str


def _with_bar(frame: Frame, text: str, box: tuple[float, float, float, float] | None) -> np.ndarray:
    img = frame.image.copy()
    if box is not None:
        x1, y1, x2, y2 = (round(c) for c in box)
        cv2.rectangle(img, (x1, y1), (x2, y2), (0, 0, 255), 2)
    bar = np.zeros((BAR_PX, img.shape[1], 3), np.uint8)
    stamp = frame.captured_at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-4] + "Z"
    head, _, facts = text.partition(" | ")
    for row, line in enumerate((f"{stamp}  {head}", facts)):
        cv2.putText(
            bar, line, (4, 15 + 18 * row), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (255, 255, 255), 1
        )
    return np.vstack([img, bar])


def _clip(frames: Iterator[np.ndarray], fps: float) -> bytes:
    """Encode frames as they come, so a case never holds a second copy of its 12 s in memory."""
    first = next(frames)
    h, w = first.shape[:2]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.mp4"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
        try:
            for img in itertools.chain([first], frames):
                writer.write(img)
        finally:
            writer.release()
        return path.read_bytes()


class EvidenceRecorder:
    """Buffers frames and turns cases into signed evidence packages."""

    def __init__(
        self, store: EvidenceStore, fps: float, before_s: float = 6.0, after_s: float = 6.0
    ) -> None:
        self.store = store
        self.fps = fps
        self.before_s = before_s
        self.after_s = after_s
        self.buffer: deque[Frame] = deque(maxlen=max(2, round((before_s + after_s) * fps) + 2))
        self.open: list[Case] = []

    def open_case(self, case: Case) -> None:
        case.frames = [f for f in self.buffer if f.t >= case.at_s - self.before_s]
        self.open.append(case)

    def add_frame(self, frame: Frame) -> list[Package]:
        self.buffer.append(frame)
        for case in self.open:
            if frame.t <= case.at_s + self.after_s and (
                not case.frames or case.frames[-1] is not frame
            ):
                case.frames.append(frame)
        done = [c for c in self.open if frame.t >= c.at_s + self.after_s]
        return self._finish(done)

    def flush(self) -> list[Package]:
        """End of stream: complete every open case with the frames it has."""
        return self._finish(list(self.open))

    def _finish(self, cases: list[Case]) -> list[Package]:
        packages = []
        for case in cases:
            self.open.remove(case)
            packages.append(self._package(case))
        return packages

    def _package(self, case: Case) -> Package:
        frames = case.frames
        if not frames:
            raise ValueError(f"case {case.violation_id} has no frames")
        boxes = {p.t: p.box for p in case.track}

        def render(frame: Frame) -> np.ndarray:
            return _with_bar(frame, case.data_bar, boxes.get(frame.t))

        files: list[StoredFile] = []
        for name, t in case.key_times.items():
            key = min(frames, key=lambda f: abs(f.t - t))
            files.append(self.store.put(jpeg(render(key)), f"key_frame:{name}", "image/jpeg"))
        with_box = [f for f in frames if f.t in boxes]
        if with_box:
            best = max(with_box, key=lambda f: _area(boxes[f.t], f.image.shape))
            offender = crop(best.image, boxes[best.t])
            files.append(self.store.put(jpeg(offender), "crop:offender", "image/jpeg"))
        track_crops = track_crop_frames(with_box, boxes, TRACK_CROPS)
        files.extend(
            self.store.put(
                jpeg(crop(f.image, boxes[f.t]), TRACK_CROP_QUALITY), "crop:track", "image/jpeg"
            )
            for f in track_crops
        )
        clip = _clip(map(render, frames), self.fps)
        files.append(self.store.put(clip, "clip", "video/mp4"))
        facts = {
            **case.facts,
            "clip_start_s": frames[0].t,
            "clip_end_s": frames[-1].t,
            "track_crops": [
                {"t": f.t, "box": [round(c, 1) for c in boxes[f.t]]} for f in track_crops
            ],
        }
        manifest = self.store.write_manifest(case.violation_id, files, facts)
        return Package(case.violation_id, files, manifest)


def track_crop_frames(
    frames: list[Frame], boxes: dict[float, tuple[float, float, float, float]], count: int
) -> list[Frame]:
    """The frames whose offender box is largest, at most `count`, in time order.

    The largest boxes are where a plate or face has the most pixels; identification picks the
    sharpest among them itself.
    """
    largest = sorted(frames, key=lambda f: _area(boxes[f.t], f.image.shape), reverse=True)
    return sorted(largest[:count], key=lambda f: f.t)


def _area(box: tuple[float, float, float, float], shape: tuple[int, ...]) -> int:
    x1, y1, x2, y2 = clamp_box(box, shape)
    return (x2 - x1) * (y2 - y1)
