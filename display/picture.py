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
from typing import Any

import numpy as np
from PIL import Image

from pipeline.config import PrivacyPolicy
from pipeline.geometry import iou
from pipeline.redaction import Box, PeopleFinder, area, blur, centre_in, head

OFFENDER_IOU = 0.3
"""Overlap with the whole picture a person box needs to be the offender's."""


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
    theirs = [f for f in faces if offender and centre_in(f, offender)]
    face = max(theirs, key=area, default=None)
    if face is None and offender is not None:
        face = head(offender)
    elif face is None and pedestrian:
        face = head(frame)
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
