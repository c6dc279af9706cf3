"""YOLO models exported by Ultralytics, on OpenVINO or ONNX Runtime with stopline's own letterbox,
decode and NMS in numpy (no PyTorch on the hot path), and Ultralytics' own `predict` (optional
extra) as the reference for parity checks; `export_model` makes the exports."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from types import ModuleType
from typing import Literal

import cv2
import numpy as np

from detectors.detection import (
    MAX_DETECTIONS,
    Detection,
    Detector,
    Placement,
    batched_nms,
    compile_openvino,
    model_input,
    opt_out_of_openvino_telemetry,
    to_detections,
)
from detectors.label_maps import COCO, LabelMap, onnx_labels, openvino_labels
from pipeline.config import DetectorSpec
from pipeline.model_cache import default_cache_dir

YOLO_INPUT_PX = 640
"""Ultralytics' default, used when neither the config nor a dynamic-shape model gives a size."""


_ULTRALYTICS_EXTRA = "the `ultralytics` extra: pip install -e '.[ultralytics]'"


def decode_yolo(
    output: np.ndarray,
    placement: Placement,
    image_shape: tuple[int, ...],
    spec: DetectorSpec,
    labels: LabelMap = COCO,
) -> list[Detection]:
    """Detections from an Ultralytics YOLO detect head's output, as `predict` computes them.

    Two layouts: [1, 4 + 80, anchors] (cx, cy, w, h, then class scores; YOLOv8/11, and YOLO26
    exported with its default NMS head) takes the best class per anchor and class-aware NMS;
    [1, max_det, 6] (x1, y1, x2, y2, score, class; YOLO26 exported with `nms=False`, end to end)
    is already free of duplicates and only filtered.
    """
    wanted = labels.wanted(spec.classes)
    rows = output[0]
    if rows.shape[-1] == 6:
        keep = (rows[:, 4] > spec.score_threshold) & np.isin(rows[:, 5], wanted)
        boxes, scores, class_ids = rows[keep, :4], rows[keep, 4], rows[keep, 5].astype(np.intp)
    else:
        if rows.shape[0] != 4 + labels.num_classes:
            raise ValueError(
                f"expected a {labels.num_classes}-class YOLO output, got shape {output.shape}"
            )
        class_scores = rows[4:]
        candidates = np.flatnonzero(class_scores.max(axis=0) > spec.score_threshold)
        class_ids = class_scores[:, candidates].argmax(axis=0)
        scores = class_scores[class_ids, candidates]
        wanted_mask = np.isin(class_ids, wanted)
        candidates, class_ids, scores = (
            candidates[wanted_mask],
            class_ids[wanted_mask],
            scores[wanted_mask],
        )
        cx, cy, w, h = rows[:4, candidates]
        boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
        keep = batched_nms(boxes, scores, class_ids, spec.nms_iou)
        boxes, scores, class_ids = boxes[keep], scores[keep], class_ids[keep]
    boxes, scores, class_ids = (
        boxes[:MAX_DETECTIONS],
        scores[:MAX_DETECTIONS],
        class_ids[:MAX_DETECTIONS],
    )
    offset = np.array([placement.pad_x, placement.pad_y] * 2, dtype=np.float64)
    gain = np.array([placement.gain_x, placement.gain_y] * 2)
    return to_detections((boxes - offset) / gain, scores, class_ids, labels, image_shape)


def _static_side(dims: list[int | None], requested: int | None, model: Path) -> int:
    """The square input side: the model's static size, or the requested one if it is dynamic."""
    height, width = dims
    if height is None or width is None:
        return requested or YOLO_INPUT_PX
    if height != width:
        raise ValueError(f"{model}: expected a square input, got {height}x{width}")
    if requested and requested != height:
        raise ValueError(
            f"{model} was exported for {height} px input, not {requested}; "
            "export it again at that size or leave input_size_px empty"
        )
    return height


TRAFFIC_MODEL = Path(__file__).parent / "weights" / "traffic-yolo11n" / "traffic-yolo11n.xml"
"""The traffic YOLO that ships with stopline (car; motobike: the bike and its rider in one box),
trained on CC BY 4.0 CCTV frames: see MODEL_CARD.md beside it. yolo-openvino with no
`model_path` runs it."""


def _openvino_model_file(path: Path) -> Path:
    """Ultralytics exports OpenVINO IR as a folder holding one .xml; accept the folder too."""
    if not path.is_dir():
        return path
    found = sorted(path.glob("*.xml"))
    if len(found) != 1:
        raise ValueError(f"{path}: expected one OpenVINO .xml in the folder, found {len(found)}")
    return found[0]


class YoloOpenVino(Detector):
    """YOLO on OpenVINO; the colour conversion, scaling and layout change run inside the model."""

    def __init__(self, spec: DetectorSpec) -> None:
        import openvino as ov
        from openvino.preprocess import ColorFormat, PrePostProcessor

        self._spec = spec
        path = _openvino_model_file(spec.model_path or TRAFFIC_MODEL)
        core = ov.Core()
        model = core.read_model(path)
        self.labels = openvino_labels(model)
        # A static export has its anchor grid baked in for its size: only a dynamic one reshapes.
        shape = model.input(0).get_partial_shape()
        dims = [d.get_length() if d.is_static else None for d in (shape[2], shape[3])]
        self._size = _static_side(dims, spec.input_size_px, path)
        model.reshape([1, 3, self._size, self._size])
        ppp = PrePostProcessor(model)
        tensor = ppp.input().tensor()
        tensor.set_element_type(ov.Type.u8).set_layout(ov.Layout("NHWC"))
        tensor.set_color_format(ColorFormat.BGR)
        ppp.input().model().set_layout(ov.Layout("NCHW"))
        steps = ppp.input().preprocess()
        steps.convert_element_type(ov.Type.f32).convert_color(ColorFormat.RGB).scale(255.0)
        compiled = compile_openvino(core, ppp.build(), spec)
        self._request = compiled.create_infer_request()
        self._output = compiled.output(0)
        self.name = f"yolo-openvino:{(spec.model_path or path).stem}@{self._size}"

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        padded, placement = model_input(image_bgr, self._size, self._spec)
        result = self._request.infer({0: padded[None]})
        return decode_yolo(
            result[self._output], placement, image_bgr.shape, self._spec, self.labels
        )


class YoloOnnxRuntime(Detector):
    """YOLO on ONNX Runtime, for machines where OpenVINO is not wanted or not available."""

    def __init__(self, spec: DetectorSpec) -> None:
        import onnxruntime as ort

        assert spec.model_path is not None  # the spec's validator guarantees it
        self._spec = spec
        self._session = ort.InferenceSession(
            str(spec.model_path), providers=["CPUExecutionProvider"]
        )
        self.labels = onnx_labels(self._session)
        model_input = self._session.get_inputs()[0]
        dims = [d if isinstance(d, int) else None for d in model_input.shape[2:4]]
        self._size = _static_side(dims, spec.input_size_px, spec.model_path)
        self._input_name = model_input.name
        self.name = f"yolo-onnxruntime:{spec.model_path.stem}@{self._size}"

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        padded, placement = model_input(image_bgr, self._size, self._spec)
        blob = cv2.dnn.blobFromImage(padded, scalefactor=1 / 255, swapRB=True)
        (output, *_) = self._session.run(None, {self._input_name: blob})
        return decode_yolo(output, placement, image_bgr.shape, self._spec, self.labels)


def import_ultralytics(cache_dir: Path | None = None) -> ModuleType:
    """Import Ultralytics offline: no downloads, no pip installs, settings in our own folder.

    Ultralytics reads these variables when it is first imported, so every use in stopline goes
    through here. torchvision is made importable first (see `detectors.torch_compat`).
    """
    os.environ["YOLO_OFFLINE"] = "1"
    os.environ["YOLO_AUTOINSTALL"] = "False"
    os.environ.setdefault("YOLO_VERBOSE", "False")  # errors only: no banners in stopline's output
    os.environ.setdefault(
        "YOLO_CONFIG_DIR", str((cache_dir or default_cache_dir()) / "ultralytics")
    )
    try:
        from detectors.torch_compat import import_torchvision

        import_torchvision()
        import ultralytics
    except ImportError as error:
        raise RuntimeError(
            f"{error}; the Ultralytics backend needs {_ULTRALYTICS_EXTRA}"
        ) from error
    return ultralytics


class UltralyticsPredict(Detector):
    """`YOLO(path).predict`, the reference the numpy decode is checked against."""

    def __init__(self, spec: DetectorSpec, cache_dir: Path) -> None:
        assert spec.model_path is not None  # the spec's validator guarantees it
        self._spec = spec
        self._model = import_ultralytics(cache_dir).YOLO(str(spec.model_path), task="detect")
        self._size = spec.input_size_px or YOLO_INPUT_PX
        self.labels = LabelMap.from_names(self._model.names)
        self._classes = [int(i) for i in self.labels.wanted(spec.classes)]
        self.name = f"ultralytics:{spec.model_path.stem}@{self._size}"

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        # rect=False: a square letterbox like every export's, not predict's default minimal
        # rectangle, so all backends see the same pixels.
        (result,) = self._model.predict(
            image_bgr,
            imgsz=self._size,
            rect=False,
            conf=self._spec.score_threshold,
            iou=self._spec.nms_iou,
            classes=self._classes,
            max_det=MAX_DETECTIONS,
            verbose=False,
        )
        boxes = result.boxes
        return to_detections(
            boxes.xyxy.numpy(), boxes.conf.numpy(), boxes.cls.numpy(), self.labels, image_bgr.shape
        )


def export_model(
    pt_path: Path,
    export_format: Literal["onnx", "openvino"],
    *,
    input_size_px: int = YOLO_INPUT_PX,
    end_to_end: bool = False,
) -> Path:
    """Export an Ultralytics .pt to ONNX or OpenVINO IR for the yolo-* backends; returns its path.

    `end_to_end` exports YOLO26's NMS-free head ([1, 300, 6] output); by default Ultralytics
    8.4 exports the head that needs NMS ([1, 84, anchors]) for every model. The export is
    written next to the .pt (`NAME.onnx` or the folder `NAME_openvino_model/`).
    """
    ultralytics = import_ultralytics()
    if export_format == "openvino":
        opt_out_of_openvino_telemetry()
    # Ultralytics 8.4 exports through torch's legacy TorchScript tracer, which warns about its
    # own deprecation and about traced branches; neither is something the operator can act on.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message="Converting a tensor to a Python boolean")
        exported = ultralytics.YOLO(str(pt_path), task="detect").export(
            format=export_format,
            imgsz=input_size_px,
            nms=False if end_to_end else None,
            verbose=False,
        )
    return Path(exported)
