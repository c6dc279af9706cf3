"""Fuzzing plate normalisation (issue 18): whatever text OCR or a registry file hands over, the
answer is a plate of a region format or None ("not a plate"), never an exception, and the
registry key a read makes is a fixed point, so a registry plate and a read of it meet."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from identify.plate_formats import (
    _GENERIC,
    CN_PROVINCES,
    FORMATS,
    REGIONS,
    PlateFormat,
    best_fit,
    normalise,
    regions_for,
)
from identify.plates import registry_plate
from tests.fuzzing import HOSTILE_TEXT, fuzz, very_long

DIGITS = "0123456789"
CONFUSABLE = "0OQDUIL1T8BS5Z2G6A47 -.·\u200b\u00ad\uff10\uff21\u3000"
"""Look-alikes OCR confuses, separators, and invisible and fullwidth characters."""


def _slot_characters(slot: str, fmt: PlateFormat) -> str:
    return {"P": CN_PROVINCES, "L": fmt.letters, "D": DIGITS}.get(slot, fmt.letters + DIGITS)


@st.composite
def _format_plates(draw: st.DrawFn) -> tuple[PlateFormat, str]:
    fmt = draw(st.sampled_from(FORMATS))
    chars = [draw(st.sampled_from(_slot_characters(slot, fmt))) for slot in fmt.slots]
    return fmt, "".join(chars)


def _confused(made: tuple[PlateFormat, str], slips: list[tuple[int, str]]) -> str:
    """A plate with some characters read as look-alikes, separators or invisible ones."""
    chars = list(made[1])
    for position, char in slips:
        chars[position % len(chars)] = char
    return "".join(chars)


CONFUSED = st.builds(
    _confused,
    _format_plates(),
    st.lists(st.tuples(st.integers(0, 7), st.sampled_from(CONFUSABLE)), max_size=3),
)
PLATE_LIKE = st.text(alphabet=DIGITS + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdoq -·." + CN_PROVINCES)
ANY_TEXT = CONFUSED | PLATE_LIKE | very_long(HOSTILE_TEXT) | st.text()
REGION_VALUES = st.sampled_from([*REGIONS, "auto"])


def _allowed_by(text: str, region: str, format_name: str) -> bool:
    """Whether `text` is a plate the named format (or the region's generic bounds) allows."""
    if format_name.endswith("-generic"):
        low, high = _GENERIC[region]  # type: ignore[index]
        banned = set("OQ" if region == "us" else "")
        return bool(re.fullmatch(f"[0-9A-Z]{{{low},{high}}}", text)) and not set(text) & banned
    [fmt] = [f for f in FORMATS if f.name == format_name]
    return len(text) == len(fmt.slots) and all(
        c in _slot_characters(slot, fmt) for c, slot in zip(text, fmt.slots, strict=True)
    )


@fuzz(400)
@given(ANY_TEXT)
def test_normalise_never_raises_and_is_idempotent(raw: str) -> None:
    once = normalise(raw)
    assert normalise(once) == once
    assert not any(c.isspace() for c in once)


@fuzz(500)
@given(ANY_TEXT, REGION_VALUES)
def test_a_registry_plate_is_a_plate_of_its_format_or_none_and_a_fixed_point(
    raw: str, region: str
) -> None:
    plate = registry_plate(raw, region)
    if plate is None:
        return
    fit = best_fit(raw, regions_for(region))
    assert fit is not None and fit.text == plate
    assert _allowed_by(plate, fit.region, fit.format_name), fit
    assert registry_plate(plate, region) == plate


@fuzz(100)
@given(st.text(max_size=20))
def test_an_unknown_region_is_refused_by_name(region: str) -> None:
    if region in (*REGIONS, "auto"):
        return
    with pytest.raises(ValueError, match="unknown plate region"):
        registry_plate("AB12CDE", region)


@fuzz(300)
@given(_format_plates(), st.booleans())
def test_a_plate_made_by_its_format_s_pattern_round_trips(made: tuple, auto: bool) -> None:
    fmt, plate = made
    assert registry_plate(plate, "auto" if auto else fmt.region) == plate


def test_a_us_o_in_a_letter_slot_is_read_as_the_zero_it_becomes_in_the_registry_key() -> None:
    """Found by fuzzing: `AAO0000` keyed as AA00000 (generic bounds), which keyed as AAD0000
    (the pattern), so a registry plate and a read of its key did not meet."""
    assert registry_plate("AAO0000", "us") == registry_plate("AA00000", "us") == "AAD0000"


def test_fullwidth_and_invisible_characters_do_not_hide_a_plate() -> None:
    """Found by fuzzing: a fullwidth plate (as Chinese systems write them) or one with a
    zero-width space or a NUL in it was no plate at all, so it never met its OCR read."""
    assert registry_plate("粤Ｂ１２３４５", "cn") == "粤B12345"
    assert registry_plate("AB12\u200bCDE\x00", "eu") == "AB12CDE"


def test_normalising_twice_changes_nothing_after_compatibility_form() -> None:
    """Found by fuzzing the NFKC step (Y¯: NFKC gives ¯ a space, a separator; removed, the
    macron composed with the Y only on a second pass) and by trying every code point (ΐ,
    which uppercasing decomposes)."""
    for raw in ("Y¯", "ΐ"):
        assert normalise(normalise(raw)) == normalise(raw)
