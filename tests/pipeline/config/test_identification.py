"""Identification settings that would name the wrong person are refused at start-up."""

import pytest

from tests.pipeline.config.helpers import demo_data, problems


@pytest.mark.parametrize(
    ("key", "value"),
    [
        (("faces", "match_threshold"), -1),  # every face would be named: the nearest name
        (("faces", "match_threshold"), 0.2),
        (("plates", "min_confidence"), 0),  # any reading would name a keeper
    ],
)
def test_thresholds_that_name_strangers_are_refused(key: tuple[str, str], value: float) -> None:
    data = demo_data()
    data.setdefault("identification", {}).setdefault(key[0], {})[key[1]] = value
    lines = problems(data)
    assert len(lines) == 1 and lines[0].startswith(f"identification.{key[0]}.{key[1]}: found"), (
        lines
    )
