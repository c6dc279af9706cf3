"""A config file loads or fails in plain lines, never a traceback; the docs list every key."""

from pathlib import Path

import pytest

from pipeline.config import ConfigError, load_config, reference
from tests.pipeline.config.helpers import ROOT, demo_data, problems


@pytest.mark.parametrize("name", ["demo.yaml", "production.yaml"])
def test_shipped_configs_are_valid(name: str) -> None:
    cfg = load_config(ROOT / "configs" / name)
    assert cfg.cameras
    assert cfg.review.auto_approve is False


def test_cross_references_are_checked() -> None:
    data = demo_data()
    data["cameras"][0]["geometry"]["entry_lines"][0]["stop_line"] = "nowhere"
    data["display"]["screens"][0]["cameras"] = ["ghost-cam"]
    data["bus"] = {"kind": "kafka"}
    lines = problems(data)
    assert any(
        x.startswith("cameras[0].geometry.entry_lines[0].stop_line: found 'nowhere'") for x in lines
    )
    assert any(x.startswith("display.screens[0].cameras[0]: found 'ghost-cam'") for x in lines)
    assert any(x.startswith("bus.bootstrap_servers") for x in lines)


@pytest.mark.parametrize(
    ("bus", "expected"),
    [
        ({"security_protocol": "SASL_SSL", "sasl_username": "u"}, "needs sasl_mechanism, sasl_"),
        ({"sasl_username": "u"}, "sasl_username need security_protocol SASL_SSL or"),
        ({"ssl_certfile": "c.pem"}, "ssl_certfile and ssl_keyfile go together"),
        ({"sasl_password_env": "the password"}, "bus.sasl_password_env: found 'the password'"),
    ],
)
def test_kafka_security_settings_that_cannot_work_are_named(bus: dict, expected: str) -> None:
    data = demo_data()
    data["bus"] = {"kind": "kafka", "bootstrap_servers": "kafka-1:9093", **bus}
    (line,) = problems(data)
    assert expected in line, line


def test_missing_key_and_bad_yaml(tmp_path: Path) -> None:
    data = demo_data()
    del data["cameras"][0]["location"]
    assert problems(data) == ["cameras[0].location: found nothing; expected this required key"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("cameras: [\n  - id: x\n    source: : :\n")
    with pytest.raises(ConfigError) as info:
        load_config(bad)
    assert "line" in str(info.value.problems[0])
    with pytest.raises(ConfigError):
        load_config(tmp_path / "missing.yaml")


def test_config_doc_lists_every_key() -> None:
    doc = (ROOT / "docs" / "CONFIG.md").read_text()
    missing = [row for row in reference() if row not in doc]
    assert not missing, "docs/CONFIG.md is stale; regenerate with `stopline config reference`"


def test_files_that_are_not_configs_fail_in_one_line(tmp_path: Path) -> None:
    """Found by probing (issue 18): each of these gave a traceback or ran for over a minute."""
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("deployment: Mün\xe9\n".encode("latin-1"))
    laughs = tmp_path / "laughs.yaml"  # 9 levels of 9 aliases: 9**9 values if expanded
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 10):
        refs = ",".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    laughs.write_text("\n".join(lines) + "\n")
    loop = tmp_path / "loop.yaml"
    loop.write_text("cameras: &c [*c]\n")
    for path, found in (
        (latin1, "byte 0xfc at offset 13, not UTF-8"),
        (laughs, "more than 200,000 values once its aliases are expanded"),
        (loop, "an alias that contains itself"),
    ):
        with pytest.raises(ConfigError) as info:
            load_config(path)
        assert [str(p) for p in info.value.problems] == [
            f"(file): found {found}; expected {info.value.problems[0].expected}"
        ], path
