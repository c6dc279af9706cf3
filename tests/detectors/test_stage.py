"""The detect stage on a long stream: judged tracks are those seen, forgotten ones are freed."""

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from detectors.evidence import EvidenceRecorder
from detectors.signals import FixedPlan
from detectors.sources import Frame
from detectors.stage import FORGET_AFTER_S, DetectStage
from pipeline.config import load_config
from pipeline.evidence import EvidenceStore, load_or_create_key
from stopline.demo.run import DEMO_CONFIG
from stopline.demo.scripted import ScriptedTracker

FPS = 2.0


def test_tracks_unseen_for_long_are_forgotten(tmp_path: Path) -> None:
    camera = load_config(DEMO_CONFIG).cameras[0]
    n = int((FORGET_AFTER_S + 5) * FPS)
    truth = {
        "frames": [
            {"frame": i, "objects": [{"track_id": 7, "class": "car", "box": [230, 300, 290, 390]}]}
            for i in range(4)
        ]
    }
    (tmp_path / "truth.json").write_text(json.dumps(truth))
    store = EvidenceStore(tmp_path / "ev", load_or_create_key(tmp_path / "k.pem"))
    stage = DetectStage(
        camera=camera,
        rules=load_config(DEMO_CONFIG).rules,
        tracker=ScriptedTracker(tmp_path / "truth.json"),
        phase_at=FixedPlan(camera.signal).phase_at,
        recorder=EvidenceRecorder(store, FPS),
        publish=lambda event: None,
        stream_start=datetime(2026, 11, 21, tzinfo=UTC),
    )
    image = np.zeros((360, 640, 3), np.uint8)
    frames = [Frame(i, i / FPS, stage.stream_start, image) for i in range(n)]
    stage.process(frames[:4])
    assert list(stage.tracks) == [7]
    stats = stage.process(frames[4:])
    assert stage.tracks == {} and stage.classes == {}
    assert stats.frames == n and stats.violations == 0
