"""Frame sources: timestamps, analysis rate, and corrupt frames skipped and counted."""

import itertools
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np

from detectors.sources import SourceStats, open_source

START = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


def test_folder_skips_and_counts_an_undecodable_image(tmp_path: Path) -> None:
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"f{i}.png"), np.full((20, 30, 3), i * 50, np.uint8))
    (tmp_path / "f1b.jpg").write_bytes(b"\xff\xd8 this is not a jpeg")
    stats = SourceStats()
    frames = list(open_source(str(tmp_path), 5.0, START, stats, tmp_path))
    assert [f.index for f in frames] == [0, 1, 3]  # f1b.jpg sorts between f1 and f2
    assert stats.corrupt == 1 and stats.analysed == 3 and stats.read == 4
    assert "f1b.jpg" in stats.notes[0]
    assert frames[2].t == 0.6 and frames[2].captured_at.microsecond == 600_000


def test_video_is_subsampled_to_the_analysis_rate(tmp_path: Path) -> None:
    path = tmp_path / "v.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25, (64, 48))
    for i in range(50):
        writer.write(np.full((48, 64, 3), i * 5, np.uint8))
    writer.release()
    stats = SourceStats()
    frames = list(open_source("v.mp4", 10.0, START, stats, tmp_path))
    assert stats.read == 50
    assert stats.analysed == len(frames) == 20
    assert stats.dropped == 30
    gaps = {round(b.t - a.t, 2) for a, b in itertools.pairwise(frames)}
    assert gaps <= {0.08, 0.12}
