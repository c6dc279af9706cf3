"""Which of a model's class ids is which stopline class.

A YOLO export carries its own class names (Ultralytics writes them into the ONNX metadata and
the OpenVINO IR's `model_info`), so stopline reads them rather than assuming COCO's ids: a model
trained on other classes, such as the traffic model's `motobike` (the bike and its rider in one
box), works by config alone. Names stopline has no use for (`stop_line`, the traffic model's lamp
colours, COCO's `dog`) are left out, so those boxes are never reported.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.config import ClassName
from pipeline.geometry import Box

if TYPE_CHECKING:
    import onnxruntime as ort
    import openvino as ov

CLASS_NAMES: dict[str, ClassName] = {
    "person": "person",
    "pedestrian": "person",
    "bicycle": "bicycle",
    "car": "car",
    "motorcycle": "motorcycle",
    "motorbike": "motorcycle",
    "motobike": "motorcycle",
    "bus": "bus",
    "truck": "truck",
    "traffic light": "traffic_light",
    "traffic_light": "traffic_light",
}
"""Model class names (lower case) and the stopline class each one is."""


@dataclass(frozen=True)
class LabelMap:
    """A model's class count and the ids stopline uses."""

    num_classes: int
    ids: Mapping[int, ClassName]

    @classmethod
    def from_names(cls, names: Mapping[int, str]) -> LabelMap:
        used = {
            int(i): CLASS_NAMES[n.lower()] for i, n in names.items() if n.lower() in CLASS_NAMES
        }
        return cls(len(names), used)

    def wanted(self, classes: tuple[ClassName, ...]) -> np.ndarray:
        """The ids of `classes`, for filtering a model's output."""
        return np.array([i for i, name in self.ids.items() if name in classes], dtype=np.intp)


COCO = LabelMap(
    80,
    {
        0: "person",
        1: "bicycle",
        2: "car",
        3: "motorcycle",
        5: "bus",
        7: "truck",
        9: "traffic_light",
    },
)
"""Ultralytics' 80-class COCO ids: what an export without class names is taken to be."""
TF_COCO = LabelMap(
    91,
    {
        1: "person",
        2: "bicycle",
        3: "car",
        4: "motorcycle",
        6: "bus",
        8: "truck",
        10: "traffic_light",
    },
)
"""The TensorFlow Object Detection API's 90-id COCO label map (plus background), the SSD's."""


def onnx_labels(session: ort.InferenceSession) -> LabelMap:
    """The class names Ultralytics stores in an ONNX export's metadata (a dict literal)."""
    names = session.get_modelmeta().custom_metadata_map.get("names")
    return LabelMap.from_names(ast.literal_eval(names)) if names else COCO


def openvino_labels(model: ov.Model) -> LabelMap:
    """The class names Ultralytics stores in an OpenVINO IR (`model_info/labels`, spaces
    inside a name written as `_`)."""
    if not model.has_rt_info(["model_info", "labels"]):
        return COCO
    names = model.get_rt_info(["model_info", "labels"]).astype(str).split()
    return LabelMap.from_names(dict(enumerate(names)))


def read_yolo_labels(path: Path, width: float, height: float) -> list[tuple[int, Box]]:
    """A YOLO label file (`class cx cy w h`, normalised) as (class id, pixel box) pairs; a
    missing file is a frame with no labels. Training data and the test set are in this form."""
    labels: list[tuple[int, Box]] = []
    if path.is_file():
        for line in path.read_text().split("\n"):
            parts = line.split()
            if len(parts) >= 5:
                cx, cy, w, h = (float(v) for v in parts[1:5])
                x1, y1 = (cx - w / 2) * width, (cy - h / 2) * height
                labels.append((int(float(parts[0])), (x1, y1, x1 + w * width, y1 + h * height)))
    return labels
