"""Fitting text into a box: the largest size at which every line fits, wrapped as each script
wraps (Chinese between any two characters, English between words).

A screen is read from across the road, so a region's text is as large as its box allows; a
text that does not fit even at the smallest legible size is refused rather than cut, and the
layout leaves out an optional region instead.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

from PIL import ImageDraw, ImageFont

from display.fonts import FontFiles, Weight

LINE_PITCH = 1.22
"""Baseline to baseline, in font sizes: tight for an LED, clear of the line above's descenders."""
EXTENT_PROBE = "国Agjy"
_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef"
_TOKENS = re.compile(rf"[{_CJK}]|[^\s{_CJK}]+\s*|\s+")
"""Wrap points: every CJK character stands alone; a Latin word keeps its trailing space."""


@dataclass(frozen=True)
class FittedText:
    lines: tuple[str, ...]
    font: ImageFont.FreeTypeFont
    pitch_px: int
    top_px: int
    """Ink above the first baseline (positive)."""
    height_px: int
    """Ink from the top of the first line to the bottom of the last."""

    def draw(
        self,
        draw: ImageDraw.ImageDraw,
        box: tuple[int, int, int, int],
        fill: str,
        align: str,
        valign: str,
    ) -> None:
        x0, y0, x1, y1 = box
        spare = (y1 - y0) - self.height_px
        offset = {"top": 0, "middle": spare // 2, "bottom": spare}[valign]
        baseline = y0 + offset + self.top_px
        for line in self.lines:
            width = _width(self.font, line)
            x = {"left": x0, "center": x0 + (x1 - x0 - width) // 2, "right": x1 - width}[align]
            draw.text((x, baseline), line, font=self.font, fill=fill, anchor="ls")
            baseline += self.pitch_px


def _width(font: ImageFont.FreeTypeFont, line: str) -> int:
    left, _, right, _ = font.getbbox(line, anchor="ls")
    return max(int(right), round(font.getlength(line))) - min(0, int(left))


def wrap(text: str, font: ImageFont.FreeTypeFont, width_px: int) -> list[str]:
    """Greedy wrapping of one paragraph; a word wider than the box is broken between letters."""
    return list(_wrapped(text, font, width_px))


def _wrapped(text: str, font: ImageFont.FreeTypeFont, width_px: int) -> Iterator[str]:
    """The lines of `wrap` as they are made, so a layout that already has too many stops."""
    line = ""
    for token in _TOKENS.finditer(text):
        if _width(font, (line + token[0]).rstrip()) <= width_px:
            line += token[0]
            continue
        if line.strip():
            yield line.rstrip()
        line = token[0].lstrip()
        while line and _width(font, line.rstrip()) > width_px:
            cut = _longest_prefix(line, font, width_px)
            yield line[:cut]
            line = line[cut:]
    if line.strip():
        yield line.rstrip()


def _longest_prefix(word: str, font: ImageFont.FreeTypeFont, width_px: int) -> int:
    """How many of the word's characters fit the width, at least one (a glyph wider than the
    box goes on a line of its own, where trying shorter prefixes one by one never ended), found
    by bisection: a name of a thousand letters took half a minute one length at a time."""
    fitting = bisect.bisect(
        range(1, len(word)), False, key=lambda n: _width(font, word[:n]) > width_px
    )
    return max(fitting, 1)


def layout_at(
    paragraphs: list[str],
    fonts: FontFiles,
    weight: Weight,
    size_px: int,
    width_px: int,
    max_lines: int | None = None,
) -> FittedText:
    """The paragraphs laid out at `size_px`; after `max_lines` + 1 lines it stops, as such a
    layout is too tall anyway (a name of thousands of characters is not wrapped to its end)."""
    font = fonts.font(weight, size_px)
    every = (line for p in paragraphs for line in _wrapped(p, font, width_px))
    lines = list(islice(every, None if max_lines is None else max_lines + 1))
    # The tallest and deepest ink of these lines or the probe: every line then has the same
    # room, and no glyph reaches outside the box.
    boxes = [font.getbbox(text, anchor="ls") for text in [*lines, EXTENT_PROBE]]
    top = math.floor(min(b[1] for b in boxes))
    bottom = math.ceil(max(b[3] for b in boxes))
    pitch = max(1, round(size_px * LINE_PITCH))
    height = -top + (len(lines) - 1) * pitch + bottom
    return FittedText(tuple(lines), font, pitch, -top, height)


def fit(
    paragraphs: list[str],
    fonts: FontFiles,
    weight: Weight,
    box: tuple[int, int, int, int],
    max_lines: int,
    min_px: int,
    max_px: int | None = None,
) -> FittedText | None:
    """The largest size from `min_px` up at which the text fits `box` in `max_lines` lines, or
    None when it does not fit even at `min_px`."""
    width, height = box[2] - box[0], box[3] - box[1]
    paragraphs = [p for p in paragraphs if p.strip()]
    if not paragraphs or width <= 0 or height <= 0:
        return None

    def fitted(size: int) -> FittedText | None:
        text = layout_at(paragraphs, fonts, weight, size, width, max_lines)
        fits = len(text.lines) <= max_lines and text.height_px <= height
        fits = fits and all(_width(text.font, line) <= width for line in text.lines)
        return text if fits else None

    low, high = min_px, max(min_px, min(max_px or height, height))
    best = fitted(low)
    if best is None:
        return None
    while low < high:  # invariant: `low` fits
        mid = (low + high + 1) // 2
        candidate = fitted(mid)
        if candidate is None:
            high = mid - 1
        else:
            low, best = mid, candidate
    return best
