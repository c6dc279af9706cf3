"""A video file cut short is told apart from a whole one (issue 18: it ran as if all was well)."""

from __future__ import annotations

from pathlib import Path

import pytest

from detectors.video_files import missing_frames
from tests.shared_data import DATA, need


@pytest.mark.parametrize("name", ["y2.mp4", "y3.mov", "16h15.25.9.22.mp4"])
def test_whole_clips_miss_nothing(name: str) -> None:
    assert missing_frames(need(DATA / "video" / name)) is None


def test_a_clip_cut_in_half_says_how_much_is_there(tmp_path: Path) -> None:
    whole = need(DATA / "video" / "y2.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole[: len(whole) // 2])
    found = missing_frames(cut)
    assert found is not None and found.endswith("of the 292 frames its header lists: cut short")


def test_a_file_that_is_no_video_says_so(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\0" * 1000)
    assert (missing_frames(junk) or "").startswith("cannot be read to its end")
