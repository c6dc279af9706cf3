"""The demo intersection's config as the wiring, worker and fault tests run its footage."""

from typing import Any

import yaml

from stopline.demo.run import DEMO_CONFIG


def demo_data() -> dict[str, Any]:
    """configs/demo.yaml as data, less its detector and tracking sections: the SSD alone (the
    default) finds the demo's two cases at a third of the YOLO + SSD pair's CPU. These tests
    count what the stages make of the cases, not how they were found; the pair on this footage
    is the demo's own run (`demo_out` in tests/stopline/commands/conftest.py)."""
    data: dict[str, Any] = yaml.safe_load(DEMO_CONFIG.read_text())
    for section in ("detector", "tracking"):
        data.pop(section)
    return data
