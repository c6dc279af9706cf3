"""Image files and crops, in one place for evidence, identification and the CLI.

Files are decoded from bytes rather than by `cv2.imread`, which cannot open non-ASCII paths
(Chinese plate crops are named by their text), and every failure is a `ValueError` naming the
file, which the CLI prints as one line.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from pipeline.geometry import Box

JPEG_QUALITY = 90
TRACK_CROP_QUALITY = 95
"""Offender crops: higher than the key frames', as plate characters are a few pixels wide."""


def decode_image(data: bytes, source: str) -> np.ndarray:
    """BGR pixels of encoded image bytes; `source` names them in the error.

    OpenCV refuses an empty buffer and a header claiming more than 2**30 pixels with a
    `cv2.error` (an assertion, not a decode failure): both are the file's fault, not ours.
    """
    if not data:
        raise ValueError(f"{source}: empty file, not an image")
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    except cv2.error as exc:
        why = "too many pixels" if "MAX_IMAGE_PIXELS" in str(exc) else "OpenCV refused it"
        raise ValueError(f"{source}: not an image OpenCV can decode ({why})") from None
    if image is None:
        raise ValueError(f"{source}: not an image OpenCV can decode")
    return image


def read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ValueError(f"{path}: cannot read ({exc.strerror or exc})") from None


def read_image(path: Path) -> np.ndarray:
    return decode_image(read_file(path), str(path))


def jpeg(image: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()


def clamp_box(box: Box, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """Whole pixels inside the image, at least one pixel wide and high."""
    h, w = shape[:2]
    x1, y1, x2, y2 = box
    return (
        max(0, round(x1)),
        max(0, round(y1)),
        min(w, max(round(x1) + 1, round(x2))),
        min(h, max(round(y1) + 1, round(y2))),
    )


def crop(image: np.ndarray, box: Box) -> np.ndarray:
    x1, y1, x2, y2 = clamp_box(box, image.shape)
    return image[y1:y2, x1:x2]
