"""A camera's main stream, kept compressed and decoded only where evidence needs it.

IP cameras send a full-resolution main stream and a small sub-stream of the same scene.
Analysis needs only the sub-stream, and decoding every 1080p frame of the main stream costs
more CPU than detecting on the sub-stream; evidence, though, must show the plate at full
resolution. So the main stream is demultiplexed without decoding (a fraction of a millisecond
per packet) into a ring of key-frame groups that reaches back past the evidence window, and a
violation's 12 s are decoded from those packets once, when it is packaged.

Frame times are on the camera's `StreamClock`, shared with the analysed sub-stream: a packet's
time is its presentation time plus the smallest arrival lag seen in the last `LAG_WINDOW_S`
(the lag of a packet that was not held up on the way), which follows a drifting camera clock
without taking in network jitter.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from functools import cached_property
from pathlib import Path

import av
import av.container

from detectors.sources import (
    Frame,
    LiveStream,
    ReconnectingReader,
    SourceStats,
    StreamClock,
    local_path,
)
from pipeline.config import StreamOptions, is_live

log = logging.getLogger(__name__)

LAG_WINDOW_S = 30.0
DISCONTINUITY_S = 2.0
"""A jump of presentation times against arrival this large restarts the lag estimate."""
KEEP_MARGIN_S = 10.0
"""Kept beyond the evidence window, for cases queued behind another one being packaged."""
WAIT_FOR_END_S = 5.0
"""How long packaging waits for the main stream to reach a window's end before it makes do."""
AV_ERRORS = (av.error.FFmpegError, OSError)


@dataclass(frozen=True, eq=False)
class Codec:
    """What a decoder needs besides the packets; one per stream session."""

    name: str
    extradata: bytes | None


@dataclass(frozen=True)
class Packet:
    t: float
    keyframe: bool
    codec: Codec
    packet: av.Packet


def _codec(stream: av.video.stream.VideoStream) -> Codec:
    ctx = stream.codec_context
    return Codec(ctx.name, ctx.extradata)


def decode(
    packets: list[Packet], t0: float, t1: float, at: Callable[[float], datetime]
) -> Iterator[Frame]:
    """The frames in [t0, t1] of packets that start at a key frame, in presentation order.

    A new decoder starts wherever the session changes (a reconnect may change the codec setup);
    a damaged packet costs its own frames, not the rest of the clip.
    """
    index = 0
    start = 0
    while start < len(packets):
        codec = packets[start].codec
        end = start
        while end < len(packets) and packets[end].codec is codec:
            end += 1
        ctx = av.CodecContext.create(codec.name, "r")
        if codec.extradata:
            ctx.extradata = codec.extradata
        times = {p.packet.pts: p.t for p in packets[start:end]}
        for item in [*(p.packet for p in packets[start:end]), None]:
            try:
                decoded = ctx.decode(item)
            except AV_ERRORS as exc:
                log.warning("main stream packet not decodable, frame left out: %s", exc)
                continue
            for frame in decoded:
                t = times.get(frame.pts)
                if t is not None and t0 <= t <= t1:
                    yield Frame(index, t, at(t), frame.to_ndarray(format="bgr24"))
                    index += 1
        start = end


class RecordedClip:
    """A window of a recorded stream; its packets are fetched once, on first use.

    Made on the stage thread and used on the evidence thread, where waiting for the stream to
    pass the window's end blocks no analysis.
    """

    def __init__(
        self,
        fetch: Callable[[], list[Packet]],
        t0: float,
        t1: float,
        at: Callable[[float], datetime],
    ) -> None:
        self._fetch = fetch
        self.t0, self.t1 = t0, t1
        self._at = at

    @cached_property
    def packets(self) -> list[Packet]:
        return self._fetch()

    def frame_times(self) -> list[float]:
        return self._times

    @cached_property
    def _times(self) -> list[float]:
        return sorted(p.t for p in self.packets if self.t0 <= p.t <= self.t1)

    @property
    def fps(self) -> float:
        times = self.frame_times()
        if len(times) < 2 or times[-1] <= times[0]:
            return 1.0
        return (len(times) - 1) / (times[-1] - times[0])

    def frames(self) -> Iterator[Frame]:
        return decode(self.packets, self.t0, self.t1, self._at)


class LiveRecording(ReconnectingReader):
    """The main stream's key-frame groups that reach back `keep_s` seconds."""

    def __init__(
        self,
        url: str,
        clock: StreamClock,
        keep_s: float,
        stats: SourceStats,
        options: StreamOptions | None = None,
    ) -> None:
        super().__init__(url, clock, stats, options)
        self.keep_s = keep_s
        self.groups: deque[list[Packet]] = deque()
        """Each starts with a key frame: the smallest unit that decodes on its own."""
        self._lags: deque[tuple[float, float]] = deque()
        """(arrival, lag), lags increasing: a sliding-window minimum."""

    def add(self, frame: Frame) -> None:
        """Analysed frames are not kept: evidence comes from the main stream."""

    def take(self, t0: float, t1: float) -> RecordedClip:
        return RecordedClip(lambda: self.packets_between(t0, t1), t0, t1, self.clock.at)

    def packets_between(self, t0: float, t1: float, wait_s: float = WAIT_FOR_END_S) -> list[Packet]:
        """Packets from the last key frame at or before `t0` through `t1`.

        Waits up to `wait_s` for the stream to pass `t1`: the main stream may lag the sub-stream.
        """
        with self._cond:
            self._cond.wait_for(
                lambda: self._stop.is_set() or (self.groups and self.groups[-1][-1].t >= t1),
                timeout=wait_s,
            )
            groups = [g for g in self.groups if g[0].t <= t1]
        first = max((i for i, g in enumerate(groups) if g[0].t <= t0), default=0)
        return [p for g in groups[first:] for p in g if p.t <= t1]

    def _read_session(self) -> bool:
        try:
            container = av.open(
                self.url,
                options={"rtsp_transport": "tcp"},
                timeout=(self.options.open_timeout_s, self.options.read_timeout_s),
            )
        except AV_ERRORS as exc:
            self._lost(f"cannot open stream: {exc}")
            return False
        self._lags.clear()
        got = False
        try:
            stream = container.streams.video[0]
            codec = _codec(stream)
            time_base = stream.time_base or Fraction(1, 90000)
            for packet in container.demux(stream):
                if self._stop.is_set():
                    return got
                if packet.pts is None or packet.size == 0:
                    continue
                got = True
                self._keep(packet, codec, float(packet.pts * time_base))
            self._lost("stream ended")
        except AV_ERRORS as exc:
            self._lost(f"stream lost: {exc}")
        finally:
            container.close()
        return got

    def _keep(self, packet: av.Packet, codec: Codec, pts_s: float) -> None:
        now = self.clock.now()
        lags = self._lags
        lag = now - pts_s
        if lags and abs(lag - lags[0][1]) > DISCONTINUITY_S:
            lags.clear()
        while lags and lags[-1][1] >= lag:
            lags.pop()
        lags.append((now, lag))
        while lags[0][0] < now - LAG_WINDOW_S:
            lags.popleft()
        item = Packet(pts_s + lags[0][1], packet.is_keyframe, codec, packet)
        with self._cond:
            self.stats.read += 1
            self._arrived(item.t)
            if item.keyframe:
                self.groups.append([item])
            elif self.groups and self.groups[-1][0].codec is codec:
                self.groups[-1].append(item)
            else:
                self.stats.dropped += 1  # before this session's first key frame: undecodable
            while len(self.groups) > 1 and self.groups[1][0].t <= item.t - self.keep_s:
                self.groups.popleft()
            self._cond.notify_all()


class FileRecording:
    """A recorded main stream in a file, beside a recording of the sub-stream that is analysed.

    Times are positions in the file, as `read_video` gives them for the sub-stream.
    """

    def __init__(self, path: Path, at: Callable[[float], datetime]) -> None:
        self.path = path
        self._at = at
        with av.open(str(path)):
            pass  # fails now, naming the file, rather than at the first violation

    def add(self, frame: Frame) -> None:
        """Analysed frames are not kept: evidence comes from the main stream."""

    def take(self, t0: float, t1: float) -> RecordedClip:
        return RecordedClip(lambda: self._packets(t0, t1), t0, t1, self._at)

    def _packets(self, t0: float, t1: float) -> list[Packet]:
        with av.open(str(self.path)) as container:
            stream = container.streams.video[0]
            codec = _codec(stream)
            time_base = stream.time_base or Fraction(1, 90000)
            first_pts = stream.start_time or 0
            container.seek(max(0, int(t0 / time_base) + first_pts), stream=stream, backward=True)
            packets: list[Packet] = []
            for packet in container.demux(stream):
                if packet.pts is None or packet.size == 0:
                    continue
                t = float((packet.pts - first_pts) * time_base)
                if not packets and not packet.is_keyframe:
                    continue
                if t > t1 and packet.is_keyframe:
                    break
                packets.append(Packet(t, packet.is_keyframe, codec, packet))
            return packets


def open_recording(
    source: str,
    analysed: Iterator[Frame],
    window_s: float,
    start: datetime,
    base_dir: Path,
    stats: SourceStats,
    options: StreamOptions | None = None,
) -> LiveRecording | FileRecording:
    """The main stream beside the analysed source `analysed`, whose clock a live one shares.

    A `LiveRecording` is not started yet.
    """
    if is_live(source):
        if not isinstance(analysed, LiveStream):
            raise ValueError("a live evidence_source needs a live source")
        return LiveRecording(source, analysed.clock, window_s + KEEP_MARGIN_S, stats, options)
    return FileRecording(local_path(source, base_dir), lambda t: start + timedelta(seconds=t))
