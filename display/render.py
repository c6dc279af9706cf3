"""Drawing a slide at a screen's resolution, by its layout spec.

Every screen is checked once at start-up with the longest text a slide can carry (a four-part
Latin name, a long Chinese crossing name), so a layout that cannot hold it on some screen stops
the stage there instead of cutting a line off in the street. Record text beyond that (a
registry name of a hundred words) is cut, with an ellipsis, when a live slide is drawn: refusing
it would stop the screen that it is queued on.
"""

from __future__ import annotations

import bisect
import io
from datetime import UTC, datetime

import numpy as np
from PIL import Image, ImageDraw

from display.fonts import FontFiles
from display.layout import Layout, Region, layout, layout_for
from display.slide import RECORD_FIELDS, Slide, idle_slide
from display.text import FittedText, fit
from pipeline.config import ScreenConfig
from pipeline.offences import examples

ELLIPSIS = "…"
PNG_COMPRESS_LEVEL = 3
"""PNG at level 3 is a third of level 6's time for a few per cent more bytes."""


class DoesNotFit(ValueError):
    """A required text region that cannot hold its text at its smallest legible size."""


def sample_slides(message: str) -> list[Slide]:
    """The longest slides the display must draw: what every screen is checked with."""
    when = datetime(2025, 12, 31, 23, 59, tzinfo=UTC)
    slides = []
    for zh, en in dict.fromkeys((o.title("zh-CN"), o.title("en")) for o in examples()):
        for name, place in (
            ("欧阳*远", "深圳市南山区深南大道与科技园南路交叉口（东向西）"),
            ("M********* A******** S*************", "Renmin Road / Jiefang Avenue, eastbound"),
        ):
            fields: dict[str, str | None] = {
                "offence_zh": zh,
                "offence_en": en,
                "place": place,
                "when": when.strftime("%Y-%m-%d %H:%M"),
                "when_short": when.strftime("%m-%d %H:%M"),
                "fine": "2,000.00 CNY",
                "plate": "粤B***45",
                "name": name,
                "national_id": "440***********1234",
                "reference": "9F86D081",
                "message": message,
            }
            slides.append(Slide("sample", fields, Image.new("RGB", (120, 300), "#808080")))
    return slides


class Renderer:
    """Slides to frames for every screen, with one set of fonts."""

    def __init__(self, fonts: FontFiles) -> None:
        self.fonts = fonts

    def layout_of(self, slide: Slide, screen: ScreenConfig) -> Layout:
        if slide.citation_id is None:
            return layout("idle")
        return layout(layout_for(screen.width_px, screen.height_px, screen.layout))

    def render(self, slide: Slide, screen: ScreenConfig, *, cut: bool = True) -> Image.Image:
        """The slide's frame. Record text too long for a region that must show it (a registry
        name of a hundred words) is cut to the longest that fits, as one such case must not
        stop the screen it is queued on; `check` renders with `cut` off, so a layout too small
        for plausible text still fails at start-up."""
        spec = self.layout_of(slide, screen)
        width, height = screen.width_px, screen.height_px
        image = Image.new("RGB", (width, height), spec.background)
        draw = ImageDraw.Draw(image)
        for region in spec.regions:
            box = spec.pixels(region, width, height)
            if region.fill:
                draw.rectangle(box, fill=region.fill)
            if region.picture:
                if slide.picture is not None:
                    _paste_fitted(image, slide.picture, box)
                continue
            template = region.template
            if template is None:
                continue
            paragraphs = template.render(**slide.fields).split("\n")
            text = self._fit(region, paragraphs, box)
            if text is None and cut and slide.citation_id is not None:
                text = self._cut_to_fit(region, slide.fields, box)
            if text is None:
                if region.optional or not any(p.strip() for p in paragraphs):
                    continue
                raise DoesNotFit(
                    f"layout region {region.name!r} on {width}x{height}: "
                    f"{' / '.join(p for p in paragraphs if p.strip())!r} does not fit "
                    f"in {region.max_lines} line(s) at {region.min_px} px"
                )
            text.draw(draw, box, region.color, region.align, region.valign)
        return image

    def _fit(
        self,
        region: Region,
        paragraphs: list[str],
        box: tuple[int, int, int, int],
        max_px: int | None = None,
    ) -> FittedText | None:
        return fit(
            paragraphs,
            self.fonts,
            region.weight,
            box,
            region.max_lines,
            region.min_px,
            max_px or region.max_px,
        )

    def _cut_to_fit(
        self, region: Region, fields: dict[str, str | None], box: tuple[int, int, int, int]
    ) -> FittedText | None:
        """The region's text with every record field cut (an ellipsis marking it) to the
        longest length at which it fits; None when it does not fit even with them cut to none.
        The length is searched at the smallest size only, where the most fits: a search that
        also sized every try laid a long name out four times as often."""
        assert region.template is not None  # a text region
        template = region.template

        def cut_to(limit: int, max_px: int | None = None) -> FittedText | None:
            cut = {
                k: v[:limit] + ELLIPSIS if k in RECORD_FIELDS and v and len(v) > limit else v
                for k, v in fields.items()
            }
            return self._fit(region, template.render(**cut).split("\n"), box, max_px)

        longest = max((len(v) for k, v in fields.items() if k in RECORD_FIELDS and v), default=0)
        fitting = bisect.bisect(
            range(longest), False, key=lambda n: cut_to(n, region.min_px) is None
        )
        return cut_to(fitting - 1) if fitting else None

    def check(self, screen: ScreenConfig, message: str) -> None:
        """Raise `DoesNotFit` if the longest slide or the idle slide cannot be drawn uncut."""
        for slide in [*sample_slides(message), idle_slide(message, "")]:
            self.render(slide, screen, cut=False)


def _paste_fitted(image: Image.Image, picture: Image.Image, box: tuple[int, int, int, int]) -> None:
    """Scale to fit the box without distortion, centred."""
    width, height = box[2] - box[0], box[3] - box[1]
    scale = min(width / picture.width, height / picture.height)
    size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
    scaled = picture.resize(size, Image.Resampling.LANCZOS)
    image.paste(scaled, (box[0] + (width - size[0]) // 2, box[1] + (height - size[1]) // 2))


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=PNG_COMPRESS_LEVEL)
    return out.getvalue()


def rgb565(image: Image.Image) -> bytes:
    """Raw little-endian RGB565, row by row: what HUB75 panel controllers take."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.uint16)
    packed = ((rgb[..., 0] >> 3) << 11) | ((rgb[..., 1] >> 2) << 5) | (rgb[..., 2] >> 3)
    return packed.astype("<u2").tobytes()
