"""Cameras: their sources and streams, and the geometry drawn on their images."""

from __future__ import annotations

import random
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AwareDatetime, Field, ValidationInfo, field_validator, model_validator

from pipeline.config.base import Identifier, Model, Point
from pipeline.config.signals import SignalHead, SignalSource


class StopLine(Model):
    id: Identifier = Field(description="Name of the stop line, unique within the camera")
    approach: Identifier = Field(description="Approach (signal group) this line belongs to")
    points: list[Point] = Field(
        min_length=2,
        max_length=2,
        description=(
            "Two pixel points [x, y] on the painted line, spanning every lane of the approach, "
            "including the oncoming half where riders pass a queue; the ends may lie past the "
            "image edge"
        ),
    )
    direction: Literal["up", "down", "left", "right"] = Field(
        description="Image direction in which traffic crosses the line (e.g. up = towards y=0)"
    )
    exempt_turns: list[Literal["left", "right", "straight"]] = Field(
        default_factory=list,
        description="Movements allowed on red from this line (turn on red); not cited",
    )


class EntryLine(Model):
    id: Identifier = Field(description="Name of the intersection-entry line")
    stop_line: Identifier = Field(description="The stop line this entry line confirms")
    points: list[Point] = Field(
        min_length=2,
        max_length=2,
        description=(
            "Two pixel points [x, y] on the road past the stop line, as wide as the stop line; "
            "crossing it means entry"
        ),
    )


class Zone(Model):
    id: Identifier = Field(description="Name of the zone, unique within the camera")
    polygon: list[Point] = Field(
        min_length=3, description="Polygon vertices in pixels [[x, y], ...], at least 3"
    )


class Crosswalk(Zone):
    approach: Identifier | None = Field(
        None, description="Pedestrian signal group that controls this crosswalk, if any"
    )


Anchor = Literal["bottom_centre", "leading_edge"]


class Geometry(Model):
    anchor: Anchor = Field(
        "bottom_centre",
        description=(
            "Which point of a road user crosses the lines: bottom_centre, where it meets the "
            "road (right for lines drawn on the paint); leading_edge, the box edge in the "
            "direction of travel (only for a camera looking straight down)"
        ),
    )
    stop_lines: list[StopLine] = Field(
        default_factory=list, description="Stop lines, one per lane group"
    )
    entry_lines: list[EntryLine] = Field(
        default_factory=list, description="Second lines past the stop line; crossing both is entry"
    )
    crosswalks: list[Crosswalk] = Field(default_factory=list, description="Zebra crossings")
    carriageways: list[Zone] = Field(
        default_factory=list,
        description=(
            "Road surface where pedestrians may not walk; where the road leaves the view, take "
            "the polygon past the image edge, so a person cut by the edge is still on the road"
        ),
    )
    signal_heads: list[SignalHead] = Field(
        default_factory=list, description="Signal-head ROIs for the vision signal source"
    )
    detection_zones: list[Zone] = Field(
        default_factory=list,
        description=(
            "Road and pavement where road users can be; a detection whose ground point lies "
            "outside all of them (a roof, a billboard, the sky) never becomes a track. Empty: "
            "the whole frame; polygons may reach past the image edge"
        ),
    )


LIVE_SCHEMES = {"rtsp", "rtsps", "http", "https"}


def is_live(source: str) -> bool:
    """Whether a camera source is a stream (read live) rather than a file or folder."""
    return urlsplit(source).scheme.lower() in LIVE_SCHEMES


class StreamOptions(Model):
    """Timeouts and retry policy of a live (RTSP/HTTP) source."""

    open_timeout_s: float = Field(
        10.0, gt=0, le=300, description="Seconds to wait for a stream to open"
    )
    read_timeout_s: float = Field(
        5.0,
        gt=0,
        le=300,
        description=(
            "Seconds without a frame after which the stream counts as lost, even if its "
            "connection stays open (over RTSP FFmpeg was seen to give up after about 3x this)"
        ),
    )
    backoff_initial_s: float = Field(
        0.5, gt=0, description="First delay before reopening a lost stream, seconds; doubles"
    )
    backoff_max_s: float = Field(30.0, gt=0, description="Longest delay between reopen attempts")
    backoff_jitter: float = Field(
        0.25,
        ge=0,
        lt=1,
        description=(
            "Fraction (0-1) of each delay taken off at random, so cameras behind one failed "
            "switch do not all reconnect in the same instant"
        ),
    )
    down_after_s: float = Field(
        60.0, gt=0, description="Seconds without a frame after which the camera health is 'down'"
    )

    def backoff_s(self, failures: int, rng: random.Random) -> float:
        """Delay before reconnect attempt number `failures` (0-based), never above the maximum."""
        base = min(self.backoff_max_s, self.backoff_initial_s * 2 ** min(failures, 32))
        return base * (1.0 - self.backoff_jitter * rng.random())


class GroundCalibration(Model):
    """Four marks on the road, in the image and measured on the ground: what turns a road
    user's movement in pixels into metres, so evidence can state a speed in km/h."""

    image_points: list[Point] = Field(
        min_length=4,
        max_length=4,
        description="Four marks on the road surface, in analysed-frame pixels [x, y]",
    )
    ground_points_m: list[tuple[float, float]] = Field(
        min_length=4,
        max_length=4,
        description=(
            "The same four marks measured on the road, in metres [x, y] from any point on it "
            "(a kerb corner), in the same order"
        ),
    )
    surveyed: str = Field(
        min_length=1,
        max_length=200,
        description="Who measured the marks and when, as the court report prints it",
    )

    @model_validator(mode="after")
    def _solvable(self) -> GroundCalibration:
        from pipeline.geometry import homography

        image = [(float(x), float(y)) for x, y in self.image_points]
        homography(image, self.ground_points_m)  # raises ValueError: three in a line
        return self


class CameraConfig(Model):
    id: Identifier = Field(description="Camera id, unique in the deployment")
    source: str = Field(
        description="rtsp://, http(s):// URL, a video file path, or a folder of images"
    )
    evidence_source: str | None = Field(
        None,
        description=(
            "The same camera's full-resolution main stream (or its recording, if `source` is "
            "a recording too), when `source` is its sub-stream: analysis runs on `source`, "
            "evidence is decoded from this one, kept compressed until a violation needs it. "
            "Geometry stays in `source` pixels"
        ),
    )
    recorded_at: AwareDatetime | None = Field(
        None,
        description=(
            "A video file or image folder source: when its first frame was filmed, with its "
            "time zone (2026-11-21T08:00:00+08:00). Empty: the file's own creation_time, else "
            "its modification time. Capture times and violation ids come from it, so a replay "
            "of the same footage makes no new case"
        ),
    )
    analysis_fps: float = Field(10.0, gt=0, le=60, description="Frames per second to analyse")
    location: str = Field(description="Human-readable place, printed on notices and billboards")
    geometry: Geometry = Field(default_factory=Geometry, description="Lines and zones in pixels")
    signal: SignalSource = Field(description="Where this camera's signal phase comes from")
    ground_calibration: GroundCalibration | None = Field(
        None,
        description=(
            "Four road marks with their measured positions: evidence then states speeds in "
            "km/h; without it no speed is stated"
        ),
    )
    stream: StreamOptions = Field(
        default_factory=StreamOptions, description="Live sources: timeouts and reconnect policy"
    )
    max_box_share: float = Field(
        0.4,
        gt=0,
        le=1,
        description=(
            "Largest share (0-1) of the frame's area a detection may cover; larger boxes are "
            "spurious (a frame-wide 'car') and never become tracks"
        ),
    )
    zoom_windows_px: list[tuple[int, int, int, int]] = Field(
        default_factory=list,
        description=(
            "Regions [x, y, width, height] that the detector also sees on their own, enlarged, "
            "besides the whole frame: where far road users are too small for the model's input "
            "(each window costs one more inference per analysed frame)"
        ),
    )

    @field_validator("evidence_source")
    @classmethod
    def _evidence_source_is_like_source(cls, value: str | None, info: ValidationInfo) -> str | None:
        source = info.data.get("source")
        if value is not None and source is not None and is_live(source) != is_live(value):
            raise ValueError(
                "must be a stream when source is a stream, and a file when source is a file: "
                "the two are matched by stream time"
            )
        return value

    @field_validator("zoom_windows_px")
    @classmethod
    def _windows_have_area(
        cls, windows: list[tuple[int, int, int, int]]
    ) -> list[tuple[int, int, int, int]]:
        for x, y, width, height in windows:
            if x < 0 or y < 0 or width < 16 or height < 16:
                raise ValueError(f"window {[x, y, width, height]} needs x, y >= 0 and sides >= 16")
        return windows

    def setup_record(self) -> dict[str, object]:
        """What decides a case on this camera, as the detect stage records it in each case's
        manifest: a court report then draws the lines that were in force, not today's."""
        return {
            "geometry": self.geometry.model_dump(mode="json"),
            "ground_calibration": None
            if self.ground_calibration is None
            else self.ground_calibration.model_dump(mode="json"),
            "signal_source": self.signal.kind,
            "analysis_fps": self.analysis_fps,
        }
