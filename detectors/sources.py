"""Frames from a camera source, with capture timestamps, at the configured analysis rate.

Files and image folders are read through OpenCV. A frame that cannot be decoded is skipped and
counted rather than ending the stream, because one bad frame must not blind a camera.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


@dataclass(frozen=True)
class Frame:
    index: int
    """Position in the source (before subsampling)."""
    t: float
    """Seconds since the start of the stream."""
    captured_at: datetime
    image: np.ndarray


@dataclass
class SourceStats:
    read: int = 0
    analysed: int = 0
    dropped: int = 0
    corrupt: int = 0
    notes: list[str] = field(default_factory=list)


def read_video(
    path: Path, analysis_fps: float, start: datetime, stats: SourceStats
) -> Iterator[Frame]:
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise OSError(f"cannot open video {path}")
    fps = cap.get(cv2.CAP_PROP_FPS) or analysis_fps
    interval = 1.0 / analysis_fps
    next_due = 0.0
    index = -1
    try:
        while True:
            grabbed = cap.grab()
            if not grabbed:
                break
            index += 1
            stats.read += 1
            t = index / fps
            if t + 1e-9 < next_due:
                stats.dropped += 1
                continue
            ok, image = cap.retrieve()
            if not ok or image is None or image.size == 0:
                stats.corrupt += 1
                continue
            next_due = (math.floor(t / interval + 1e-9) + 1) * interval
            stats.analysed += 1
            yield Frame(index, t, start + timedelta(seconds=t), image)
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


def open_source(
    source: str, analysis_fps: float, start: datetime, stats: SourceStats, base_dir: Path
) -> Iterator[Frame]:
    """Pick the reader for a configured source; relative paths resolve against `base_dir`."""
    path = Path(source)
    if not path.is_absolute():
        path = base_dir / path
    if path.is_dir():
        return read_folder(path, analysis_fps, start, stats)
    if path.is_file():
        return read_video(path, analysis_fps, start, stats)
    raise OSError(f"camera source not found: {path}")
