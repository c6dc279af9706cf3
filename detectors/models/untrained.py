"""Random-weight YOLO models that still give a few dozen varied boxes, for tests and benchmarks.

No registry package ships COCO YOLO weights, so shape, parity and speed checks build a model from
Ultralytics' own yaml (`yolo11n.yaml`, `yolo26n.yaml`, in its package). As built, such a model is
useless even for that: its batch-norm layers keep their initial statistics, so activations shrink
about tenfold per layer and the head sees zeros, and the class biases put every score near 1e-4.
Every anchor then gives the same box below any threshold, and decode and NMS have nothing to do.
Calibrating the batch norms on real images and rescaling the head's last convolutions gives
boxes of varied size, a small share of them confident: garbage, but deterministic garbage that
exercises the whole post-processing. A random network amplifies any change in how its input looks
about tenfold over its depth, so calibrate on the frames, and at the input size, it will see;
on other images its scores saturate and every anchor becomes a box.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from detectors.detection import letterbox
from detectors.yolo import import_ultralytics

if TYPE_CHECKING:
    import torch

BOX_LOGIT_STD = 0.5
"""Spread of the box outputs: distances of a few strides (YOLO26) or soft DFL bins (YOLO11)."""
CONFIDENT_FRACTION = 1e-3
"""Share of (anchor, class) pairs scoring above 0.5 on the calibration images."""


def build_untrained_yolo(
    config_yaml: str,
    pt_path: Path,
    calibration_bgr: Sequence[np.ndarray],
    *,
    input_size_px: int = 640,
    seed: int = 0,
) -> Path:
    """Build `config_yaml` (e.g. "yolo26n.yaml") with seeded random weights, calibrate, save.

    The yaml resolves from Ultralytics' own cfg folder, offline; the .pt is written to `pt_path`.
    """
    ultralytics = import_ultralytics()
    import torch

    torch.manual_seed(seed)
    yolo = ultralytics.YOLO(config_yaml, task="detect")
    model = yolo.model
    # Built from a yaml, the classes are named "0".."79"; these stand in for COCO models, and
    # exports carry the names that stopline's label maps read.
    coco = Path(ultralytics.__file__).parent / "cfg" / "datasets" / "coco.yaml"
    model.names = ultralytics.utils.YAML.load(coco)["names"]
    batch = torch.from_numpy(
        np.stack([letterbox(image, input_size_px)[0][..., ::-1] for image in calibration_bgr])
    )
    batch = batch.permute(0, 3, 1, 2).float() / 255

    # Batch-norm statistics of the calibration images; momentum None is a plain average.
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    momenta = [bn.momentum for bn in norms]
    for bn in norms:
        bn.reset_running_stats()
        bn.momentum = None
    model.train()
    with torch.no_grad():
        model(batch)
    for bn, momentum in zip(norms, momenta, strict=True):
        bn.momentum = momentum
    model.eval()

    head = model.model[-1]
    box_convs = [
        seq[-1] for name in ("cv2", "one2one_cv2") for seq in getattr(head, name, None) or ()
    ]
    cls_convs = [
        seq[-1] for name in ("cv3", "one2one_cv3") for seq in getattr(head, name, None) or ()
    ]
    raw = _outputs_without_bias(model, batch, [*box_convs, *cls_convs])
    with torch.no_grad():
        for conv in box_convs:
            conv.weight.mul_(BOX_LOGIT_STD / raw[conv].std())
        # One bias for every class conv, so the score scale is shared across the three strides.
        scaled = {conv: raw[conv] / raw[conv].std() for conv in cls_convs}
        logits = torch.cat([s.flatten() for s in scaled.values()])
        bias = -torch.quantile(logits, 1 - CONFIDENT_FRACTION)
        for conv in cls_convs:
            conv.weight.div_(raw[conv].std())
            conv.bias.fill_(float(bias))
    yolo.save(pt_path)
    return pt_path


def _outputs_without_bias(
    model: torch.nn.Module, batch: torch.Tensor, convs: list[torch.nn.Conv2d]
) -> dict[torch.nn.Module, torch.Tensor]:
    """Each conv's output minus its bias, on `batch`, through forward hooks."""
    import torch

    found: dict[torch.nn.Module, torch.Tensor] = {}

    def hook(conv: torch.nn.Conv2d, _inputs: object, output: torch.Tensor) -> None:
        found[conv] = output - conv.bias[None, :, None, None]

    handles = [conv.register_forward_hook(hook) for conv in convs]
    try:
        with torch.no_grad():
            model(batch)
    finally:
        for handle in handles:
            handle.remove()
    return found
