"""Shared pieces of every config section: the strict base model, identifiers and points."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Coordinate = Annotated[float, Field(allow_inf_nan=False)]
Point = Annotated[
    tuple[Coordinate, Coordinate],
    Field(
        description=(
            "Pixel coordinates [x, y] in the camera image, origin top-left; a point may lie "
            "past the image edge (negative, or beyond its width or height), so a zone or line "
            "can run on where the road leaves the view"
        )
    ),
]
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
Phase = Literal["red", "amber", "green", "unknown"]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
