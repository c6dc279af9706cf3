"""The demo config as data, and the problem lines a changed copy of it is refused with."""

from pathlib import Path

import pytest
import yaml

from pipeline.config import ConfigError, parse_config

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "configs" / "demo.yaml"


def demo_data() -> dict:
    return yaml.safe_load(DEMO.read_text())


def problems(data: dict) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(data, "t.yaml")
    return [str(p) for p in info.value.problems]
