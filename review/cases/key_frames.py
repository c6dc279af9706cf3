"""A case's key frames as the console lays them side by side, with the camera's lines over them.

The lines are drawn by the browser (SVG over the unaltered evidence image) from the set-up the
manifest recorded, scaled to the recorded frame by the same code the court report draws with.
The offender's box, burnt into the key frame by the camera, is outlined again (the recorded
`key_frame_boxes`) so it stands out at a glance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from pipeline.config import CameraConfig
from pipeline.evidence import EvidenceStore
from pipeline.setup_lines import DrawnLine, LineKind, camera_setup, drawn_lines, frame_size

LINES_BY_KIND: dict[str, tuple[LineKind, ...]] = {
    "red_light": ("stop", "entry"),
    "jaywalk": ("crosswalk",),
}
"""What each offence is judged against: the lines a reviewer checks the road user against."""


@dataclass(frozen=True)
class KeyFrame:
    sha256: str
    label: str
    width: int
    height: int
    lines: list[DrawnLine] = field(default_factory=list)
    box: list[int] | None = None
    """The offender's box as recorded (`key_frame_boxes`), outlined again over the image."""


@dataclass(frozen=True)
class KeyFrames:
    frames: list[KeyFrame]
    lines_from: str | None
    """Whose set-up the lines are: recorded with the evidence, or today's configuration."""


def key_frames(
    evidence: EvidenceStore,
    facts: dict[str, Any],
    kind: str,
    refs: dict[str, list[dict[str, str]]],
    camera: CameraConfig | None,
) -> KeyFrames:
    """`facts`: the case's manifest facts (`EvidenceStore.facts`)."""
    setup = camera_setup(None if camera is None else camera.setup_record(), facts)
    frames = []
    for role, listed in refs.items():
        if not role.startswith("key_frame:"):
            continue
        for ref in listed:
            size = frame_size(facts, (0, 0))
            path = evidence.path_of(ref["sha256"])
            if not all(size) and path.is_file():
                with Image.open(path) as image:
                    size = image.size
            lines = drawn_lines(setup, facts, size, LINES_BY_KIND.get(kind, ()))
            name = role.removeprefix("key_frame:")
            box = facts.get("key_frame_boxes", {}).get(name)
            frames.append(KeyFrame(ref["sha256"], name.replace("_", " "), *size, lines, box))
    return KeyFrames(frames, setup.origin if setup else None)
