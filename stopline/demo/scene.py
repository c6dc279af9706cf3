"""The demo intersection, composed from real photos that installed packages ship.

The demo must run real detection with no network and no shared data, so its road users are
cut-outs of photos inside wheels the core install already has: scikit-image's motorcycle stereo
pair, its astronaut and cameraman, and matplotlib's Grace Hopper; the road is its gravel and brick
textures. One eastbound approach seen from the side: a stop line, an unsignalised zebra crossing
just past it and a signal head that follows the demo config's fixed plan. Each road user moves
along keyframes, so the scene knows in advance who offends and when (`EXPECTED`): one motorcycle
runs the red light and one man walks onto the road off the crossing; the rest are compliant.
The red-light runner carries a registration plate (`RED_LIGHT_PLATE`) that the plate reader reads
from its track crops; the demo registers a keeper for it, so its citation reaches an SMS.
`stopline.demo.frames` draws the scene into a video.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import matplotlib

WIDTH, HEIGHT, FPS, DURATION_S = 640, 360, 10.0, 30.0
APPROACH = "eastbound"
FAR_KERB_Y, NEAR_KERB_Y = 135, 300
"""The carriageway lies between the two kerbs; pavements above and below."""
CENTRE_Y = 218
"""Centre line; the eastbound lane is below it."""
STOP_X = 300
ZEBRA_X = (312, 372)
SIGNAL_ROI = (596, 6, 36, 88)
"""x, y, width, height of the signal head, as in configs/demo.yaml."""

Point = tuple[int, int]
Kind = Literal["red_light", "jaywalk"]

RED_LIGHT_PLATE = "KHX 4729"
"""The red-light runner's plate, in the three letters and four digits that New York and Texas
issue, which `identification.plates.region` in configs/demo.yaml accepts. It leaves out the
letters plate fonts draw like digits (O, Q, I, S, B, Z, G)."""
PLATE_SIZE_PX = (76, 20)
"""Width, height of the plate in the half-size cutout; about 49 x 13 px on screen, where the
bike is about 195 px long. That is some 2.5 times a real motorcycle plate (7 x 4 in in the US)
and single-row: a life-size plate would be a few pixels tall at 640x360, which no reader reads.
This synthetic scene makes it larger than life so the identification stage has a plate to read:
PP-OCR reads it at 0.9999 or more in each crop that holds the whole bike, and starts misreading
characters at about three quarters of this size. Drawn with Pillow, which scikit-image needs."""


@dataclass(frozen=True)
class Photo:
    """A road user in a photo a package ships, with a rough outline that GrabCut refines."""

    package: Literal["skimage", "matplotlib"]
    name: str
    outline: tuple[Point, ...]
    """Polygon around the subject in the photo's pixels."""
    hue: int | None = None
    """Repaint the saturated red paintwork to this OpenCV hue, so one photo gives two bikes."""
    plate_mount: Point | None = None
    """Centre of the plate in the photo's pixels, used when the road user carries one: the rear
    axle of a bike, where a side-mounted plate (as custom bikes carry) faces a side view."""

    def path(self) -> Path:
        if self.package == "matplotlib":
            return Path(matplotlib.get_data_path()) / "sample_data" / self.name
        return _skimage_file(self.name)


def _skimage_file(name: str) -> Path:
    """A file scikit-image's wheel ships, read directly: `skimage.data` may fetch over the net."""
    return Path(str(importlib.resources.files("skimage") / "data" / name))


_BIKE_OUTLINE = (
    *((92, 215), (100, 190), (150, 158), (200, 160), (300, 185), (340, 192), (400, 160)),
    *((460, 150), (490, 135), (470, 110), (500, 93), (525, 95), (560, 112), (588, 122)),
    *((588, 145), (565, 178), (548, 195), (562, 258), (612, 262), (648, 288), (684, 340)),
    *((690, 400), (666, 442), (620, 454), (574, 442), (538, 410), (520, 380), (470, 362)),
    *((420, 372), (350, 374), (300, 364), (270, 392), (230, 404), (180, 400), (143, 376)),
    *((122, 336), (120, 290), (128, 256), (100, 242)),
)
_BIKE_REAR_AXLE = (192, 322)
RED_BIKE = Photo("skimage", "motorcycle_left.png", _BIKE_OUTLINE, plate_mount=_BIKE_REAR_AXLE)
BLUE_BIKE = Photo(
    "skimage", "motorcycle_right.png", tuple((x - 45, y) for x, y in _BIKE_OUTLINE), hue=110
)
GREEN_BIKE = Photo("skimage", "motorcycle_left.png", _BIKE_OUTLINE, hue=65)
CAMERAMAN = Photo(
    "skimage",
    "camera.png",
    (
        *((0, 235), (40, 150), (100, 108), (150, 78), (200, 60), (248, 78), (264, 110)),
        *((266, 138), (322, 136), (332, 170), (326, 205), (316, 240), (288, 250), (262, 285)),
        *((215, 345), (172, 410), (152, 470), (150, 511), (0, 511)),
    ),
)
ASTRONAUT = Photo(
    "skimage",
    "astronaut.png",
    (
        *((225, 14), (276, 28), (300, 70), (302, 125), (306, 200), (300, 250), (332, 288)),
        *((356, 318), (366, 345), (302, 362), (282, 420), (272, 511), (20, 511), (24, 380)),
        *((34, 300), (60, 262), (100, 240), (114, 190), (150, 160), (154, 90), (170, 36)),
    ),
)
GRACE_HOPPER = Photo(
    "matplotlib",
    "grace_hopper.jpg",
    (
        *((185, 38), (262, 22), (332, 44), (356, 86), (370, 140), (356, 202), (346, 280)),
        *((332, 322), (420, 360), (490, 398), (511, 450), (511, 599), (30, 599), (30, 430)),
        *((80, 370), (180, 330), (166, 290), (154, 220), (150, 140), (160, 80)),
    ),
)


@dataclass(frozen=True)
class RoadUser:
    """One cut-out on a scripted path, and whether the pipeline should cite it."""

    name: str
    photo: Photo
    is_vehicle: bool
    height_px: float
    """On screen: fixed for a vehicle in its lane; for a person at the near kerb (perspective)."""
    path: tuple[tuple[float, float, float], ...]
    """(t s, x, y) keyframes of the anchor: a vehicle's front wheel contact, a person's feet.
    Absent before the first keyframe, held after the last."""
    expected: Kind | None
    role: str
    plate: str | None = None
    """Registration plate drawn on the vehicle (at its photo's `plate_mount`), or none."""

    def anchor(self, t: float) -> tuple[float, float] | None:
        """Where the road user is at `t`, linearly between keyframes; None before it appears."""
        if t < self.path[0][0]:
            return None
        for (t0, x0, y0), (t1, x1, y1) in zip(self.path, self.path[1:], strict=False):
            if t0 <= t < t1:
                f = (t - t0) / (t1 - t0)
                return x0 + f * (x1 - x0), y0 + f * (y1 - y0)
        _, x, y = self.path[-1]
        return x, y

    def first_time(self, reached: Callable[[float, float], bool]) -> float | None:
        """When the anchor first satisfies `reached`, to 10 ms (the scene's own ground truth)."""
        for step in range(int(DURATION_S * 100)):
            at = self.anchor(step / 100)
            if at is not None and reached(*at):
                return step / 100
        return None


# Timed against configs/demo.yaml's plan (green 0-10 s, amber to 13.5 s, red to 30 s) and kept
# apart in space and time where the SSD would otherwise merge two cut-outs into one box.
ROAD_USERS = (
    RoadUser(
        name="blue motorcycle",
        photo=BLUE_BIKE,
        is_vehicle=True,
        height_px=118,
        path=((0.5, 40, 292), (6.0, 860, 292)),
        expected=None,
        role="passes the stop line on green",
    ),
    RoadUser(
        name="red motorcycle",
        photo=RED_BIKE,
        is_vehicle=True,
        height_px=118,
        path=((13.3, 40, 292), (18.8, 860, 292)),
        expected="red_light",
        role="runs the red light",
        plate=RED_LIGHT_PLATE,
    ),
    RoadUser(
        name="green motorcycle",
        photo=GREEN_BIKE,
        is_vehicle=True,
        height_px=118,
        path=((17.5, 40, 292), (19.5, 230, 292), (21.0, 282, 292), (30.0, 282, 292)),
        expected=None,
        role="stops before the stop line on red",
    ),
    RoadUser(
        name="Grace Hopper",
        photo=GRACE_HOPPER,
        is_vehicle=False,
        height_px=130,
        path=((0.0, 80, 128), (30.0, 80, 128)),
        expected=None,
        role="waits on the far pavement",
    ),
    RoadUser(
        name="astronaut",
        photo=ASTRONAUT,
        is_vehicle=False,
        height_px=135,
        path=((19.0, 342, 356), (27.0, 342, 128), (30.0, 342, 128)),
        expected=None,
        role="crosses on the zebra crossing",
    ),
    RoadUser(
        name="cameraman",
        photo=CAMERAMAN,
        is_vehicle=False,
        height_px=140,
        path=((20.0, 470, 356), (28.0, 450, 128), (30.0, 450, 128)),
        expected="jaywalk",
        role="walks onto the road off the crossing",
    ),
)


@dataclass(frozen=True)
class Offence:
    """What the demo must cite: the run matches citations to these by kind and time, because
    the tracker's ids are its own."""

    kind: Kind
    at_s: float
    """When the offence starts: the stop line crossed, or the first step onto the road."""
    who: str


def _offence(user: RoadUser, kind: Kind) -> Offence:
    """Derived from the path, so retiming a road user cannot leave the self-check stale."""
    if kind == "red_light":
        at = user.first_time(lambda x, _y: x >= STOP_X)
    else:
        at = user.first_time(lambda _x, y: y < NEAR_KERB_Y)
    if at is None:
        raise ValueError(f"the {user.name} never commits the scripted {kind}")
    return Offence(kind, at, user.name)


EXPECTED = tuple(_offence(u, u.expected) for u in ROAD_USERS if u.expected is not None)
COMPLIANT = tuple(u for u in ROAD_USERS if u.expected is None)
