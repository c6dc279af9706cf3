"""Tracks for the demo scene read from the scene's own ground truth.

Until the object detector and ByteTrack are wired in (issue 3), the demo feeds the rules with
the positions the scene generator drew; the summary says so, so nobody mistakes it for detection.
"""

from __future__ import annotations

import json
from pathlib import Path

from detectors.sources import Frame
from detectors.tracking import TrackedObject


class ScriptedTracker:
    name = "scripted-ground-truth"

    def __init__(self, truth_path: Path) -> None:
        truth = json.loads(truth_path.read_text())
        self.by_frame = {f["frame"]: f["objects"] for f in truth["frames"]}

    def update(self, frame: Frame) -> list[TrackedObject]:
        return [
            TrackedObject(o["track_id"], o["class"], tuple(o["box"]), 1.0)
            for o in self.by_frame.get(frame.index, [])
        ]
