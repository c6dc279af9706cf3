"""`stopline camera calibrate-signal`: where each signal head's lamps are, from its own footage.

The command reads the camera's source (or another recording of it) for a while, keeps each
head's crop of every analysed frame, and fits the lamps (`detectors.lamps.calibrate`). It
prints what it found with the evidence (frames lit, hue votes, brightness lit and off) and the
`signal_heads` YAML to paste into the camera's geometry; nothing is written to the config, so
a person looks at the numbers before the heads are read by position.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import yaml

from detectors.lamps import HeadCalibration, calibrate, crop
from detectors.sources import SourceStats, open_source
from pipeline.config import CameraConfig

START = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass
class Calibration:
    heads: list[HeadCalibration]
    frames: int
    seconds: float

    def yaml(self) -> str:
        """The camera's `signal_heads` with the fitted lamps, as the config takes them."""
        heads = [
            c.head.model_copy(update={"lamps": c.lamps}).model_dump(mode="json") for c in self.heads
        ]
        return yaml.safe_dump({"signal_heads": heads}, sort_keys=False, default_flow_style=None)


def calibrate_camera(camera: CameraConfig, base_dir: Path, max_seconds: float) -> Calibration:
    """Fit every signal head of `camera` on up to `max_seconds` of its source."""
    heads = camera.geometry.signal_heads
    if not heads:
        raise ValueError(f"camera {camera.id} has no signal_heads to calibrate")
    crops: list[list[np.ndarray]] = [[] for _ in heads]
    frames, last_t = 0, 0.0
    source = open_source(camera.source, camera.analysis_fps, START, SourceStats(), base_dir)
    try:
        for frame in source:
            if frame.t > max_seconds:
                break
            for kept, head in zip(crops, heads, strict=True):
                kept.append(crop(frame.image, head.roi_px).copy())
            frames, last_t = frames + 1, frame.t
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()
    if not frames:
        raise ValueError(f"{camera.source}: no frames to calibrate on")
    fitted = [calibrate(kept, head) for kept, head in zip(crops, heads, strict=True)]
    return Calibration(fitted, frames, last_t)
