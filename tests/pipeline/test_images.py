"""Image files that are not images fail with a ValueError naming the file, never a cv2.error."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from pipeline.images import read_image


def _png_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file, not an image"),
        (_png_claiming(100_000, 100_000), "not an image OpenCV can decode (too many pixels)"),
        (b"\xff\xd8\xff\xe0 truncated jpeg", "not an image OpenCV can decode"),
        (b"GIF89a", "not an image OpenCV can decode"),
    ],
)
def test_bad_image_files_name_the_file(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=f"^{path}: ") as info:
        read_image(path)
    assert message in str(info.value)


def test_an_image_under_a_chinese_name_is_read(tmp_path: Path) -> None:
    path = tmp_path / "沪AMS087.png"
    ok, png = cv2.imencode(".png", np.full((4, 6, 3), 200, np.uint8))
    assert ok
    path.write_bytes(png.tobytes())
    assert read_image(path).shape == (4, 6, 3)
