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
"""

from __future__ import annotations

import functools
import importlib.resources
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import matplotlib
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from detectors.signals import FixedPlan
from pipeline.config import CameraConfig

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


@functools.cache
def _cutout(photo: Photo) -> tuple[np.ndarray, np.ndarray]:
    """(BGR, alpha 0-1) of the subject, cropped to its outline; GrabCut keeps the garage,
    flag or lawn seen between spokes and around shoulders out of the street."""
    image = cv2.imread(str(photo.path()), cv2.IMREAD_COLOR)
    if image is None:
        raise RuntimeError(f"cannot read the demo photo {photo.path()}")
    # Half size is still twice what the scene shows, and makes GrabCut four times faster.
    image = cv2.resize(image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    outline = np.array(photo.outline, np.int32) // 2
    rough = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(rough, [outline], 255)
    kernel = np.ones((7, 7), np.uint8)
    mask = np.full(image.shape[:2], cv2.GC_BGD, np.uint8)
    mask[cv2.dilate(rough, kernel) > 0] = cv2.GC_PR_BGD
    mask[rough > 0] = cv2.GC_PR_FGD
    mask[cv2.erode(rough, kernel, iterations=2) > 0] = cv2.GC_FGD
    models = (np.zeros((1, 65)), np.zeros((1, 65)))
    cv2.grabCut(image, mask, None, *models, 4, cv2.GC_INIT_WITH_MASK)
    keep = np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.uint8) * 255
    keep = cv2.morphologyEx(keep, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    alpha = cv2.GaussianBlur(keep, (5, 5), 0).astype(np.float32) / 255
    if photo.hue is not None:
        hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
        red = ((hsv[..., 0] < 12) | (hsv[..., 0] > 165)) & (hsv[..., 1] > 90)
        hsv[..., 0][red] = photo.hue
        image = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)
    x, y, w, h = cv2.boundingRect(outline)
    return image[y : y + h, x : x + w], alpha[y : y + h, x : x + w]


@functools.cache
def _plated(photo: Photo, plate: str) -> tuple[np.ndarray, np.ndarray]:
    """The cut-out with a plate at its `plate_mount`: drawn before the sprite is scaled, so it
    moves and shrinks with the vehicle and is resampled like the rest of the photo."""
    if photo.plate_mount is None:
        raise ValueError(f"{photo.name} has no place for a plate")
    bgr, alpha = (a.copy() for a in _cutout(photo))
    left, top, _, _ = cv2.boundingRect(np.array(photo.outline, np.int32) // 2)
    w, h = PLATE_SIZE_PX
    x = photo.plate_mount[0] // 2 - left - w // 2
    y = photo.plate_mount[1] // 2 - top - h // 2
    bgr[y : y + h, x : x + w] = _plate_image(plate, PLATE_SIZE_PX)
    alpha[y : y + h, x : x + w] = 1.0
    return bgr, alpha


def _plate_image(text: str, size: tuple[int, int], supersample: int = 8) -> np.ndarray:
    """A white plate with a thin black border and dark bold text (DejaVu Sans Bold, which
    matplotlib ships), drawn large and shrunk so the glyphs are smooth."""
    w, h = size[0] * supersample, size[1] * supersample
    image = Image.new("RGB", (w, h), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    border = max(1, h // 14)
    draw.rectangle((0, 0, w - 1, h - 1), outline=(0, 0, 0), width=border)
    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"
    points = int(h * 0.78)
    while True:  # the largest type that leaves a margin inside the border
        font = ImageFont.truetype(str(path), points)
        x0, y0, x1, y1 = draw.textbbox((0, 0), text, font=font)
        if (x1 - x0 <= w - 6 * border and y1 - y0 <= h - 6 * border) or points <= 8:
            break
        points -= 2
    at = ((w - (x1 - x0)) / 2 - x0, (h - (y1 - y0)) / 2 - y0)
    draw.text(at, text, font=font, fill=(25, 25, 25))
    big = cv2.cvtColor(np.asarray(image), cv2.COLOR_RGB2BGR)
    return cv2.resize(big, size, interpolation=cv2.INTER_AREA)


def _texture(
    name: str, size: tuple[int, int], mean: float, contrast: float, zoom: float
) -> np.ndarray:
    """A grey texture tiled to (w, h), its grain and brightness set to read as asphalt or paving."""
    tile = cv2.imread(str(_skimage_file(name)), cv2.IMREAD_GRAYSCALE)
    if tile is None:
        raise RuntimeError(f"cannot read the demo texture {name}")
    tile = cv2.resize(tile, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_AREA)
    w, h = size
    reps = (-(-h // tile.shape[0]), -(-w // tile.shape[1]))
    grey = np.tile(tile, reps)[:h, :w].astype(np.float32)
    grey = mean + (grey - grey.mean()) * contrast
    return cv2.cvtColor(np.clip(grey, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)


def _background() -> np.ndarray:
    img = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    paving = _texture("brick.png", (WIDTH, HEIGHT), 165, 0.35, 0.6)
    img[:] = (paving * np.array([0.92, 0.97, 1.0])).astype(np.uint8)  # warm paving slabs
    img[FAR_KERB_Y:NEAR_KERB_Y] = _texture(
        "gravel.png", (WIDTH, NEAR_KERB_Y - FAR_KERB_Y), 80, 0.15, 0.35
    )
    for y in (FAR_KERB_Y, NEAR_KERB_Y - 5):
        img[y : y + 5] = (200, 200, 195)
    white = (235, 235, 235)
    for x in range(0, WIDTH, 48):
        if not ZEBRA_X[0] - 30 <= x <= ZEBRA_X[1] + 20:  # no centre line across the crossing
            cv2.rectangle(img, (x, CENTRE_Y - 2), (x + 24, CENTRE_Y + 1), white, -1)
    cv2.rectangle(img, (STOP_X - 6, CENTRE_Y + 3), (STOP_X, NEAR_KERB_Y - 6), white, -1)
    far_stop = ZEBRA_X[1] + 12
    cv2.rectangle(img, (far_stop, FAR_KERB_Y + 6), (far_stop + 6, CENTRE_Y - 3), white, -1)
    for y in range(FAR_KERB_Y + 9, NEAR_KERB_Y - 9, 16):
        cv2.rectangle(img, (ZEBRA_X[0], y), (ZEBRA_X[1], y + 8), white, -1)
    x, y, w, h = SIGNAL_ROI
    cv2.rectangle(img, (x + w // 2 - 3, y + h), (x + w // 2 + 3, FAR_KERB_Y - 6), (60, 60, 60), -1)
    cv2.rectangle(img, (x, y), (x + w, y + h), (20, 20, 20), -1)
    return img


def _draw_signal(img: np.ndarray, phase: str) -> None:
    x, y, w, h = SIGNAL_ROI
    lit = {"red": (0, 0, 255), "amber": (0, 190, 255), "green": (80, 220, 0)}
    for row, name in enumerate(lit):
        centre = (x + w // 2, y + h * (2 * row + 1) // 6)
        cv2.circle(img, centre, 10, lit[name] if name == phase else (55, 55, 55), -1)


def _sprite(user: RoadUser, at: tuple[float, float]) -> tuple[np.ndarray, np.ndarray, int, int]:
    """The cut-out scaled for where it stands, and its top-left corner on screen."""
    bgr, alpha = _plated(user.photo, user.plate) if user.plate else _cutout(user.photo)
    x, y = at
    height = user.height_px
    if not user.is_vehicle:  # nearer the camera (lower on screen) looks bigger
        height *= 0.85 + 0.15 * (y - FAR_KERB_Y) / (NEAR_KERB_Y - FAR_KERB_Y)
    scale = height / bgr.shape[0]
    size = (max(1, round(bgr.shape[1] * scale)), max(1, round(height)))
    bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
    alpha = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA)
    left = round(x) - size[0] if user.is_vehicle else round(x - size[0] / 2)
    return bgr, alpha, left, round(y) - size[1]


def _paste(img: np.ndarray, bgr: np.ndarray, alpha: np.ndarray, left: int, top: int) -> None:
    h, w = alpha.shape
    x0, y0, x1, y1 = max(left, 0), max(top, 0), min(left + w, WIDTH), min(top + h, HEIGHT)
    if x0 >= x1 or y0 >= y1:
        return
    a = alpha[y0 - top : y1 - top, x0 - left : x1 - left, None]
    src = bgr[y0 - top : y1 - top, x0 - left : x1 - left].astype(np.float32)
    dst = img[y0:y1, x0:x1].astype(np.float32)
    img[y0:y1, x0:x1] = (src * a + dst * (1 - a)).astype(np.uint8)


def _draw_user(img: np.ndarray, user: RoadUser, at: tuple[float, float]) -> None:
    """The cut-out over a soft ground shadow, so it stands on the street instead of floating."""
    bgr, alpha, left, top = _sprite(user, at)
    h, w = alpha.shape
    shadow = np.zeros((h // 7 + 2, w), np.float32)
    cv2.ellipse(shadow, (w // 2, h // 14 + 1), (w // 2, h // 14), 0, 0, 360, 0.4, -1)
    black = np.zeros((*shadow.shape, 3), np.uint8)
    _paste(img, black, cv2.GaussianBlur(shadow, (9, 9), 0), left, top + h - shadow.shape[0] // 2)
    _paste(img, bgr, alpha, left, top)


def render(camera: CameraConfig, out_dir: Path) -> Path:
    """Write the 30 s demo video into `out_dir`; returns its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    video = out_dir / Path(camera.source).name
    plan = FixedPlan(camera.signal)
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (WIDTH, HEIGHT))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {video}")
    background = _background()
    try:
        for i in range(int(DURATION_S * FPS)):
            t = i / FPS
            img = background.copy()
            _draw_signal(img, plan.phase_at(APPROACH, t).phase)
            placed = [(u, at) for u in ROAD_USERS if (at := u.anchor(t)) is not None]
            for user, at in sorted(placed, key=lambda p: p[1][1]):  # far ones first
                _draw_user(img, user, at)
            writer.write(img)
    finally:
        writer.release()
    return video
