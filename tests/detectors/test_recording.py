"""Evidence from a camera's main stream while its sub-stream is analysed: the main stream is
kept compressed, decoded only for a case, its frames line up in time with the analysed ones, the
offender's box is scaled onto them, and a lost main stream comes back.

The camera is the real clip y2 (450x360) as sub-stream and the same clip upscaled to 900x720
as main stream, each served by a real ffmpeg on loopback for the live tests."""

import json
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from benchmarks.clip_accuracy import ROOT
from detectors.evidence import TRACK_CROPS, Case, EvidenceRecorder, box_at
from detectors.recording import FileRecording, LiveRecording
from detectors.rules import TrackPoint
from detectors.sources import CameraState, Frame, LiveStream, SourceStats, read_video
from pipeline.evidence import EvidenceStore, load_or_create_key
from tests.cli import stopline
from tests.clock import START
from tests.detectors.live_camera import CLIP, FAST, RtspCamera, ffmpeg
from tests.waits import wait_until

MAIN_SIZE = (900, 720)


@pytest.fixture(scope="module")
def main_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """y2 at twice its size, H.264 with a key frame every 2 s and no B-frames, as cameras send."""
    path = tmp_path_factory.mktemp("main") / "main.mp4"
    command = [ffmpeg(), "-hide_banner", "-loglevel", "error", "-i", str(CLIP), "-an"]
    command += ["-vf", "scale=900:720", "-c:v", "libx264", "-preset", "veryfast", "-bf", "0"]
    command += ["-g", "50", "-keyint_min", "50", "-sc_threshold", "0", str(path)]
    subprocess.run(command, check=True, stdin=subprocess.DEVNULL)
    return path


def mismatch(main: np.ndarray, sub: np.ndarray) -> float:
    """Mean absolute difference after shrinking the main frame to the sub-stream's size."""
    small = cv2.resize(main, (sub.shape[1], sub.shape[0]), interpolation=cv2.INTER_AREA)
    return float(np.mean(cv2.absdiff(small, sub)))


def test_recorded_main_stream_gives_the_window_at_full_size(main_clip: Path) -> None:
    sub = list(read_video(CLIP, 25.0, START, SourceStats()))
    clip = FileRecording(main_clip, lambda t: START).take(4.0, 7.0)
    frames = list(clip.frames())
    assert [round(f.t, 3) for f in frames] == [round(f.t, 3) for f in sub if 4.0 <= f.t <= 7.0]
    assert clip.frame_times() == [f.t for f in frames]
    assert clip.fps == pytest.approx(25.0)
    assert {f.image.shape for f in frames} == {(MAIN_SIZE[1], MAIN_SIZE[0], 3)}
    # Same moment, same picture: each main frame matches its sub-stream frame far better than
    # the sub-stream frame 0.4 s away (the clip has moving cars and walkers).
    by_t = {round(f.t, 3): f.image for f in sub}
    for frame in frames[10:-10:10]:
        same = mismatch(frame.image, by_t[round(frame.t, 3)])
        assert same < 0.5 * mismatch(frame.image, by_t[round(frame.t + 0.4, 3)])


def test_box_between_track_points_is_interpolated() -> None:
    track = [TrackPoint(1.0, (0, 0, 10, 10)), TrackPoint(1.2, (20, 10, 30, 20))]
    assert box_at(track, 1.05, 0.02) == pytest.approx((5, 2.5, 15, 12.5))
    assert box_at(track, 1.21, 0.02) == (20, 10, 30, 20)
    assert box_at(track, 1.5, 0.02) is None, "after the track ends nothing is known"
    far = [TrackPoint(1.0, (0, 0, 10, 10)), TrackPoint(3.0, (20, 10, 30, 20))]
    assert box_at(far, 2.0, 0.02) is None, "a gap of 2 s is not bridged"


def test_case_evidence_comes_from_the_main_stream(tmp_path: Path, main_clip: Path) -> None:
    """Analysed at 10 fps on the 450x360 clip; the package is 900x720 at 25 fps, with the
    offender's box doubled and interpolated between the analysed frames."""
    store = EvidenceStore(tmp_path / "ev", load_or_create_key(tmp_path / "k.pem"))
    recorder = EvidenceRecorder(
        store, 10.0, footage=FileRecording(main_clip, lambda t: START), before_s=2, after_s=2
    )
    analysed = list(read_video(CLIP, 10.0, START, SourceStats()))
    # A made-up track drifting right over the analysed frames from 4 s to 6 s.
    track = [
        TrackPoint(f.t, (100 + 40 * (f.t - 4), 150, 180 + 40 * (f.t - 4), 210))
        for f in analysed
        if 4.0 <= f.t <= 6.0
    ]
    recorder.add_frame(analysed[0])

    recorder.open_case(
        Case("v1", 5.0, {"stop_line": 5.0}, track, "cam Test Ave | RED +1.00s", {"kind": "t"})
    )
    packages = []
    for frame in analysed[1:]:
        packages += recorder.add_frame(frame)
    packages += recorder.flush()
    assert [p.violation_id for p in packages] == ["v1"]
    manifest = json.loads(store.manifest_path("v1").read_text())["manifest"]
    facts = manifest["facts"]
    assert facts["frame_size"] == list(MAIN_SIZE)
    assert facts["clip_fps"] == pytest.approx(25.0)
    assert 3.0 <= facts["clip_start_s"] <= 3.05 and 6.95 <= facts["clip_end_s"] <= 7.0
    crops = facts["track_crops"]
    assert len(crops) == TRACK_CROPS
    points = {round(p.t, 3): p.box for p in track}
    for item in crops:
        box = points[round(item["t"], 3)]
        assert item["box"] == pytest.approx([2 * c for c in box], abs=0.1)
    # The offender's box in every frame of the clip (for the portal's redaction): doubled,
    # and unknown before the track starts and after it ends.
    boxes = facts["offender_boxes"]
    assert len(boxes) == 101
    known = [b for b in boxes if b is not None]
    assert 45 <= len(known) <= 52  # 4.0 s to 6.0 s at 25 fps
    assert known[0] == pytest.approx([200, 300, 360, 420], abs=2)
    assert facts["key_frame_boxes"]["stop_line"] == pytest.approx([280, 300, 440, 420], abs=2)
    roles = {f["role"]: f["sha256"] for f in manifest["files"]}
    key = cv2.imdecode(np.frombuffer(store.get(roles["key_frame:stop_line"]), np.uint8), 1)
    assert key.shape == (MAIN_SIZE[1] + 40, MAIN_SIZE[0], 3)
    clip_path = tmp_path / "clip.mp4"
    clip_path.write_bytes(store.get(roles["clip"]))
    cap = cv2.VideoCapture(str(clip_path))
    assert cap.get(cv2.CAP_PROP_FRAME_COUNT) == 101  # 3.00 s to 7.00 s at 25 fps
    assert cap.get(cv2.CAP_PROP_FRAME_WIDTH) == MAIN_SIZE[0]
    cap.release()
    assert store.verify()[0].ok


# ---------------------------------------------------------------- live


@pytest.fixture
def cameras(main_clip: Path) -> Iterator[tuple[RtspCamera, RtspCamera]]:
    """The same camera's main and sub-stream, started together."""
    main, sub = RtspCamera(main_clip), RtspCamera()
    main.plug_in()
    sub.plug_in()
    try:
        yield main, sub
    finally:
        main.unplug()
        sub.unplug()


def test_live_main_stream_lines_up_with_the_analysed_sub_stream(
    cameras: tuple[RtspCamera, RtspCamera],
) -> None:
    main, sub = cameras
    analysed: list[Frame] = []
    with LiveStream(sub.url, 5.0, datetime.now(UTC), SourceStats(), FAST) as stream:
        recording = LiveRecording(main.url, stream.clock, 6.0, SourceStats(), FAST).start()
        try:
            reader = threading.Thread(target=lambda: analysed.extend(stream), daemon=True)
            reader.start()
            # Either camera may answer 404 until ffmpeg has published it: count analysed frames
            # only once the main stream is in, so the window lies within what it recorded.
            wait_until(lambda: bool(recording.groups), "main stream packets")
            skip = len(analysed)
            wait_until(lambda: len(analysed) >= skip + 25, "25 analysed frames")
            frames = list(recording.take(analysed[-20].t, analysed[-5].t).frames())
            assert len(frames) >= 70  # 3 s at 25 fps, less what falls between the edges
            assert {f.image.shape for f in frames} == {(MAIN_SIZE[1], MAIN_SIZE[0], 3)}
            close, off = [], []
            for sub_frame in analysed[-19:-6]:
                nearest = min(frames, key=lambda f: abs(f.t - sub_frame.t))
                if abs(nearest.t - sub_frame.t) > 0.1:
                    continue  # a gap in the recording: packets lost while the CPU was starved
                close.append(mismatch(nearest.image, sub_frame.image))
                shifted = min(frames, key=lambda f: abs(f.t - sub_frame.t - 0.4))
                off.append(mismatch(shifted.image, sub_frame.image))
            # Most analysed frames have a recorded frame within 0.1 s, and frames matched by
            # stream time show the same moment: far closer than 0.4 s apart.
            assert len(close) >= 10, f"only {len(close)} of 13 analysed frames had a main frame"
            assert np.median(close) < 0.6 * np.median(off)
            kept = [p.t for g in recording.groups for p in g]
            assert kept[-1] - kept[0] <= 6.0 + 2.5, "only keep_s and one key-frame interval"

            main.unplug()
            wait_until(
                lambda: recording.health.state is CameraState.RECONNECTING, "reconnecting state"
            )
            lost_at = stream.clock.now()
            main.plug_in()

            def last_second_after_the_loss() -> int:
                """Packets in the last second recorded, all after the loss: on a busy machine
                they come a moment behind the wall clock, and with gaps while it starves."""
                newest = recording.groups[-1][-1].t
                packets = [p.t for g in recording.groups for p in g]
                return sum(newest - 1.0 <= t and t > lost_at for t in packets)

            wait_until(lambda: last_second_after_the_loss() >= 20, "a second of packets again", 60)
            newest = recording.groups[-1][-1].t
            again = list(recording.take(newest - 1.0, newest).frames())
            assert len(again) >= 15 and again[0].t > lost_at
            assert recording.health.state is CameraState.LIVE
            assert recording.health.reconnects >= 1
        finally:
            recording.close()


def test_detect_command_takes_evidence_from_the_main_stream(
    tmp_path: Path, main_clip: Path
) -> None:
    """`stopline detect` on y2 with its 900x720 recording as `evidence_source`: the same
    red-light car is cited, with evidence at the main stream's size, and it verifies."""
    config = yaml.safe_load((ROOT / "configs" / "clip-y2.yaml").read_text())
    config["storage"] = {
        "database_url": "sqlite:///stopline.db",
        "evidence_dir": "evidence",
        "signing_key_path": "key.pem",
    }
    config["cameras"][0]["evidence_source"] = str(main_clip)
    (tmp_path / "site.yaml").write_text(yaml.safe_dump(config))
    result = stopline("detect", str(CLIP), "--config", "site.yaml", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [event["kind"] for event in events] == ["red_light"]
    store = EvidenceStore(tmp_path / "evidence")
    manifest = json.loads(store.manifest_path(events[0]["violation_id"]).read_text())["manifest"]
    assert manifest["facts"]["frame_size"] == list(MAIN_SIZE)
    offender = next(f for f in manifest["files"] if f["role"] == "crop:offender")
    crop = cv2.imdecode(np.frombuffer(store.get(offender["sha256"]), np.uint8), 1)
    assert crop.shape[1] > 150, "a car about 70 px wide in the sub-stream, doubled"
    verified = stopline("evidence", "verify", "evidence", cwd=tmp_path)
    assert verified.returncode == 0, verified.stdout + verified.stderr
