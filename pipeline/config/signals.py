"""Signal heads and where each camera's phases come from (controller, vision, fixed plan)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from pipeline.config.base import Identifier, Model

LampColour = Literal["red", "amber", "green"]


class Lamp(Model):
    """One lamp of a head, where the camera sees it (`stopline camera calibrate-signal`)."""

    colour: LampColour = Field(description="What the lamp shows when lit")
    centre_px: tuple[int, int] = Field(description="Centre [x, y] of the lamp in frame pixels")
    radius_px: int = Field(ge=1, le=100, description="Radius in pixels of the lamp's lit core")
    lit_value: int = Field(
        ge=1,
        le=255,
        description="Mean brightness (HSV value, 0-255) over the core from which the lamp is lit",
    )


class SignalHead(Model):
    id: Identifier = Field(description="Name of the signal head")
    approach: Identifier = Field(description="Approach (signal group) it shows")
    kind: Literal["vehicle", "pedestrian"] = Field(
        "vehicle", description="Which road users obey it"
    )
    roi_px: tuple[int, int, int, int] = Field(
        description="Region of interest [x, y, width, height] in pixels around the lamp housing"
    )
    lamps: list[Lamp] = Field(
        default_factory=list,
        description=(
            "Calibrated lamps (`stopline camera calibrate-signal` writes them): the head reads "
            "as the colour of the one lamp lit, whatever hue the camera gives it; empty reads "
            "the hue of the lit pixels in roi_px"
        ),
    )


class FixedPlanPhase(Model):
    approach: Identifier = Field(description="Approach this timing applies to")
    green_start_s: float = Field(
        ge=0, description="Offset of green onset within the cycle, seconds"
    )
    green_s: float = Field(gt=0, description="Green duration, seconds")
    amber_s: float = Field(ge=0, description="Amber duration, seconds")


class FlickerPolicy(Model):
    """When phases change faster than a controller changes them, trust none of them.

    That is a failing lamp, a flashing mode or a confused classifier; a normal cycle changes at
    most twice within one amber (green, amber, red).
    """

    window_s: float = Field(2.0, gt=0, description="Seconds over which phase changes are counted")
    max_changes: int = Field(
        2, ge=1, description="More changes (count) than this within window_s is flicker"
    )
    holdoff_s: float = Field(
        5.0, ge=0, description="After flicker, seconds without a change before a phase counts"
    )


class SignalSource(Model):
    kind: Literal["controller", "vision", "fixed_plan"] = Field(
        description="controller: phase events on the 'signals' topic; vision: signal-head ROI "
        "colour; fixed_plan: a timed cycle"
    )
    cycle_s: float | None = Field(None, gt=0, description="fixed_plan: cycle length, seconds")
    plan: list[FixedPlanPhase] = Field(default_factory=list, description="fixed_plan: per approach")
    smoothing_frames: int = Field(
        5, ge=1, le=100, description="vision: frames a colour must persist before it counts"
    )
    stale_after_s: float = Field(
        5.0,
        gt=0,
        description=(
            "controller and vision: seconds without a report (or a readable lamp) after which "
            "the phase is unknown"
        ),
    )
    flicker: FlickerPolicy = Field(
        default_factory=FlickerPolicy,
        description="controller and vision: phase changes too fast to be real suppress citing",
    )
    dark_gap_s: float = Field(
        1.0,
        ge=0,
        description=(
            "controller and vision: longest 'unknown' (seconds from the last amber report to "
            "the first red one) that still counts as the amber-to-red changeover, as when a "
            "lamp head is dark for a few frames; red onset is then its first red report"
        ),
    )
