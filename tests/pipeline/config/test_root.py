"""A deployment left at its defaults keeps every safeguard on, and every key it has is explained."""

from pipeline.config import load_config, parse_config, reference
from tests.pipeline.config.helpers import DEMO, demo_data


def test_defaults_keep_safeguards_on() -> None:
    cfg = load_config(DEMO)
    assert cfg.rules.red_light.grace_s == 0.3
    assert cfg.identification.faces.enabled is False
    data = demo_data()
    del data["review"]
    assert parse_config(data).review.demo_reviewer is None


def test_every_field_has_a_description() -> None:
    assert all(not row.endswith("|  |") for row in reference())
