"""The CJK font and text fitting: the right face of the Noto collection, a clear refusal of a
font without Chinese, wrapping by script, and the largest size that fits without cutting."""

from pathlib import Path

import matplotlib
import pytest
from PIL import Image, ImageDraw

from display.fonts import FontNotFound, find_fonts, has_cjk_glyphs
from display.text import fit, wrap

DEJAVU = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
"""A real font with Latin glyphs and no Chinese ones (matplotlib ships it)."""


def test_the_simplified_chinese_face_of_noto_sans_cjk_is_found() -> None:
    fonts = find_fonts()
    for weight in ("regular", "bold"):
        font = fonts.font(weight, 20)
        assert font.getname() == ("Noto Sans CJK SC", weight.capitalize())
    assert has_cjk_glyphs(*fonts.regular)


def test_a_font_without_chinese_or_a_missing_font_is_refused_by_name(tmp_path: Path) -> None:
    assert not has_cjk_glyphs(DEJAVU, 0)
    with pytest.raises(FontNotFound, match=r"DejaVuSans\.ttf has no Chinese glyphs"):
        find_fonts(DEJAVU)
    with pytest.raises(FontNotFound, match="does not exist"):
        find_fonts(tmp_path / "none.ttf")


def test_chinese_wraps_between_characters_and_english_between_words() -> None:
    font = find_fonts().font("regular", 20)
    width = round(font.getlength("深圳市南山区"))
    assert wrap("深圳市南山区深南大道", font, width) == ["深圳市南山区", "深南大道"]
    english = wrap("Renmin Road and Jiefang Avenue", font, round(font.getlength("Renmin Road and")))
    assert english == ["Renmin Road and", "Jiefang Avenue"]
    # A word wider than the box is broken between letters rather than overflowing.
    narrow = wrap("Schwarzenberg", font, round(font.getlength("Schwarz")))
    assert "".join(narrow) == "Schwarzenberg" and len(narrow) == 2


def test_fit_takes_the_largest_size_whose_ink_stays_inside_the_box() -> None:
    fonts = find_fonts()
    box = (10, 10, 210, 70)
    text = fit(["闯红灯", "Ran a red light"], fonts, "bold", box, 2, 8)
    assert text is not None and text.lines == ("闯红灯", "Ran a red light")
    bigger = fit(["闯红灯", "Ran a red light"], fonts, "bold", box, 2, text.font.size + 1)
    assert bigger is None  # one pixel more does not fit
    image = Image.new("L", (220, 80))
    text.draw(ImageDraw.Draw(image), box, "white", "left", "top")
    left, top, right, bottom = image.getbbox() or (0, 0, 0, 0)
    assert box[0] <= left and box[1] <= top and right <= box[2] and bottom <= box[3]


def test_fit_refuses_what_cannot_be_shown_legibly() -> None:
    fonts = find_fonts()
    assert (
        fit(["深圳市南山区深南大道与科技园南路交叉口"], fonts, "regular", (0, 0, 60, 20), 1, 9)
        is None
    )
    assert fit(["   "], fonts, "regular", (0, 0, 60, 20), 1, 9) is None
