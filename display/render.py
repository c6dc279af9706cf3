"""Drawing a slide at a screen's resolution, by its layout spec.

Every screen is checked once at start-up with the longest text a slide can carry (a four-part
Latin name, a long Chinese crossing name), so a layout that cannot hold it on some screen stops
the stage there instead of cutting a line off in the street.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

import numpy as np
from PIL import Image, ImageDraw

from display.fonts import FontFiles
from display.layout import Layout, layout, layout_for
from display.slide import OFFENCES, Slide, idle_slide
from display.text import fit
from pipeline.config import ScreenConfig

PNG_COMPRESS_LEVEL = 3
"""PNG at level 3 is a third of level 6's time for a few per cent more bytes."""


class DoesNotFit(ValueError):
    """A required text region that cannot hold its text at its smallest legible size."""


def sample_slides(message: str) -> list[Slide]:
    """The longest slides the display must draw: what every screen is checked with."""
    when = datetime(2025, 12, 31, 23, 59, tzinfo=UTC)
    slides = []
    for zh, en in OFFENCES.values():
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

    def render(self, slide: Slide, screen: ScreenConfig) -> Image.Image:
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
            text = fit(
                paragraphs,
                self.fonts,
                region.weight,
                box,
                region.max_lines,
                region.min_px,
                region.max_px,
            )
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

    def check(self, screen: ScreenConfig, message: str) -> None:
        """Raise `DoesNotFit` if the longest slide or the idle slide cannot be drawn."""
        for slide in [*sample_slides(message), idle_slide(message, "")]:
            self.render(slide, screen)


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
