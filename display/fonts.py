"""The CJK font every billboard is drawn with.

Chinese and English share one face, so a bilingual line has one baseline and one weight. The
face must really have the glyphs: a font without them draws empty boxes (tofu), which on a
public screen reads as a broken system, so a font is checked on load and a missing one stops
the stage at start-up with what to install.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from PIL import Image, ImageDraw, ImageFont

Weight = Literal["regular", "bold"]

NOTO_DIRS = (
    Path("/usr/share/fonts/opentype/noto"),
    Path("/usr/share/fonts/noto-cjk"),
    Path("/usr/share/fonts/google-noto-cjk"),
)
NOTO_FILES: dict[Weight, str] = {
    "regular": "NotoSansCJK-Regular.ttc",
    "bold": "NotoSansCJK-Bold.ttc",
}
SIMPLIFIED_FACE = "Noto Sans CJK SC"
"""A .ttc holds the JP, KR, SC, TC and HK faces; their glyph shapes differ (e.g. 骨, 闯)."""
PROBE = "闯红灯罚款"
INSTALL_HINT = (
    "install the Debian package fonts-noto-cjk (apt-get install fonts-noto-cjk) "
    "or set display.font_path to a font with Chinese glyphs"
)


class FontNotFound(RuntimeError):
    """No usable CJK font: the billboard cannot be drawn correctly."""


@dataclass(frozen=True)
class FontFiles:
    """The file (and face index within it) of each weight."""

    regular: tuple[Path, int]
    bold: tuple[Path, int]

    def path(self, weight: Weight) -> tuple[Path, int]:
        return self.regular if weight == "regular" else self.bold

    def font(self, weight: Weight, size_px: int) -> ImageFont.FreeTypeFont:
        return _font(*self.path(weight), size_px)


@lru_cache(maxsize=512)
def _font(path: Path, index: int, size_px: int) -> ImageFont.FreeTypeFont:
    # The basic layout engine: the same pixels with or without libraqm, so golden images hold.
    return ImageFont.truetype(str(path), size_px, index=index, layout_engine=ImageFont.Layout.BASIC)


def _face_index(path: Path) -> int:
    """The Simplified Chinese face of a collection; 0 for a single-face file."""
    for index in range(16):
        try:
            font = ImageFont.truetype(str(path), 12, index=index)
        except OSError:
            break
        if font.getname()[0] == SIMPLIFIED_FACE:
            return index
    return 0


def has_cjk_glyphs(path: Path, index: int) -> bool:
    """True when the face draws the probe characters differently from a missing glyph."""
    font = ImageFont.truetype(str(path), 32, index=index)

    def ink(text: str) -> bytes:
        image = Image.new("L", (40 * len(text), 48))
        ImageDraw.Draw(image).text((0, 0), text, font=font, fill=255)
        return image.tobytes()

    missing = ink("\U0010fffd")  # a private-use code point no font maps: the .notdef glyph
    return all(ink(char) not in (missing, ink(" ")) for char in PROBE)


def find_fonts(font_path: Path | None = None) -> FontFiles:
    """The configured font for both weights, else Noto Sans CJK SC from fonts-noto-cjk."""
    if font_path is not None:
        if not font_path.is_file():
            raise FontNotFound(f"display.font_path {font_path} does not exist")
        chosen = (font_path, _face_index(font_path))
        if not has_cjk_glyphs(*chosen):
            raise FontNotFound(f"display.font_path {font_path} has no Chinese glyphs")
        return FontFiles(regular=chosen, bold=chosen)
    for folder in NOTO_DIRS:
        paths = {weight: folder / name for weight, name in NOTO_FILES.items()}
        if all(p.is_file() for p in paths.values()):
            files = FontFiles(
                regular=(paths["regular"], _face_index(paths["regular"])),
                bold=(paths["bold"], _face_index(paths["bold"])),
            )
            if has_cjk_glyphs(*files.regular):
                return files
    searched = ", ".join(str(d) for d in NOTO_DIRS)
    raise FontNotFound(f"no Noto Sans CJK font in {searched}: {INSTALL_HINT}")
