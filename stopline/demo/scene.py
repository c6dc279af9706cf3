"""The demo intersection, drawn by the project so the demo needs no network and no shared data.

One northbound approach with two lanes, a stop line, a zebra crossing, an entry line and a
signal head that follows the demo config's fixed plan. Each vehicle moves along keyframes, and
the scene writes its own ground truth, so the demo's outcome is known in advance:
one car runs the red light; the others pass on green or amber, stop before the line, or stop
just over it (which must not be cited).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from detectors.signals import FixedPlan
from pipeline.config import CameraConfig

WIDTH, HEIGHT, FPS, DURATION_S = 640, 360, 10.0, 30.0
CAR_W, CAR_H = 60, 90
LANE_X = {"A": 230, "B": 350}
APPROACH = "northbound"


@dataclass(frozen=True)
class Vehicle:
    track_id: int
    lane: str
    colour: tuple[int, int, int]
    plate: str
    keyframes: tuple[tuple[float, float], ...]
    """(t seconds, y of the vehicle's front edge); held before the first and after the last."""
    expected: str

    def front_y(self, t: float) -> float | None:
        first, last = self.keyframes[0], self.keyframes[-1]
        if t < first[0]:
            return None
        if t >= last[0]:
            return last[1]
        for (t0, y0), (t1, y1) in zip(self.keyframes, self.keyframes[1:], strict=False):
            if t0 <= t < t1:
                return y0 + (y1 - y0) * (t - t0) / (t1 - t0)
        return None

    def box(self, t: float) -> tuple[float, float, float, float] | None:
        y = self.front_y(t)
        if y is None or y + CAR_H < 0 or y > HEIGHT:
            return None
        x = LANE_X[self.lane]
        return (x, y, x + CAR_W, y + CAR_H)


VEHICLES = (
    Vehicle(1, "A", (40, 40, 200), "DEMO101", ((1.0, 370), (6.0, -100)), "passes on green"),
    Vehicle(2, "B", (200, 120, 30), "DEMO202", ((9.5, 370), (14.5, -100)), "passes on amber"),
    Vehicle(3, "A", (30, 160, 30), "DEMO303", ((12.0, 370), (15.0, 256), (30.0, 256)), "stops"),
    Vehicle(4, "B", (20, 20, 20), "DEMO404", ((14.0, 370), (19.0, -100)), "runs the red light"),
    Vehicle(
        5, "B", (150, 40, 150), "DEMO505", ((20.0, 370), (23.0, 238), (30.0, 238)), "stops over"
    ),
)


def _draw_static(img: np.ndarray) -> None:
    img[:] = (70, 110, 70)
    cv2.rectangle(img, (200, 0), (440, HEIGHT), (90, 90, 90), -1)
    cv2.rectangle(img, (0, 60), (WIDTH, 150), (90, 90, 90), -1)
    for y in range(160, HEIGHT, 40):
        cv2.line(img, (320, y), (320, y + 20), (230, 230, 230), 2)
    for x in range(205, 440, 24):
        cv2.rectangle(img, (x, 200), (x + 12, 240), (235, 235, 235), -1)
    cv2.line(img, (200, 250), (440, 250), (255, 255, 255), 4)
    cv2.rectangle(img, (470, 20), (500, 100), (25, 25, 25), -1)


def _draw_signal(img: np.ndarray, phase: str) -> None:
    lamps = {"red": (485, 33), "amber": (485, 60), "green": (485, 87)}
    lit = {"red": (0, 0, 255), "amber": (0, 190, 255), "green": (0, 220, 0)}
    for name, centre in lamps.items():
        colour = lit[name] if name == phase else (50, 50, 50)
        cv2.circle(img, centre, 10, colour, -1)


def _draw_vehicle(img: np.ndarray, v: Vehicle, box: tuple[float, float, float, float]) -> None:
    x1, y1, x2, y2 = (round(c) for c in box)
    cv2.rectangle(img, (x1, y1), (x2, y2), v.colour, -1)
    cv2.rectangle(img, (x1 + 8, y1 + 12), (x2 - 8, y1 + 32), (200, 220, 230), -1)
    cv2.rectangle(img, (x1 + 6, y2 - 18), (x2 - 6, y2 - 4), (245, 245, 245), -1)
    cv2.putText(img, v.plate[-4:], (x1 + 10, y2 - 7), cv2.FONT_HERSHEY_PLAIN, 0.9, (0, 0, 0), 1)


def render(camera: CameraConfig, out_dir: Path) -> tuple[Path, Path]:
    """Write the demo video and its ground truth; returns (video path, truth path)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    video = out_dir / "demo-intersection.mp4"
    truth = out_dir / "demo-intersection.truth.json"
    plan = FixedPlan(camera.signal)
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (WIDTH, HEIGHT))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {video}")
    background = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    _draw_static(background)
    frames: list[dict[str, object]] = []
    try:
        for i in range(int(DURATION_S * FPS)):
            t = i / FPS
            img = background.copy()
            _draw_signal(img, plan.phase_at(APPROACH, t).phase)
            objects = []
            for v in VEHICLES:
                box = v.box(t)
                if box is not None:
                    _draw_vehicle(img, v, box)
                    objects.append({"track_id": v.track_id, "class": "car", "box": box})
            writer.write(img)
            frames.append({"frame": i, "t": t, "objects": objects})
    finally:
        writer.release()
    truth.write_text(
        json.dumps(
            {
                "fps": FPS,
                "vehicles": [
                    {"track_id": v.track_id, "plate": v.plate, "expected": v.expected}
                    for v in VEHICLES
                ],
                "frames": frames,
            }
        )
    )
    return video, truth
