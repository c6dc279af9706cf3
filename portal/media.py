"""The evidence as the person fined watches it in the portal: the key frames and the clip with
every bystander's face and body and every other vehicle's plate blurred.

The detect stage records the offender's box in every frame of the clip and in every key frame
(manifest facts `offender_boxes`, `key_frame_boxes`): what lies in it is the offender's (their
vehicle, its plate, its rider or driver, the pedestrian), everything found outside it is a
bystander's. A face inside it is still a bystander's when it sits in the head of another
person's box. Evidence recorded before those facts existed has no offender box, so everything
found is blurred, the offender included: an error here blurs too much, never too little.

Finding people in every frame of a clip would cost a person finder and a plate spotter per
frame, so the clip is searched at `portal.media.sample_fps`. A frame between two searched
frames blurs what either of them found, and, where a region of one kind lies near one of the
same kind in the other, the whole box covering both: the way it may have moved in between.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np
from PIL import Image

from pipeline.geometry import enclosing
from pipeline.images import jpeg
from pipeline.redaction import Box, PeopleFinder, blur, centre_in, head
from pipeline.video import decode_mp4, encode_mp4

Kind = Literal["face", "body", "plate"]
REACH = 8.0
"""How far (in its own longest sides) a region may move between two searched frames; two of
a kind further apart are taken for different ones."""


@dataclass(frozen=True)
class Region:
    kind: Kind
    box: Box


def regions(found: tuple[list[Box], list[Box], list[Box]], offender: Box | None) -> list[Region]:
    """What of a finder's (faces, persons, plates) must be blurred, the offender's box given."""
    faces, persons, plates = found
    if offender is None:
        return [
            *(Region("face", b) for b in faces),
            *(Region("body", b) for b in persons),
            *(Region("plate", b) for b in plates),
        ]
    bystanders = [p for p in persons if not centre_in(p, offender)]
    heads = [head(b) for b in bystanders]
    return [
        *(Region("body", b) for b in bystanders),
        *(
            Region("face", f)
            for f in faces
            if not centre_in(f, offender) or any(centre_in(f, h) for h in heads)
        ),
        *(Region("plate", p) for p in plates if not centre_in(p, offender)),
    ]


def _side(box: Box) -> int:
    return max(box[2] - box[0], box[3] - box[1])


def _centre(box: Box) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def _distance(a: Box, b: Box) -> float:
    (ax, ay), (bx, by) = _centre(a), _centre(b)
    return float(np.hypot(ax - bx, ay - by))


def between(before: list[Region], after: list[Region]) -> list[Region]:
    """What to blur in a frame between two searched frames."""
    hulls = []
    for a in before:
        near = [b for b in after if b.kind == a.kind]
        b = min(near, key=lambda r: _distance(a.box, r.box), default=None)
        if b is not None and _distance(a.box, b.box) <= REACH * _side(a.box):
            x1, y1, x2, y2 = enclosing(a.box, b.box)
            hulls.append(Region(a.kind, (x1, y1, x2, y2)))
    return [*before, *after, *hulls]


def _box(values: list[int] | None) -> Box | None:
    if values is None:
        return None
    x1, y1, x2, y2 = (int(v) for v in values)
    return (x1, y1, x2, y2)


class Redactor:
    """Finds and blurs; `height` is that of the camera image, above the evidence's data bar."""

    def __init__(self, finder: PeopleFinder, height: int) -> None:
        self.finder = finder
        self.height = height
        self.blurred = 0
        """Regions blurred in searched frames, for the audit row."""
        self.searched = 0

    def search(self, frame: np.ndarray, offender: Box | None) -> list[Region]:
        image = np.ascontiguousarray(frame[: self.height])
        found = regions(self.finder.find(image, True), offender)
        self.blurred += len(found)
        self.searched += 1
        return found

    def apply(self, frame: np.ndarray, found: list[Region], offender: Box | None) -> np.ndarray:
        """The frame with the regions blurred; a bystander's body stays clear only where the
        offender is in front of it."""
        if not found:
            return frame
        image = Image.fromarray(cv2.cvtColor(frame[: self.height], cv2.COLOR_BGR2RGB))
        for region in found:
            blur(image, region.box, spare=offender if region.kind == "body" else None)
        out = frame.copy()
        out[: self.height] = cv2.cvtColor(np.asarray(image), cv2.COLOR_RGB2BGR)
        return out

    def key_frame(self, data: bytes, offender: list[int] | None) -> bytes:
        frame = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if frame is None:
            raise ValueError("a key frame does not decode")
        box = _box(offender)
        return jpeg(self.apply(frame, self.search(frame, box), box))

    def clip(self, data: bytes, offender: list[list[int] | None], sample_fps: float) -> bytes:
        """The clip searched every `fps / sample_fps` frames and at its last frame."""
        fps, frames = decode_mp4(data)
        step = max(1, round(fps / sample_fps))

        def box(i: int) -> Box | None:
            return _box(offender[i]) if i < len(offender) else None

        def redacted() -> Iterator[np.ndarray]:
            waiting: list[tuple[int, np.ndarray]] = []
            """Frames since the last searched one."""
            last: list[Region] = []
            for i, frame in enumerate(frames):
                if i % step:
                    waiting.append((i, frame))
                    continue
                yield from self._searched(waiting, last, i, frame, box)
                waiting = []
            if waiting:
                i, frame = waiting.pop()
                yield from self._searched(waiting, last, i, frame, box)

        return encode_mp4(redacted(), fps)

    def _searched(
        self,
        waiting: list[tuple[int, np.ndarray]],
        last: list[Region],
        i: int,
        frame: np.ndarray,
        box: Callable[[int], Box | None],
    ) -> Iterator[np.ndarray]:
        """Frame `i` searched, the frames waiting for it blurred by what it and the frame
        searched before found; `last` becomes what frame `i` found."""
        found = self.search(frame, box(i))
        regions_between = between(last, found)
        for j, waited in waiting:
            yield self.apply(waited, regions_between, box(j))
        yield self.apply(frame, found, box(i))
        last[:] = found
