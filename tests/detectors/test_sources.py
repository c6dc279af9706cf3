"""Frame sources: timestamps, analysis rate, corrupt frames skipped and counted, and live
streams served by a real ffmpeg on loopback: rate, drops, loss, stall and return."""

import itertools
import math
import os
import random
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest

from detectors import sources
from detectors.sources import (
    CameraState,
    Frame,
    LiveStream,
    SourceStats,
    StreamOptions,
    open_source,
    redact,
)
from tests.clock import START
from tests.detectors.live_camera import (
    FAST,
    RtspCamera,
    free_port,
    kill,
    serve_clip,
)
from tests.waits import wait_until


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


# ---------------------------------------------------------------- live streams


@pytest.fixture
def rtsp_camera() -> Iterator[RtspCamera]:
    camera = RtspCamera()
    camera.plug_in()
    try:
        yield camera
    finally:
        camera.unplug()


class Consumer:
    """Takes frames from a stream on its own thread, so that every wait in a test is bounded."""

    def __init__(self, stream: LiveStream, work_s: float = 0.0) -> None:
        self.frames: list[Frame] = []
        self.ages_s: list[float] = []
        self._stream, self._work_s = stream, work_s
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for frame in self._stream:
            self.ages_s.append((datetime.now(UTC) - frame.captured_at).total_seconds())
            self.frames.append(frame)
            time.sleep(self._work_s)

    def wait_for(self, count: int) -> list[Frame]:
        wait_until(lambda: len(self.frames) >= count, f"{count} frames")
        return list(self.frames)


def _assert_ordered(frames: list[Frame], fps: float) -> None:
    """Strictly increasing, and never two frames in one analysis interval."""
    for a, b in itertools.pairwise(frames):
        assert b.index > a.index and b.t > a.t and b.captured_at > a.captured_at
    assert len({math.floor(f.t * fps) for f in frames}) == len(frames)


def _assert_accounted(stats: SourceStats) -> None:
    """Every frame read was analysed, dropped or corrupt, but one that waited at the close."""
    assert stats.read - stats.analysed - stats.dropped - stats.corrupt in (0, 1)


def _live(
    url: str, fps: float, stats: SourceStats | None = None, options: StreamOptions = FAST
) -> LiveStream:
    source = open_source(url, fps, datetime.now(UTC), stats or SourceStats(), Path("."), options)
    assert isinstance(source, LiveStream)
    return source


def test_rtsp_stream_is_read_at_the_analysis_rate_and_survives_loss(
    rtsp_camera: RtspCamera,
) -> None:
    fps = 5.0
    with _live(rtsp_camera.url, fps) as stream:
        consumer = Consumer(stream)
        consumer.wait_for(3)
        assert stream.health.state is CameraState.LIVE
        before = len(consumer.frames)
        time.sleep(2.0)  # 10 frames due at 5 fps
        assert 4 <= len(consumer.frames) - before <= 12
        assert consumer.frames[0].image.shape == (360, 450, 3)

        rtsp_camera.unplug()
        wait_until(lambda: stream.health.state is CameraState.RECONNECTING, "reconnecting")
        lost_at = len(consumer.frames)
        rtsp_camera.plug_in()
        frames = consumer.wait_for(lost_at + 3)

    health = stream.health
    assert health.reconnects >= 1 and health.state is CameraState.LIVE
    assert health.last_frame_at is not None and health.last_frame_at >= frames[-1].captured_at
    assert max(b.t - a.t for a, b in itertools.pairwise(frames)) > 1.0  # the outage
    _assert_ordered(frames, fps)
    _assert_accounted(stream.stats)
    assert stream.stats.dropped > 2 * stream.stats.analysed  # 25 fps read, 5 analysed


def test_a_stalled_stream_times_out_and_recovers(rtsp_camera: RtspCamera) -> None:
    """The connection stays open but no packet comes: only the read timeout can tell."""
    with _live(rtsp_camera.url, 5.0) as stream:
        consumer = Consumer(stream)
        consumer.wait_for(2)
        assert rtsp_camera.ffmpeg is not None
        os.kill(rtsp_camera.ffmpeg.pid, signal.SIGSTOP)
        try:
            wait_until(lambda: stream.health.state is CameraState.RECONNECTING, "timeout")
            assert "read timeout" in (stream.health.last_error or "")
        finally:
            os.kill(rtsp_camera.ffmpeg.pid, signal.SIGCONT)
        consumer.wait_for(len(consumer.frames) + 2)
    assert stream.health.reconnects >= 1 and stream.health.state is CameraState.LIVE


def test_a_slow_consumer_gets_the_newest_frames_and_drops_are_counted(
    rtsp_camera: RtspCamera,
) -> None:
    stats = SourceStats()
    with _live(rtsp_camera.url, 10.0, stats) as stream:
        consumer = Consumer(stream, work_s=0.4)  # 2.5 frames/s against 10 due
        frames = consumer.wait_for(8)
    # Frames waited at most one analysis interval plus transport, never a growing queue.
    assert max(consumer.ages_s[2:]) < 1.0
    assert stats.late >= 10
    assert stream.health.late == stats.late and stream.health.dropped == stats.dropped
    _assert_accounted(stats)
    _assert_ordered(frames, 10.0)


def test_http_stream_with_undecodable_frames_skips_and_counts_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"http://127.0.0.1:{free_port()}/live.ts"
    server = serve_clip("-f", "mpegts", "-listen", "1", url)
    decoded = itertools.count()
    real_retrieve = sources._retrieve

    def every_third_undecodable(cap: cv2.VideoCapture) -> np.ndarray | None:
        return None if next(decoded) % 3 == 2 else real_retrieve(cap)

    monkeypatch.setattr(sources, "_retrieve", every_third_undecodable)
    try:
        with _live(url, 5.0) as stream:
            frames = Consumer(stream).wait_for(6)
    finally:
        kill(server)
    assert stream.health.corrupt >= 2
    assert stream.health.state is CameraState.LIVE
    _assert_ordered(frames, 5.0)


def test_unreachable_camera_backs_off_then_reports_down(caplog: pytest.LogCaptureFixture) -> None:
    options = StreamOptions(backoff_initial_s=0.05, backoff_max_s=0.2, down_after_s=0.5)
    url = f"rtsp://admin:secret@127.0.0.1:{free_port()}/live"
    with _live(url, 5.0, options=options) as stream:
        wait_until(lambda: stream.health.state is CameraState.DOWN, "down")
    health = stream.health
    assert health.reconnects >= 2 and health.last_frame_at is None
    assert health.last_error == "cannot open stream"
    assert "rtsp://admin:***@127.0.0.1" in caplog.text and "secret" not in caplog.text


def test_backoff_grows_with_jitter_and_stays_bounded() -> None:
    options = StreamOptions(backoff_initial_s=0.5, backoff_max_s=30.0, backoff_jitter=0.25)
    rng = random.Random(7)
    delays = [options.backoff_s(n, rng) for n in range(12)]
    assert all(
        0.75 * min(30.0, 0.5 * 2**n) <= d <= min(30.0, 0.5 * 2**n) for n, d in enumerate(delays)
    )
    assert delays[0] < delays[3] < delays[6]
    assert len({round(d, 6) for d in delays[8:]}) == 4  # capped, yet not in lockstep
    assert options.backoff_s(10_000, rng) <= 30.0


def test_redact_hides_the_password() -> None:
    assert redact("rtsp://admin:pa:ss@cam.local:554/s1") == "rtsp://admin:***@cam.local:554/s1"
    assert redact("rtsp://cam.local/s1") == "rtsp://cam.local/s1"
