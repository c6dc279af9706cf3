"""Reading a signal head's lamps: by the hue of what is lit, or by which calibrated lamp is lit.

Hue alone misreads some heads: white balance and ageing LEDs put an amber lamp at hue ~10,
where red is, and the heads of one approach then disagree. The lamps of a fixed head never move
in the image, so once their positions are known the lit one names the phase. `calibrate` learns
them from the head's own footage: it finds the lit blob in each frame, groups the blobs by
position, and names the groups by their order along the head (red first: the top of a vertical
head, the left of a horizontal one), checked against their hue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import cv2
import numpy as np

from pipeline.config import Lamp, LampColour, SignalHead

PhaseName = Literal["red", "amber", "green", "unknown"]
ORDER: tuple[LampColour, ...] = ("red", "amber", "green")
"""Lamps along a head from its top (vertical) or left (horizontal), as almost every head is."""
MIN_LAMP_FRAMES = 3
"""Frames a lit position needs before it counts as a lamp (not a reflection or a passing light)."""
MIN_CONTRAST = 1.5
"""A lamp lit must be this many times brighter than when another lamp is lit, or its position
cannot tell on from off and it is left out (the head then reads unknown while it is lit)."""


@dataclass(frozen=True)
class LampColours:
    """HSV bands of a lit lamp (OpenCV scale: hue 0-179, saturation and value 0-255).

    Tuned on real CCTV crops (signals-roboflow): a lit lamp's core burns out to white, so only
    its saturated halo carries the colour. Red reaches into hue 0-12, amber runs up to hue 40
    (yellow-green on some cameras), green LEDs look cyan (hue 60-100).
    """

    min_saturation: int = 90
    min_value: int = 100
    red_hues: tuple[int, int] = (160, 12)
    """Wraps around 0: hue >= first or <= second."""
    amber_hues: tuple[int, int] = (13, 40)
    green_hues: tuple[int, int] = (60, 100)
    min_share: float = 0.5
    """The winning colour's share of the coloured halo; below it the lamp is ambiguous."""
    min_lit_px: int = 3


DEFAULT_COLOURS = LampColours()


def _lit_pixels(
    roi_bgr: np.ndarray, colours: LampColours
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(hue, value, mask) of the ROI's lit pixels; None when too few are lit to be a lamp."""
    if roi_bgr.size == 0:
        return None
    hue, sat, val = cv2.split(cv2.cvtColor(roi_bgr, cv2.COLOR_BGR2HSV))
    lit = (sat >= colours.min_saturation) & (val >= colours.min_value)
    return (hue, val, lit) if np.count_nonzero(lit) >= colours.min_lit_px else None


def classify_lamp(roi_bgr: np.ndarray, colours: LampColours = DEFAULT_COLOURS) -> PhaseName:
    """The colour of the lit lamp in an ROI, or unknown when none clearly dominates."""
    pixels = _lit_pixels(roi_bgr, colours)
    if pixels is None:
        return "unknown"
    hue, val, lit = pixels
    h = hue[lit]
    weight = val[lit].astype(np.float64)  # brighter pixels are nearer the lamp
    bands: dict[PhaseName, np.ndarray] = {
        "red": (h >= colours.red_hues[0]) | (h <= colours.red_hues[1]),
        "amber": (h >= colours.amber_hues[0]) & (h <= colours.amber_hues[1]),
        "green": (h >= colours.green_hues[0]) & (h <= colours.green_hues[1]),
    }
    scores = {name: float(weight[band].sum()) for name, band in bands.items()}
    best = max(scores, key=scores.__getitem__)
    total = sum(scores.values())
    return best if total > 0 and scores[best] >= colours.min_share * total else "unknown"


def crop(image: np.ndarray, roi: tuple[int, int, int, int]) -> np.ndarray:
    x, y, w, h = roi
    return image[max(y, 0) : max(y + h, 0), max(x, 0) : max(x + w, 0)]


def lamp_value(image_bgr: np.ndarray, centre: tuple[int, int], radius: int) -> float:
    """Brightness (HSV value: the largest of B, G, R) of the lamp's core square, at its 90th
    percentile: a lamp of a few pixels is judged by its bright core, not by the housing."""
    x, y = centre
    patch = crop(image_bgr, (x - radius, y - radius, 2 * radius + 1, 2 * radius + 1))
    return float(np.percentile(patch.max(axis=2), 90)) if patch.size else 0.0


def read_lamps(image_bgr: np.ndarray, lamps: Sequence[Lamp]) -> PhaseName:
    """The colour of the one calibrated lamp lit; unknown when none or several are."""
    lit = [
        lamp
        for lamp in lamps
        if lamp_value(image_bgr, lamp.centre_px, lamp.radius_px) >= lamp.lit_value
    ]
    return lit[0].colour if len(lit) == 1 else "unknown"


@dataclass(frozen=True)
class Blob:
    """The lit pixels of one frame's head crop: where (crop pixels), how big, what hue says."""

    centre: tuple[float, float]
    area_px: int
    hue_says: PhaseName


def lit_blob(patch_bgr: np.ndarray, colours: LampColours = DEFAULT_COLOURS) -> Blob | None:
    pixels = _lit_pixels(patch_bgr, colours)
    if pixels is None:
        return None
    _, val, lit = pixels
    ys, xs = np.nonzero(lit)
    weight = val[lit].astype(np.float64)
    centre = (float(np.average(xs, weights=weight)), float(np.average(ys, weights=weight)))
    return Blob(centre, int(lit.sum()), classify_lamp(patch_bgr, colours))


@dataclass
class LampFit:
    """A calibrated lamp with the evidence behind it, for the operator to judge."""

    lamp: Lamp
    lit_frames: int
    hue_votes: dict[str, int]
    on_value: float
    off_value: float | None
    """Its brightness while another lamp was lit; None when no other lamp ever was."""


@dataclass
class HeadCalibration:
    head: SignalHead
    frames: int
    fits: list[LampFit] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def lamps(self) -> list[Lamp]:
        return [fit.lamp for fit in self.fits]


def _group(blobs: list[tuple[int, Blob]], join_px: float) -> list[list[tuple[int, Blob]]]:
    """Blobs of the same lamp: within `join_px` of the running centre of a group."""
    groups: list[list[tuple[int, Blob]]] = []
    centres: list[np.ndarray] = []
    for item in blobs:
        point = np.array(item[1].centre)
        near = [i for i, c in enumerate(centres) if np.linalg.norm(point - c) <= join_px]
        if near:
            i = near[0]
            groups[i].append(item)
            centres[i] = np.mean([b.centre for _, b in groups[i]], axis=0)
        else:
            groups.append([item])
            centres.append(point)
    return groups


def _hue_votes(group: list[tuple[int, Blob]]) -> dict[str, int]:
    return {c: sum(b.hue_says == c for _, b in group) for c in (*ORDER, "unknown")}


def _names(groups: list[list[tuple[int, Blob]]]) -> list[LampColour]:
    """Colours for lamp groups sorted along the head: hue where it is unambiguous, else order."""
    counts = [_hue_votes(group) for group in groups]
    votes = [max(ORDER, key=count.__getitem__) for count in counts]
    if len(set(votes)) == len(votes) and votes == sorted(votes, key=ORDER.index):
        return votes
    if len(groups) == len(ORDER):
        return list(ORDER)
    # Two lamps seen: green is the one hue never confuses; the others take the order.
    rest = iter(c for c in ORDER if c != "green" or "green" not in votes)
    return ["green" if v == "green" else next(rest) for v in votes]


def calibrate(
    images: Sequence[np.ndarray], head: SignalHead, colours: LampColours = DEFAULT_COLOURS
) -> HeadCalibration:
    """Lamps of `head` from footage of it: `images` are its `roi_px` cut from each frame
    (`crop`), so an hour of 1080p costs kilobytes. Each colour must be lit in a few frames."""
    result = HeadCalibration(head, len(images))
    x, y, w, h = head.roi_px
    origin = (max(x, 0), max(y, 0))
    vertical = h >= w
    blobs = [(i, b) for i, image in enumerate(images) if (b := lit_blob(image, colours))]
    join_px = max(3.0, 0.2 * max(w, h))
    groups = [g for g in _group(blobs, join_px) if len(g) >= MIN_LAMP_FRAMES]
    groups = sorted(groups, key=len, reverse=True)[: len(ORDER)]
    groups.sort(key=lambda g: np.median([b.centre[1 if vertical else 0] for _, b in g]))
    if not groups:
        result.warnings.append(f"{head.id}: no lamp lit in {len(images)} frames")
        return result
    names = _names(groups)
    lit_in = {i: colour for group, colour in zip(groups, names, strict=True) for i, _ in group}
    for group, colour in zip(groups, names, strict=True):
        cx, cy = np.median([b.centre for _, b in group], axis=0)
        radius = max(
            1, round(0.5 * float(np.sqrt(np.median([b.area_px for _, b in group]) / np.pi)))
        )
        centre = (round(float(cx)), round(float(cy)))  # in the crop
        # Frames where the hue agreed are the surest "on" samples; dim frames join the group.
        sure = [i for i, b in group if b.hue_says == colour]
        on = [
            lamp_value(images[i], centre, radius)
            for i in (sure if len(sure) >= MIN_LAMP_FRAMES else [i for i, _ in group])
        ]
        off = [lamp_value(images[i], centre, radius) for i, c in lit_in.items() if c != colour]
        on_value = float(np.percentile(on, 10))
        off_value = float(np.percentile(off, 90)) if off else None
        lit_value = (on_value + off_value) / 2 if off_value is not None else 0.75 * on_value
        if off_value is not None and on_value < MIN_CONTRAST * off_value:
            result.warnings.append(
                f"{head.id}: the {colour} lamp is left out: lit {on_value:.0f}, off "
                f"{off_value:.0f} (brightness), too close to tell apart"
            )
            continue
        lamp = Lamp(
            colour=colour,
            centre_px=(centre[0] + origin[0], centre[1] + origin[1]),
            radius_px=radius,
            lit_value=max(1, min(255, int(lit_value))),
        )
        result.fits.append(LampFit(lamp, len(group), _hue_votes(group), on_value, off_value))
    missing = [c for c in ORDER if c not in names]
    if missing:
        result.warnings.append(
            f"{head.id}: {', '.join(missing)} never lit in these {len(images)} frames: "
            "calibrate on footage of a whole cycle, or the head reads unknown while they are lit"
        )
    return result
