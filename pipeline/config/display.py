"""LED billboards at the crossings."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from pipeline.config.base import Identifier, Model
from pipeline.config.server import ServerLimits


class PrivacyPolicy(Model):
    face: Literal["shown", "blurred"] = Field("blurred", description="Offender's face on screen")
    name: Literal["shown", "masked", "hidden"] = Field("masked", description="Name on screen")
    national_id: Literal["masked", "hidden"] = Field("hidden", description="ID number on screen")
    plate: Literal["shown", "masked"] = Field("masked", description="Plate text on screen")
    unidentified: Literal["hidden", "shown"] = Field(
        "hidden",
        description=(
            "A case that names nobody (no face match, no registered keeper): hidden keeps it "
            "off the screens, since a picture without a name fines nobody and exposes someone"
        ),
    )


class ScreenConfig(Model):
    id: Identifier = Field(description="Screen id, unique in the deployment")
    cameras: list[Identifier] = Field(
        min_length=1, description="Cameras at this screen's crossing whose citations it shows"
    )
    width_px: int = Field(ge=64, le=7680, description="Screen width in pixels")
    height_px: int = Field(ge=32, le=4320, description="Screen height in pixels")
    layout: Literal["auto", "wide", "compact", "portrait"] = Field(
        "auto",
        description=(
            "Layout spec: compact for small LED modules, wide for landscape screens, portrait "
            "for tall ones; auto picks by size (under 240 px high: compact)"
        ),
    )
    output: Literal["folder", "http", "kiosk", "rgb565"] = Field(
        "folder",
        description=(
            "How frames reach the controller: PNG files in a folder it polls, an HTTP POST of "
            "each new frame, the kiosk page of `stopline display serve`, or raw RGB565 files "
            "for HUB75-style panels"
        ),
    )
    output_dir: Path = Field(
        Path("billboard"),
        description="folder/rgb565: where frames are written (a subfolder per screen)",
    )
    http_url: str | None = Field(
        None,
        pattern=r"^https?://\S+$",
        description="http: URL that each new frame is POSTed to (image/png)",
    )
    dwell_s: float = Field(8.0, gt=0, description="Seconds each item stays on screen")
    max_age_h: float = Field(72.0, gt=0, description="Hours after approval an item expires")

    @model_validator(mode="after")
    def _http_has_url(self) -> ScreenConfig:
        if self.output == "http" and self.http_url is None:
            raise ValueError("output http needs http_url")
        return self


class DisplayConfig(Model):
    enabled: bool = Field(True, description="Post approved citations on billboards")
    privacy: PrivacyPolicy = Field(default_factory=PrivacyPolicy, description="What may be shown")
    hold_for_appeal: bool = Field(
        True,
        description=(
            "Keep an approved case off the screens until its appeal window "
            "(notifier.appeal_days after approval) has passed, or an appeal was decided "
            "against the person or the fine paid"
        ),
    )
    screens: list[ScreenConfig] = Field(default_factory=list, description="LED screens")
    message: str = Field(
        "红灯停 绿灯行 · Stop on red, go on green",
        min_length=1,
        max_length=80,
        description="Short message on every slide and on the idle slide",
    )
    font_path: Path | None = Field(
        None,
        description=(
            "TrueType/OpenType font with CJK glyphs (a .ttc takes its Simplified Chinese face); "
            "none: Noto Sans CJK from the Debian package fonts-noto-cjk"
        ),
    )
    listen_host: str = Field("127.0.0.1", description="Address the kiosk pages bind to")
    listen_port: int = Field(8090, ge=1, le=65535, description="TCP port of the kiosk pages")
    server: ServerLimits = Field(
        default_factory=ServerLimits, description="Connection limits of the kiosk pages' server"
    )
    long_poll_s: float = Field(
        20.0,
        gt=0,
        le=60,
        description=(
            "Longest a kiosk page's playlist request is held waiting for a change (the page "
            "asks for up to 20 s); shorter where a proxy in between cuts idle requests sooner"
        ),
    )
