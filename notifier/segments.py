"""How many SMS segments a text costs, as a gateway will bill and split it.

A notice that grows one character past a segment boundary is a second message to pay for and,
on some handsets, arrives in pieces; a single character outside the GSM alphabet (a Chinese
name, an emoji) switches the whole message to UCS-2 and more than halves its capacity. Templates
are checked with this at load time so the surprise happens before the first fine is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# GSM 03.38 default alphabet, one septet each (ESC, 0x1B, is left out: it only prefixes the
# extension table and is not a character of its own).
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: ESC plus the character, two septets each.
GSM_EXTENSION = frozenset("^{}\\[~]|€\f")

SINGLE = {"GSM-7": 160, "UCS-2": 70}
# Concatenated parts lose room to the 6-byte user data header.
PART = {"GSM-7": 153, "UCS-2": 67}

Encoding = Literal["GSM-7", "UCS-2"]


@dataclass(frozen=True)
class SegmentCount:
    encoding: Encoding
    units: int
    """Septets for GSM-7, UTF-16 code units for UCS-2."""
    segments: int


def count_segments(text: str) -> SegmentCount:
    """Segments `text` is sent as; an empty text is still one message."""
    if all(c in GSM_BASIC or c in GSM_EXTENSION for c in text):
        encoding: Encoding = "GSM-7"
        widths = [2 if c in GSM_EXTENSION else 1 for c in text]
    else:
        encoding = "UCS-2"
        widths = [2 if ord(c) > 0xFFFF else 1 for c in text]
    units = sum(widths)
    if units <= SINGLE[encoding]:
        return SegmentCount(encoding, units, 1)
    # Greedy fill: an escape pair or a surrogate pair is never split, so it may leave the
    # previous part one unit short.
    segments, used = 1, 0
    for width in widths:
        if used + width > PART[encoding]:
            segments, used = segments + 1, 0
        used += width
    return SegmentCount(encoding, units, segments)
