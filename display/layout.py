"""Layout specs: what goes where on a screen, as data (`display/layouts/<name>.yaml`).

Boxes are fractions of the screen's safe area, so one spec serves every resolution of its
shape; text is a Jinja2 template over the slide's fields, and a line whose field the privacy
policy hid renders empty and is dropped. Specs are loaded once and checked: an unknown key or
a box outside the screen names the file and the field.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from jinja2 import StrictUndefined, Template
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from display.fonts import Weight

LAYOUTS_DIR = Path(__file__).parent / "layouts"
LayoutName = Literal["wide", "compact", "portrait", "idle"]
COMPACT_BELOW_PX = 240
"""Screens lower than this are LED modules: few, large lines (see `compact.yaml`)."""

_jinja = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


class LayoutError(ValueError):
    """A layout spec that cannot be used."""


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Region(Spec):
    name: str
    box: tuple[float, float, float, float] = Field(
        description="x0, y0, x1, y1 as fractions (0-1) of the safe area"
    )
    fill: str | None = Field(None, description="Background colour of the region")
    picture: bool = Field(False, description="The offender picture, scaled to fit")
    text: str | None = Field(None, description="Jinja2 template; one paragraph per line")
    color: str = "#ffffff"
    weight: Weight = "regular"
    align: Literal["left", "center", "right"] = "left"
    valign: Literal["top", "middle", "bottom"] = "middle"
    max_lines: int = Field(1, ge=1)
    min_px: int = Field(9, ge=6, description="Smallest legible size; below it, not shown")
    max_px: int | None = Field(None, ge=6, description="Largest size, for quiet lines")
    inset: float = Field(0.0, ge=0, lt=0.5, description="Padding, as a fraction of box height")
    optional: bool = Field(False, description="Left out, not an error, when it cannot fit")

    @model_validator(mode="after")
    def _one_kind(self) -> Region:
        x0, y0, x1, y1 = self.box
        if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
            raise ValueError(f"box {self.box} is not inside 0-1 with x0 < x1 and y0 < y1")
        if self.picture and self.text is not None:
            raise ValueError("a region is a picture or text, not both")
        return self

    @property
    def template(self) -> Template | None:
        return None if self.text is None else _template(self.text)


@cache
def _template(source: str) -> Template:
    return _jinja.from_string(source)


class Layout(Spec):
    description: str
    background: str = "#000000"
    margin: float = Field(
        0.03,
        ge=0,
        lt=0.25,
        description="Safe margin on every edge, as a fraction of the short side",
    )
    regions: list[Region] = Field(min_length=1)

    def safe_area(self, width: int, height: int) -> tuple[int, int, int, int]:
        m = round(self.margin * min(width, height))
        return (m, m, width - m, height - m)

    def pixels(self, region: Region, width: int, height: int) -> tuple[int, int, int, int]:
        left, top, right, bottom = self.safe_area(width, height)
        w, h = right - left, bottom - top
        x0, y0, x1, y1 = region.box
        box = (left + round(x0 * w), top + round(y0 * h), left + round(x1 * w), top + round(y1 * h))
        pad = round(region.inset * (box[3] - box[1]))
        return (box[0] + pad, box[1] + pad, box[2] - pad, box[3] - pad)


def load_layout(path: Path) -> Layout:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        layout = Layout.model_validate(data)
        for region in layout.regions:
            _ = region.template  # a template syntax error fails here, with the file named
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise LayoutError(f"{path}: {problems}") from exc
    except Exception as exc:
        raise LayoutError(f"{path}: {exc}") from exc
    return layout


@cache
def layout(name: LayoutName) -> Layout:
    return load_layout(LAYOUTS_DIR / f"{name}.yaml")


def layout_for(width: int, height: int, configured: str = "auto") -> LayoutName:
    """The configured layout, or the one whose shape suits the screen."""
    if configured != "auto":
        return configured  # type: ignore[return-value]  # checked by the config
    if height < COMPACT_BELOW_PX:
        return "compact"
    return "portrait" if height > width else "wide"
