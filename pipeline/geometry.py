"""Box arithmetic shared by the stages that find people and things in pictures (detectors) and
the one that blurs them (display)."""

from __future__ import annotations

Box = tuple[float, float, float, float]
"""x1, y1, x2, y2."""


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two xyxy boxes; 0 when both are empty."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union if union > 0 else 0.0
