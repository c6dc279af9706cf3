"""Licence-plate formats per region: normalisation, OCR confusion repair and format fit.

OCR reads a plate as free text; the format decides what it can be. A slot that must hold a
letter turns a read `0` into `O`/`D`, a digit slot turns `B` into `8`, and a read that fits no
format of the region is not a plate at all (a dealer sticker, a bumper slogan). Repairs are
counted, so a read that needed fewer of them wins when several formats fit.

When the recogniser gives each character's probabilities (`CharRead`), a slot takes the most
probable character it allows, the model's own second choice rather than a fixed table's guess:
a US O over a worn D becomes the D, and a B the model is sure of is not made an 8 to fit a
pattern. The table remains for the engines that give text only, and for a slot none of the
model's likeliest characters fits. A read one character too long for every pattern (a
registration sticker, a frame edge, a state symbol read into it) may fit with the character
the model is least sure of dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

Region = Literal["cn", "eu", "us", "br"]
REGIONS: tuple[Region, ...] = ("cn", "eu", "us", "br")

CN_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE_CHARACTERS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" + CN_PROVINCES
CharRead = tuple[dict[str, float], ...]
"""A read as, per character, the probability of each of its likeliest `PLATE_CHARACTERS`,
best first (`identify.ocr_rapid.CharRecogniser`)."""
_SEPARATORS = re.compile(r"[\s·•・.\-_:|]+")
_INVISIBLE = ("Cc", "Cf")
"""Control and format characters (NUL, zero-width space, bidi marks): never part of a plate."""

# Which letter a digit is mistaken for, and back (OCR confusions on plate fonts).
_DIGIT_FOR = {"O": "0", "Q": "0", "D": "0", "U": "0", "I": "1", "L": "1", "T": "1"}
_DIGIT_FOR |= {"B": "8", "S": "5", "Z": "2", "G": "6", "A": "4"}
# Candidates in order: a format without O (CN) takes a letter-slot 0 as the D it then must be.
_LETTER_FOR = {"0": "OD", "1": "I", "8": "B", "5": "S", "2": "Z", "6": "G", "4": "A", "7": "T"}

REPAIR_PENALTY = 0.97
"""Fit factor per repaired character: a read that needed no repair is the likelier one."""
_TWINS = ({"0", "O"}, {"1", "I"})
"""Characters many plate fonts draw alike (UK, Slovak, US 0 and O): the model's confident
choice between them says nothing, so only the format decides, at the plain repair cost."""
PLAUSIBLE = 0.1
"""A character the model gives at least this share of its first choice's probability is a
plausible reading, repaired at the plain cost; a less likely one costs in proportion."""
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
_US_LETTERS = "ABCDEFGHIJKLMNPRSTUVWXYZ"
FORMATS: tuple[PlateFormat, ...] = (
    PlateFormat("cn", "cn-standard", "PLAAAAA", _CN_LETTERS),
    PlateFormat("cn", "cn-new-energy", "PLAAAAAA", _CN_LETTERS),
    PlateFormat("br", "br-old", "LLLDDDD"),
    PlateFormat("br", "br-mercosur", "LLLDLDD"),
    # EU national patterns that fix confusions; anything else falls to the generic bounds.
    PlateFormat("eu", "gb-current", "LLDDLLL"),  # AB12CDE since 2001
    PlateFormat("eu", "fr-it-siv", "LLDDDLL"),  # France SIV (2009), Italy (1994)
    PlateFormat("eu", "es-current", "DDDDLLL", "BCDFGHJKLMNPRSTVWXYZ"),  # Spain since 2000
    PlateFormat("eu", "cz-current", "DLADDDD"),  # Czechia since 2001: 1T4 3213
    PlateFormat("eu", "pl-standard", "LLDDDDD"),  # Poland, two-letter district: SG 47471
    # US state series (O and Q left out, as most states issue neither); other plates fall to
    # the generic bounds.
    PlateFormat("us", "us-ca", "DLLLDDD", _US_LETTERS),  # California since 1980: 6ABC123
    PlateFormat("us", "us-lllnnnn", "LLLDDDD", _US_LETTERS),  # New York, Texas, Arizona...
    PlateFormat("us", "us-mo", "LLDLDL", _US_LETTERS),  # Missouri since 2008: AB1 C2D
)
WORD_FIT = 0.6
"""Factor for a US read without digits: vanity plates exist, but state names and makes are
far more often what such a read is."""
_US_NOT_ISSUED = "OQ"
_US_NO_LETTER = str.maketrans(_US_NOT_ISSUED, "00")
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
    """Uppercase in compatibility form, without separators (dots, dashes, middle dots, spaces)
    or invisible characters: a registry written in fullwidth (粤Ｂ１２３４５) or with a zero-width
    space copied into a cell must give the key an OCR read of the plate gives. NFKC composes
    again last, as uppercasing (ΐ) and removing a separator (the space of Y¯) leave marks that
    a second normalisation would compose: normalising is idempotent."""
    text = unicodedata.normalize("NFKC", raw).upper()
    text = "".join(c for c in text if unicodedata.category(c) not in _INVISIBLE)
    return unicodedata.normalize("NFKC", _SEPARATORS.sub("", text))


def _allowed(char: str, slot: str, fmt: PlateFormat) -> bool:
    return {
        "P": char in CN_PROVINCES,
        "D": char.isascii() and char.isdigit(),
        "L": char in fmt.letters,
        "A": char in fmt.letters or (char.isascii() and char.isdigit()),
    }[slot]


def _fill(text: str, fmt: PlateFormat, chars: CharRead | None) -> FormatFit | None:
    """The text with each slot's confusions repaired, or None if it can't fit.

    Each repair costs `REPAIR_PENALTY`, or more when the model's own probabilities say so: a
    repair to the model's second choice costs that choice's probability relative to the read
    one, so a confident B is not made an 8 just because a pattern has a digit there (except
    between `_TWINS`)."""
    if len(text) != len(fmt.slots):
        return None
    out: list[str] = []
    repairs = 0
    fit = 1.0
    for position, (char, slot) in enumerate(zip(text, fmt.slots, strict=True)):
        fixed = char
        options = chars[position] if chars else {}
        chosen = next((c for c in options if _allowed(c, slot, fmt)), None)
        if chosen:
            fixed = chosen
        elif slot == "P":
            if char not in CN_PROVINCES:
                return None
        elif slot == "D" and not char.isdigit():
            fixed = _DIGIT_FOR.get(char, char)
        elif slot == "L" and char not in fmt.letters:
            # A letter the format does not issue (a US O) is read as the digit it looks like
            # first, as the generic bounds read it: else that digit, read back, fits better.
            shape = _DIGIT_FOR.get(char, char)
            fixed = next((c for c in _LETTER_FOR.get(shape, "") if c in fmt.letters), char)
        elif slot == "A" and char.isalpha() and char not in fmt.letters:
            fixed = _DIGIT_FOR.get(char, char)
        if not _allowed(fixed, slot, fmt):
            return None
        if fixed != char:
            repairs += 1
            fit *= REPAIR_PENALTY
            if options and {char, fixed} not in _TWINS:
                fit *= min(options.get(fixed, 0.0) / options[char] / PLAUSIBLE, 1.0)
        out.append(fixed)
    if not fit:
        return None  # the model rules out every character the slot allows
    return FormatFit("".join(out), fmt.region, fmt.name, repairs, fit)


def _us_letters(text: str, chars: CharRead | None) -> str:
    """A US read without O and Q: each becomes the model's likeliest other character (an O
    read over a worn D), or 0 as plate fonts draw them."""
    if chars is None:
        return text.translate(_US_NO_LETTER)
    return "".join(
        next((c for c in options if c not in _US_NOT_ISSUED), "0")
        if char in _US_NOT_ISSUED
        else char
        for char, options in zip(text, chars, strict=True)
    )


def _patterns(text: str, region: Region, chars: CharRead | None) -> list[FormatFit]:
    """The region's national patterns the text fits."""
    fitted = (_fill(text, fmt, chars) for fmt in FORMATS if fmt.region == region)
    return [f for f in fitted if f is not None]


def _spurious(options: dict[str, float]) -> float:
    """Fit factor for dropping a character: a sticker digit, a frame edge or a state symbol
    read into the plate is what makes a read one too long for its pattern, and the model is
    rarely sure of such a character, so a sure one costs in proportion. Among equally fitting
    drops, `fits` lists the least sure character's first, so that it wins the tie."""
    return REPAIR_PENALTY * min((1 - next(iter(options.values()))) / PLAUSIBLE, 1.0)


def fits(raw: str, region: Region, chars: CharRead | None = None) -> list[FormatFit]:
    """Every way the read can be a plate of the region, best fit first (empty: not a plate).

    `chars`, when given, is the same read per character (its best choices spell `raw`); with
    them, a read no pattern fits well may also fit one with a character dropped (`_spurious`)."""
    text = normalise(raw)
    if chars is not None and len(chars) != len(text):
        raise ValueError(f"{raw!r}: {len(chars)} character probabilities for {len(text)} chars")
    found = _patterns(text, region, chars)
    if chars and max((f.fit for f in found), default=0.0) < GENERIC_FIT:
        found += [
            replace(f, repairs=f.repairs + 1, fit=f.fit * _spurious(chars[i]))
            for i in sorted(range(len(text)), key=lambda i: max(chars[i].values()))
            for f in _patterns(text[:i] + text[i + 1 :], region, chars[:i] + chars[i + 1 :])
        ]
    bounds = _GENERIC.get(region)
    if bounds and bounds[0] <= len(text) <= bounds[1] and text.isascii() and text.isalnum():
        generic = _us_letters(text, chars) if region == "us" else text
        repairs = sum(a != b for a, b in zip(text, generic, strict=True))
        fit = GENERIC_FIT * REPAIR_PENALTY**repairs
        # A read with no digit is a word (a make, a state name), or at best a US vanity plate;
        # a 0 is no digit for this, as it may be the O of a word (`ARIZ0NA`, `F0RD`).
        if not any(c.isdigit() and c != "0" for c in generic):
            fit = fit * WORD_FIT if region == "us" else 0.0
        if fit:
            found.append(FormatFit(generic, region, f"{region}-generic", repairs, fit))
    return sorted(found, key=lambda f: -f.fit)


def best_fit(
    raw: str, regions: Iterable[Region], chars: CharRead | None = None
) -> FormatFit | None:
    """The best-fitting format over the regions (`auto` passes all of them)."""
    candidates = [f for region in regions for f in fits(raw, region, chars)]
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
