"""The demo scene drawn into a video: cut-outs on a textured street, plates, the signal head."""

from __future__ import annotations

import functools
from pathlib import Path

import cv2
import matplotlib
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from detectors.signals import FixedPlan
from pipeline.config import CameraConfig
from stopline.demo.scene import (
    APPROACH,
    CENTRE_Y,
    DURATION_S,
    FAR_KERB_Y,
    FPS,
    HEIGHT,
    NEAR_KERB_Y,
    PLATE_SIZE_PX,
    ROAD_USERS,
    SIGNAL_ROI,
    STOP_X,
    WIDTH,
    ZEBRA_X,
    Photo,
    RoadUser,
    _skimage_file,
)


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
