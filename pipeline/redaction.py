"""Blurring people and plates out of pictures: the billboards' offender picture (`display`)
and the evidence a fined person watches in the portal (`portal`) blur the same way.

A blurred region is pixelated to a few blocks and then softened, so nothing is left to sharpen
back; it grows a little each way first, because hair, ears and a plate's frame identify too.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

Box = tuple[int, int, int, int]
"""x1, y1, x2, y2 in whole pixels."""
BLUR_GROW = 0.12
"""Blurred boxes grow by this share of their size each way."""
PIXELS_ACROSS = 6
"""A blurred region is first reduced to this many pixels across."""
HEAD_SHARE = 0.28
"""Top share of a standing person's box that holds the head."""


class PeopleFinder(Protocol):
    """Implemented by `identify.people.PeopleFinder`; the stages that blur take it as given."""

    def find(self, image_bgr: np.ndarray, plates: bool) -> tuple[list[Box], list[Box], list[Box]]:
        """(faces, persons, plates) seen in the image, as pixel boxes; plates only if asked."""
        ...


def area(box: Box) -> int:
    return max(0, box[2] - box[0]) * max(0, box[3] - box[1])


def centre_in(box: Box, outer: Box) -> bool:
    x, y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return outer[0] <= x <= outer[2] and outer[1] <= y <= outer[3]


def head(box: Box) -> Box:
    return (box[0], box[1], box[2], box[1] + round((box[3] - box[1]) * HEAD_SHARE))


def grown(box: Box, width: int, height: int) -> Box:
    grow_x = round((box[2] - box[0]) * BLUR_GROW)
    grow_y = round((box[3] - box[1]) * BLUR_GROW)
    return (
        max(0, box[0] - grow_x),
        max(0, box[1] - grow_y),
        min(width, box[2] + grow_x),
        min(height, box[3] + grow_y),
    )


def blur(image: Image.Image, box: Box, spare: Box | None = None) -> None:
    """Make a region unrecognisable, in place, except where it overlaps `spare`."""
    x1, y1, x2, y2 = grown(box, image.width, image.height)
    if x2 <= x1 or y2 <= y1:
        return
    region = image.crop((x1, y1, x2, y2))
    w, h = region.size
    small = (PIXELS_ACROSS, max(1, round(PIXELS_ACROSS * h / w)))
    region = region.resize(small, Image.Resampling.BOX).resize((w, h), Image.Resampling.NEAREST)
    region = region.filter(ImageFilter.GaussianBlur(max(w, h) / 12))
    mask = Image.new("L", (w, h), 255)
    if spare is not None:
        ImageDraw.Draw(mask).rectangle(
            (spare[0] - x1, spare[1] - y1, spare[2] - x1 - 1, spare[3] - y1 - 1), fill=0
        )
    image.paste(region, (x1, y1), mask)
