"""Box and polygon arithmetic shared by the stages that find people and things in pictures
(detectors) and the one that blurs them (display)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Box = tuple[float, float, float, float]
"""x1, y1, x2, y2."""
XY = tuple[float, float]


def intersection(a: Box, b: Box) -> float:
    """Area two xyxy boxes share."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    return w * h


def enclosing(a: Box, b: Box) -> Box:
    """The smallest box holding both (a rider and the bike under them)."""
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two xyxy boxes; 0 when both are empty."""
    shared = intersection(a, b)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - shared
    return shared / union if union > 0 else 0.0


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Greedy NMS over xyxy boxes: indices kept, highest score first.

    torchvision's semantics (drop when IoU > threshold; a NaN IoU from a degenerate box drops
    nothing), because Ultralytics `predict` uses torchvision and parity checks compare with it.
    """
    order = np.argsort(-scores, kind="stable")
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1) * (y2 - y1)
    keep = []
    with np.errstate(divide="ignore", invalid="ignore"):
        while order.size:
            best, rest = order[0], order[1:]
            keep.append(best)
            width = np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest])
            height = np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest])
            inter = width.clip(min=0) * height.clip(min=0)
            iou = inter / (areas[best] + areas[rest] - inter)
            order = rest[~(iou > iou_threshold)]
    return np.asarray(keep, dtype=np.intp)


def ground_point(box: Box) -> XY:
    """Where a road user meets the road: the bottom centre of its box.

    Lines are painted on the road, so this is the point that crosses them in the image
    whatever the camera's tilt; a box top over the line is a roof seen in perspective.
    """
    return (box[0] + box[2]) / 2, box[3]


def inside(point: XY, polygon: Sequence[XY]) -> bool:
    """Even-odd ray casting; points on an edge may fall either way, which is fine at px scale."""
    x, y = point
    result = False
    for (x1, y1), (x2, y2) in zip(polygon, [*polygon[1:], polygon[0]], strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            result = not result
    return result


def homography(image: Sequence[XY], ground: Sequence[XY]) -> np.ndarray:
    """The 3x3 projective map taking four image points to their four places on the road plane
    (metres), solved directly; raises ValueError when three points are in a line, as then no
    map exists."""
    if len(image) != 4 or len(ground) != 4:
        raise ValueError("a ground calibration needs exactly four points")
    for points in (image, ground):
        for skip in range(4):
            a, b, c = (points[i] for i in range(4) if i != skip)
            if abs((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])) < 1e-9:
                raise ValueError("three of the four points are in a line")
    rows, rhs = [], []
    for (x, y), (u, v) in zip(image, ground, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    h = np.linalg.solve(np.asarray(rows, float), np.asarray(rhs, float))
    return np.append(h, 1.0).reshape(3, 3)


def on_ground(matrix: np.ndarray, point: XY) -> XY | None:
    """Where an image point lies on the road plane, in the calibration's metres; None for a
    point the plane does not reach (at or beyond its horizon in the image)."""
    u, v, w = matrix @ np.array([point[0], point[1], 1.0])
    return None if w <= 1e-12 else (float(u / w), float(v / w))
