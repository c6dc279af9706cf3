"""Fuzzing the foundation's parsers with Hypothesis (issue 18): whatever arrives on the bus, in
a config file or as an image, the answer is the parser's own clear error or a valid result,
never another exception (a traceback, a dead consumer thread)."""

import contextlib
import json

import yaml
from hypothesis import given
from hypothesis import strategies as st

from pipeline.config import ConfigError, parse_config
from pipeline.events import EventError, parse_event
from pipeline.images import decode_image
from tests.fuzzing import FUZZ, JSON, replaced, value_changes
from tests.pipeline.config.helpers import demo_data

EVENT_KEYS = ("event_type", "event_id", "schema_version", "citation_id", "camera_id", "reviewer")
EVENT_TYPES = st.sampled_from(
    ["violation.detected", "citation.approved", "citation.dismissed", "signal.phase", "x"]
)


def _parses_or_refuses(raw: bytes | str) -> None:
    """Raises anything but an EventError: what used to kill a consumer thread."""
    with contextlib.suppress(EventError):
        parse_event(raw)


@FUZZ
@given(st.binary(max_size=400))
def test_any_bytes_on_the_bus_parse_or_are_refused_as_an_event_error(raw: bytes) -> None:
    _parses_or_refuses(raw)


@FUZZ
@given(st.dictionaries(st.sampled_from(EVENT_KEYS), JSON, max_size=6), EVENT_TYPES)
def test_event_shaped_json_parses_or_is_refused(fields: dict, event_type: str) -> None:
    _parses_or_refuses(json.dumps({"event_type": event_type, **fields}))


@FUZZ
@given(value_changes(demo_data()))
def test_a_config_with_any_value_changed_loads_or_names_its_problems(change: tuple) -> None:
    try:
        parse_config(replaced(demo_data(), *change), "fuzz.yaml")
    except ConfigError as exc:
        assert exc.problems and all(str(p) for p in exc.problems)


@FUZZ
@given(st.text(max_size=300))
def test_any_yaml_text_loads_or_is_a_config_error(text: str) -> None:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return  # load_config turns this into a ConfigError; see test_loading
    with contextlib.suppress(ConfigError):
        parse_config(data, "fuzz.yaml")


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@FUZZ
@given(
    st.sampled_from([b"", PNG_SIGNATURE, b"\xff\xd8\xff", b"GIF89a", b"BM"]),
    st.binary(max_size=200),
)
def test_any_image_bytes_decode_or_are_a_value_error(head: bytes, rest: bytes) -> None:
    try:
        image = decode_image(head + rest, "fuzz")
    except ValueError:
        return
    assert image.ndim == 3 and image.shape[2] == 3
