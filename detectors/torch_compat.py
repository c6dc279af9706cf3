"""Make `import torchvision` work on the CPU-only PyTorch wheel, for the Ultralytics backend only.

`torch==2.13.0` installs as a CPU wheel on these machines, but the matching torchvision 0.28.0 is
a CUDA build whose C++ extension does not load; torchvision then fails at import with "operator
torchvision::nms does not exist", and Ultralytics `predict` imports torchvision and runs its NMS
through `torchvision.ops.nms`. A pure-PyTorch `torchvision::nms` lets both work. Where the real
extension loads, nothing here is registered. The detector hot path (OpenVINO, ONNX Runtime) never
imports this module.
"""

from __future__ import annotations

import sys
from types import ModuleType

import torch

_MISSING_NMS = "operator torchvision::nms does not exist"
# Ops live only as long as their Library object, so it is held for the life of the process.
_library: torch.library.Library | None = None


def nms(dets: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Greedy NMS with torchvision's contract: indices of kept boxes, highest score first.

    A box is dropped when its IoU with a kept, higher-scoring box is above `iou_threshold`.
    """
    order = scores.argsort(descending=True, stable=True)
    x1, y1, x2, y2 = dets[order].unbind(1)
    areas = (x2 - x1) * (y2 - y1)
    suppressed = torch.zeros(len(order), dtype=torch.bool)
    for i in range(len(order)):
        if suppressed[i]:
            continue
        rest = slice(i + 1, None)
        width = (torch.minimum(x2[i], x2[rest]) - torch.maximum(x1[i], x1[rest])).clamp(min=0)
        height = (torch.minimum(y2[i], y2[rest]) - torch.maximum(y1[i], y1[rest])).clamp(min=0)
        inter = width * height
        suppressed[rest] |= inter / (areas[i] + areas[rest] - inter) > iou_threshold
    return order[~suppressed]


def _register_ops() -> None:
    global _library
    if _library is not None:
        return
    library = torch.library.Library("torchvision", "DEF")
    library.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    library.impl("nms", nms, "CompositeExplicitAutograd")
    # Schema only: torchvision registers a fake kernel for qnms at import, which needs the op.
    library.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    _library = library


def import_torchvision() -> ModuleType:
    """Import torchvision, first giving it a pure-PyTorch NMS if its own extension cannot load."""
    try:
        import torchvision
    except RuntimeError as error:
        if _MISSING_NMS not in str(error):
            raise
        _register_ops()
        # The failed import left some submodules behind; import the package afresh.
        for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
            del sys.modules[name]
        import torchvision
        import torchvision.extension

        # `torchvision.ops.nms` refuses to run without the extension; nms now exists, and the ops
        # this gate also guards (roi_align, ...) still fail clearly with "does not exist".
        torchvision.extension._has_ops = lambda: True
    return torchvision
