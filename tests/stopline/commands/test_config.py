"""`stopline config check` says whether a file is usable in plain lines, one per problem."""

from pathlib import Path

import yaml

from tests.cli import ROOT, stopline


def test_config_check_accepts_the_demo() -> None:
    result = stopline("config", "check", "configs/demo.yaml")
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout


def test_config_check_names_each_problem_without_traceback(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "configs" / "demo.yaml").read_text())
    data["rules"]["red_light"]["grace_sec"] = 0.3
    data["cameras"][0]["analysis_fps"] = "ten"
    data["cameras"][0]["geometry"]["carriageways"][0]["polygon"] = [[0, 0], [10, 10]]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    result = stopline("config", "check", str(bad))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3, lines
    assert f"{bad}: cameras[0].analysis_fps: found 'ten'" in lines[0]
    assert f"{bad}: cameras[0].geometry.carriageways[0].polygon: found 2 item(s)" in lines[1]
    assert f"{bad}: rules.red_light.grace_sec: found an unknown key" in lines[2]


def test_config_check_missing_file() -> None:
    result = stopline("config", "check", "no/such.yaml")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "no/such.yaml" in result.stderr
