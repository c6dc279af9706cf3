"""The offender picture as a public screen may show it: bystanders always blurred, the
offender's face and plate by the privacy policy.

The picture is the offender crop from the evidence, cut to the offender's tracked box, so the
person box that matches the whole picture best is theirs (a pedestrian, or the rider of a
motorbike) and the face inside it is their face. Everyone else is a bystander: their faces are
blurred, and so is their body wherever it is not in front of or behind the offender. Without a
person box there is no telling whose face is whose, so every face is blurred; where the detector
missed the offender's face, the top of their box stands in for it. An error here blurs too much,
never too little.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from pipeline.config import PrivacyPolicy
from pipeline.geometry import iou

Box = tuple[int, int, int, int]
HEAD_SHARE = 0.28
"""Top share of a standing person's box that holds the head."""
OFFENDER_IOU = 0.3
"""Overlap with the whole picture a person box needs to be the offender's."""
BLUR_GROW = 0.12
"""Blurred boxes grow by this share of their size each way: hair and ears identify too."""
PIXELS_ACROSS = 6
"""A blurred region is first reduced to this many pixels across: nothing to sharpen back."""


class PeopleFinder(Protocol):
    def find(self, image_bgr: np.ndarray, plates: bool) -> tuple[list[Box], list[Box], list[Box]]:
        """(faces, persons, plates) seen in the image, as pixel boxes; plates only if asked."""
        ...


@dataclass(frozen=True)
class People:
    """Who and what is where in one offender picture; stored with the playlist item."""

    offender: Box | None = None
    offender_faces: tuple[Box, ...] = ()
    """Where the offender's face is, or may be."""
    bystander_faces: tuple[Box, ...] = ()
    bystanders: tuple[Box, ...] = ()
    """Person boxes of everyone but the offender."""
    plates: tuple[Box, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "offender": list(self.offender) if self.offender else None,
            "offender_faces": [list(b) for b in self.offender_faces],
            "bystander_faces": [list(b) for b in self.bystander_faces],
            "bystanders": [list(b) for b in self.bystanders],
            "plates": [list(b) for b in self.plates],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> People:
        def boxes(key: str) -> tuple[Box, ...]:
            return tuple(_box(b) for b in data.get(key, []))

        offender = data.get("offender")
        return cls(
            offender=_box(offender) if offender else None,
            offender_faces=boxes("offender_faces"),
            bystander_faces=boxes("bystander_faces"),
            bystanders=boxes("bystanders"),
            plates=boxes("plates"),
        )


def _box(values: Any) -> Box:
    x1, y1, x2, y2 = (int(v) for v in values)
    return (x1, y1, x2, y2)


def _area(box: Box) -> int:
    return max(0, box[2] - box[0]) * max(0, box[3] - box[1])


def _centre_in(box: Box, outer: Box) -> bool:
    x, y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return outer[0] <= x <= outer[2] and outer[1] <= y <= outer[3]


def _head(box: Box) -> Box:
    return (box[0], box[1], box[2], box[1] + round((box[3] - box[1]) * HEAD_SHARE))


def classify(
    faces: list[Box],
    persons: list[Box],
    plates: list[Box],
    width: int,
    height: int,
    pedestrian: bool,
) -> People:
    """Split what a finder saw into the offender and everyone else; `pedestrian`: the picture
    is a person's box, so their head is at its top even when nothing was found."""
    frame = (0, 0, width, height)
    offender = max(persons, key=lambda p: iou(p, frame), default=None)
    if offender is not None and iou(offender, frame) < OFFENDER_IOU:
        offender = None
    theirs = [f for f in faces if offender and _centre_in(f, offender)]
    face = max(theirs, key=_area, default=None)
    if face is None and offender is not None:
        face = _head(offender)
    elif face is None and pedestrian:
        face = _head(frame)
    return People(
        offender=offender,
        offender_faces=(face,) if face else (),
        bystander_faces=tuple(f for f in faces if f != face),
        bystanders=tuple(p for p in persons if p != offender),
        plates=tuple(plates),
    )


def find_people(
    finder: PeopleFinder, picture: Image.Image, pedestrian: bool, policy: PrivacyPolicy
) -> People:
    """Plates are looked for only where the policy masks them and the offender has one."""
    rgb = np.asarray(picture.convert("RGB"))
    wanted = policy.plate == "masked" and not pedestrian
    faces, persons, plates = finder.find(np.ascontiguousarray(rgb[:, :, ::-1]), wanted)
    return classify(faces, persons, plates, picture.width, picture.height, pedestrian)


def _grown(image: Image.Image, box: Box) -> Box:
    grow_x = round((box[2] - box[0]) * BLUR_GROW)
    grow_y = round((box[3] - box[1]) * BLUR_GROW)
    return (
        max(0, box[0] - grow_x),
        max(0, box[1] - grow_y),
        min(image.width, box[2] + grow_x),
        min(image.height, box[3] + grow_y),
    )


def blur(image: Image.Image, box: Box, spare: Box | None = None) -> None:
    """Make a region unrecognisable, in place (pixelate, then soften the blocks), except
    where it overlaps `spare`."""
    x1, y1, x2, y2 = _grown(image, box)
    if x2 <= x1 or y2 <= y1:
        return
    region = image.crop((x1, y1, x2, y2))
    w, h = region.size
    small = (PIXELS_ACROSS, max(1, round(PIXELS_ACROSS * h / w)))
    region = region.resize(small, Image.Resampling.BOX).resize((w, h), Image.Resampling.NEAREST)
    region = region.filter(ImageFilter.GaussianBlur(max(w, h) / 12))
    mask = Image.new("L", (w, h), 255)
    if spare is not None:
        ImageDraw.Draw(mask).rectangle(
            (spare[0] - x1, spare[1] - y1, spare[2] - x1 - 1, spare[3] - y1 - 1), fill=0
        )
    image.paste(region, (x1, y1), mask)


def redact(picture: Image.Image, people: People, policy: PrivacyPolicy) -> Image.Image:
    """A copy with every bystander blurred, and the offender's face and plate unless shown."""
    image = picture.convert("RGB")
    for body in people.bystanders:
        blur(image, body, spare=people.offender)
    faces = list(people.bystander_faces)
    if policy.face == "blurred":
        faces += people.offender_faces
    for box in faces:
        blur(image, box)
    if policy.plate == "masked":
        for box in people.plates:
            blur(image, box)
    return image


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image.convert("RGB")
