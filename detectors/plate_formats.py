"""Licence-plate formats per region: normalisation, OCR confusion repair and format fit.

OCR reads a plate as free text; the format decides what it can be. A slot that must hold a
letter turns a read `0` into `O`/`D`, a digit slot turns `B` into `8`, and a read that fits no
format of the region is not a plate at all (a dealer sticker, a bumper slogan). Repairs are
counted, so a read that needed fewer of them wins when several formats fit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Region = Literal["cn", "eu", "us", "br"]
REGIONS: tuple[Region, ...] = ("cn", "eu", "us", "br")

CN_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_SEPARATORS = re.compile(r"[\s·•・.\-_:|]+")

# Which letter a digit is mistaken for, and back (OCR confusions on plate fonts).
_DIGIT_FOR = {"O": "0", "Q": "0", "D": "0", "U": "0", "I": "1", "L": "1", "T": "1"}
_DIGIT_FOR |= {"B": "8", "S": "5", "Z": "2", "G": "6", "A": "4"}
# Candidates in order: a format without O (CN) takes a letter-slot 0 as the D it then must be.
_LETTER_FOR = {"0": "OD", "1": "I", "8": "B", "5": "S", "2": "Z", "6": "G", "4": "A", "7": "T"}

REPAIR_PENALTY = 0.97
"""Fit factor per repaired character: a read that needed no repair is the likelier one."""
GENERIC_FIT = 0.9
"""Fit of a read that only passes a region's generic bounds, below any national pattern."""


@dataclass(frozen=True)
class PlateFormat:
    """One plate layout: a slot per character (P province, L letter, D digit, A any of them)."""

    region: Region
    name: str
    slots: str
    letters: str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    """Letters this format uses: CN plates leave out I and O, so a read O there is a 0."""


_CN_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
FORMATS: tuple[PlateFormat, ...] = (
    PlateFormat("cn", "cn-standard", "PLAAAAA", _CN_LETTERS),
    PlateFormat("cn", "cn-new-energy", "PLAAAAAA", _CN_LETTERS),
    PlateFormat("br", "br-old", "LLLDDDD"),
    PlateFormat("br", "br-mercosur", "LLLDLDD"),
    # EU national patterns that fix confusions; anything else falls to the generic bounds.
    PlateFormat("eu", "gb-current", "LLDDLLL"),  # AB12CDE since 2001
    PlateFormat("eu", "fr-it-siv", "LLDDDLL"),  # France SIV (2009), Italy (1994)
    PlateFormat("eu", "es-current", "DDDDLLL", "BCDFGHJKLMNPRSTVWXYZ"),  # Spain since 2000
)
WORD_FIT = 0.6
"""Factor for a US read without digits: vanity plates exist, but state names and makes are
far more often what such a read is."""
_US_NO_LETTER = str.maketrans("OQ", "00")
"""Most US states issue no O or Q, and plate fonts draw them like 0, so a US read takes them as
digits. I is left as read: the recogniser tells a serifed I from 1, and states that issue I
(California) would otherwise lose every one of them."""
_GENERIC: dict[Region, tuple[int, int]] = {"eu": (4, 8), "us": (2, 8)}
"""Country-agnostic length bounds, for plates no pattern above describes."""


@dataclass(frozen=True)
class FormatFit:
    """A read as one format makes it: the repaired text and how well it fits (0-1)."""

    text: str
    region: Region
    format_name: str
    repairs: int
    fit: float


def normalise(raw: str) -> str:
    """Uppercase with separators (dots, dashes, middle dots, spaces) removed."""
    return _SEPARATORS.sub("", raw).upper()


def _fill(text: str, fmt: PlateFormat) -> tuple[str, int] | None:
    """The text with each slot's confusions repaired, and how many were, or None if it can't fit."""
    if len(text) != len(fmt.slots):
        return None
    out: list[str] = []
    repairs = 0
    for char, slot in zip(text, fmt.slots, strict=True):
        fixed = char
        if slot == "P":
            if char not in CN_PROVINCES:
                return None
        elif slot == "D" and not char.isdigit():
            fixed = _DIGIT_FOR.get(char, char)
        elif slot == "L" and char not in fmt.letters:
            fixed = next((c for c in _LETTER_FOR.get(char, "") if c in fmt.letters), char)
        elif slot == "A" and char.isalpha() and char not in fmt.letters:
            fixed = _DIGIT_FOR.get(char, char)
        ok = {
            "P": True,
            "D": fixed.isascii() and fixed.isdigit(),
            "L": fixed in fmt.letters,
            "A": fixed in fmt.letters or (fixed.isascii() and fixed.isdigit()),
        }[slot]
        if not ok:
            return None
        repairs += fixed != char
        out.append(fixed)
    return "".join(out), repairs


def fits(raw: str, region: Region) -> list[FormatFit]:
    """Every way the read can be a plate of the region, best fit first (empty: not a plate)."""
    text = normalise(raw)
    found: list[FormatFit] = []
    for fmt in FORMATS:
        if fmt.region != region:
            continue
        filled = _fill(text, fmt)
        if filled is not None:
            fixed, repairs = filled
            found.append(FormatFit(fixed, region, fmt.name, repairs, REPAIR_PENALTY**repairs))
    bounds = _GENERIC.get(region)
    if bounds and bounds[0] <= len(text) <= bounds[1] and text.isascii() and text.isalnum():
        generic = text.translate(_US_NO_LETTER) if region == "us" else text
        repairs = sum(a != b for a, b in zip(text, generic, strict=True))
        fit = GENERIC_FIT * REPAIR_PENALTY**repairs
        # A read with no digit is a word (a make, a state name), or at best a US vanity plate.
        if not any(c.isdigit() for c in generic):
            fit = fit * WORD_FIT if region == "us" else 0.0
        if fit:
            found.append(FormatFit(generic, region, f"{region}-generic", repairs, fit))
    return sorted(found, key=lambda f: -f.fit)


def best_fit(raw: str, regions: Iterable[Region]) -> FormatFit | None:
    """The best-fitting format over the regions (`auto` passes all of them)."""
    candidates = [f for region in regions for f in fits(raw, region)]
    return max(candidates, key=lambda f: f.fit, default=None)


def regions_for(region: str) -> tuple[Region, ...]:
    """The regions a config or CLI value stands for: one, or all of them for `auto`."""
    if region == "auto":
        return REGIONS
    if region not in REGIONS:
        raise ValueError(
            f"unknown plate region {region!r}; expected one of: auto, " + ", ".join(REGIONS)
        )
    return (region,)  # type: ignore[return-value]
