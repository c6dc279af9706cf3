"""The CLI as a user meets it: real subprocesses, exit codes and the lines they print."""

import json
import shutil
from pathlib import Path

import pytest
import yaml

from tests.cli import ROOT, stopline


def test_help_lists_every_command() -> None:
    result = stopline("--help")
    assert result.returncode == 0
    for command in ("demo", "run", "worker", "config", "evidence"):
        assert command in result.stdout


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


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    result = stopline("demo", "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "cited tracks [4]" in result.stdout
    return out


def test_demo_cites_only_the_red_light_runner(demo_out: Path) -> None:
    summary = json.loads((demo_out / "summary.json").read_text())
    [case] = summary["cases"]
    assert case["track_id"] == 4 and case["kind"] == "red_light"
    assert case["status"] == "approved" and case["decided_by"] == "demo-reviewer"
    assert 1.5 < case["time_into_red_s"] < 2.0
    roles = sorted(item["role"] for item in case["evidence"])
    assert roles == ["clip", "crop:offender", "key_frame:entry_line", "key_frame:stop_line"]
    assert summary["audit_chain_ok"] is True
    assert (demo_out / "index.html").read_text().count("<img") == 3


def test_evidence_verify_passes_then_catches_tampering(demo_out: Path, tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    shutil.copytree(demo_out / "evidence", evidence)
    ok = stopline("evidence", "verify", str(evidence))
    assert ok.returncode == 0, ok.stderr
    assert "1/1 manifest(s) verified, 4 file(s)" in ok.stdout

    [manifest] = (evidence / "manifests").glob("*.json")
    single = stopline("evidence", "verify", str(manifest))
    assert single.returncode == 0, single.stderr

    clip = next(
        p for p in (evidence / "sha256").rglob("*") if p.is_file() and p.stat().st_size > 50_000
    )
    data = bytearray(clip.read_bytes())
    data[1000] ^= 0xFF
    clip.write_bytes(bytes(data))
    bad = stopline("evidence", "verify", str(evidence))
    assert bad.returncode == 1
    assert "was altered" in bad.stderr
    assert "Traceback" not in bad.stderr
