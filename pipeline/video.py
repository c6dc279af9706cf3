"""Evidence clips: H.264 in MP4, written by the detect stage and rewritten, with bystanders
blurred, for the portal."""

from __future__ import annotations

import io
import itertools
import tempfile
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

CLIP_X264 = {"preset": "ultrafast", "crf": "23"}


def encode_mp4(frames: Iterator[np.ndarray], fps: float) -> bytes:
    """H.264 in MP4 with the index first, so a browser plays it at once.

    Frames (BGR) are encoded as they come, so a clip is never held in memory whole. x264's
    fastest preset costs about as much CPU per frame as OpenCV's MPEG-4 Part 2 writer, whose
    output no browser plays; one encoder thread leaves the cores to analysis.
    """
    first = next(frames)
    h, w = first.shape[:2]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.mp4"
        with av.open(str(path), "w", options={"movflags": "+faststart"}) as container:
            stream = container.add_stream(
                "libx264", rate=Fraction(fps).limit_denominator(1000), options=CLIP_X264
            )
            stream.width, stream.height = w + w % 2, h + h % 2  # 4:2:0 needs even sides
            stream.pix_fmt = "yuv420p"
            stream.codec_context.thread_count = 1
            for img in itertools.chain([first], frames):
                if img.shape[:2] != (stream.height, stream.width):
                    img = cv2.copyMakeBorder(img, 0, h % 2, 0, w % 2, cv2.BORDER_REPLICATE)
                container.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="bgr24")))
            container.mux(stream.encode())
        return path.read_bytes()


def decode_mp4(data: bytes) -> tuple[float, Iterator[np.ndarray]]:
    """The clip's frame rate and its frames (BGR), in order, decoded as they are read."""
    container = av.open(io.BytesIO(data))
    stream = container.streams.video[0]
    fps = float(stream.average_rate or stream.guessed_rate or 10)

    def frames() -> Iterator[np.ndarray]:
        with container:
            for frame in container.decode(stream):
                yield frame.to_ndarray(format="bgr24")

    return fps, frames()
