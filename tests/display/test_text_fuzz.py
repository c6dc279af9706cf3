"""Fuzzing the billboard's text (issue 18): a name, plate or place of hostile text (template
syntax, markup, control and bidi characters, emoji, thousands of characters) on a screen that
passed the start-up check draws a frame, printed as text and never evaluated, and never stops
the screen with an exception."""

from functools import cache

import pytest
from hypothesis import given
from hypothesis import strategies as st

from display.fonts import find_fonts
from display.privacy import shown_name, shown_national_id, shown_plate
from display.render import DoesNotFit, Renderer, sample_slides
from display.slide import Slide
from display.text import wrap
from pipeline.config import PrivacyPolicy, ScreenConfig
from tests.fuzzing import HOSTILE_TEXT, fuzz, very_long

SIZES = [(256, 128), (192, 96), (480, 272), (272, 480)]
"""Compact, wide and portrait layouts, small enough to draw a hundred times in seconds."""
POLICIES = st.builds(
    PrivacyPolicy,
    name=st.sampled_from(["shown", "masked", "hidden"]),
    plate=st.sampled_from(["shown", "masked"]),
    national_id=st.sampled_from(["masked", "hidden"]),
)
TEXT = very_long(HOSTILE_TEXT)


@cache
def renderer() -> Renderer:
    return Renderer(find_fonts())


def screen(size: tuple[int, int]) -> ScreenConfig:
    return ScreenConfig(id="s", cameras=["c"], width_px=size[0], height_px=size[1])


@fuzz(60)
@given(st.sampled_from(SIZES), TEXT, TEXT, TEXT, TEXT, POLICIES)
def test_a_slide_of_hostile_record_text_draws_a_frame(
    size: tuple[int, int],
    name: str,
    plate: str,
    place: str,
    national_id: str,
    policy: PrivacyPolicy,
) -> None:
    fields = dict(sample_slides("Stop on red")[0].fields)
    fields |= {
        "name": shown_name(name, policy),
        "plate": shown_plate(plate, policy),
        "national_id": shown_national_id(national_id, policy),
        "place": place,
    }
    slide = Slide("cit-1", fields, None)
    frame = renderer().render(slide, screen(size))
    assert frame.size == size
    spec = renderer().layout_of(slide, screen(size))
    printed = "".join(r.template.render(**fields) for r in spec.regions if r.template)
    assert "49" not in printed or any("49" in (v or "") for v in fields.values())


def test_a_record_too_long_for_its_region_is_cut_not_refused() -> None:
    """Found by fuzzing (256x128, plate shown, "{{ 7*7 }}" x 20): record text too long for the
    details region raised DoesNotFit on a screen that passed the start-up check, on every try
    (a player step failing every 2 s, a kiosk frame a 500); and breaking a long word tried one
    length at a time, half a minute for a thousand letters."""
    fields = dict(sample_slides("Stop on red")[0].fields)
    slide = Slide("cit-1", fields | {"plate": "粤" * 100, "place": "x" * 1000}, None)
    assert renderer().render(slide, screen((256, 128))).size == (256, 128)
    with pytest.raises(DoesNotFit, match="'details' on 256x128"):
        renderer().render(slide, screen((256, 128)), cut=False)


@pytest.mark.parametrize("size", SIZES)
def test_the_fuzzed_screens_pass_the_start_up_check(size: tuple[int, int]) -> None:
    renderer().check(screen(size), "Stop on red")


def test_a_glyph_wider_than_its_box_gets_a_line_of_its_own() -> None:
    """Found reading the loop fuzzing showed slow: it never ended on one such glyph."""
    assert wrap("粤粤", find_fonts().font("regular", 20), 5) == ["粤", "粤"]
