"""The CLI as a user meets it: real subprocesses, exit codes and the lines they print."""

import json
import re
import shutil
import sqlite3
from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from fastapi.testclient import TestClient
from PIL import Image

from detectors.evidence import TRACK_CROPS
from identify.plates import registry_plate
from pipeline.config import load_config
from pipeline.events import ViolationDetected
from stopline.console import console_app
from stopline.demo.run import DEMO_CONFIG, KEEPER_ID, KEEPER_NAME, KEEPER_PHONE
from stopline.demo.scene import RED_LIGHT_PLATE
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
    assert "the red motorcycle" in result.stdout and "the cameraman" in result.stdout
    assert "missed" not in result.stdout
    (out / "stdout.txt").write_text(result.stdout)
    return out


def test_demo_prints_a_console_login_that_works(demo_out: Path) -> None:
    """The address and login the demo prints open its cases in the review console."""
    printed = (demo_out / "stdout.txt").read_text()
    found = re.search(
        r"stopline review serve --config (\S+)` and open (http://127\.0\.0\.1:\d+/) ; "
        r"demo login: (\S+) / (\S+)",
        printed.replace("\n", " "),
    )
    assert found, printed
    config, _, name, password = found.groups()
    app = console_app(load_config(Path(config)), Path.cwd())
    with TestClient(app, base_url="http://127.0.0.1") as client:
        form = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
        home = client.post("/login", data={"name": name, "password": password, "csrf_token": token})
        assert home.status_code == 200 and str(home.url).endswith("/queue")
        # The demo's two cases, approved by its reviewer; the red-light one then notified,
        # the jaywalker's (no notice) shown on the billboards.
        displayed = client.get("/api/v1/citations?status=displayed").json()
        notified = client.get("/api/v1/citations?status=notified").json()
        assert (displayed["total"], notified["total"]) == (1, 1)
        for listed in (displayed, notified):
            case = client.get(f"/cases/{listed['items'][0]['id']}")
            assert case.status_code == 200 and "demo-reviewer" in case.text


def test_demo_cites_the_red_light_runner_and_the_jaywalker_only(demo_out: Path) -> None:
    summary = json.loads((demo_out / "summary.json").read_text())
    assert summary["missed"] == [] and summary["unexpected_citations"] == []
    red, walk = summary["cases"]
    assert (red["kind"], red["who"], red["object_class"]) == (
        "red_light",
        "red motorcycle",
        "motorcycle",
    )
    assert (walk["kind"], walk["who"], walk["object_class"]) == ("jaywalk", "cameraman", "person")
    assert red["track_id"] != walk["track_id"]
    # Both approved by the demo reviewer; only the identified red-light runner is notified,
    # and the jaywalker's case, waiting for no notice, is marked as on the billboards.
    assert (red["status"], walk["status"]) == ("notified", "displayed")
    for case in (red, walk):
        assert case["decided_by"] == "demo-reviewer"
    assert 1.2 < red["time_into_red_s"] < 1.9  # the script has it cross 1.55 s into red
    # Plus the largest offender crops of the track, which identification reads.
    assert Counter(item["role"] for item in red["evidence"]) == {
        "clip": 1,
        "crop:offender": 1,
        "key_frame:entry_line": 1,
        "key_frame:stop_line": 1,
        "crop:track": TRACK_CROPS,
    }
    assert Counter(item["role"] for item in walk["evidence"]) == {
        "clip": 1,
        "crop:offender": 1,
        "key_frame:entered": 1,
        "key_frame:on_road": 1,
        "crop:track": TRACK_CROPS,
    }
    assert summary["audit_chain_ok"] is True
    assert (demo_out / "index.html").read_text().count("<img") == 6
    # Both cases on both billboards at the crossing, newest first, at each screen's size.
    for screen in load_config(DEMO_CONFIG).display.screens:
        folder = demo_out / screen.output_dir / screen.id
        frames = json.loads((folder / "playlist" / "playlist.json").read_text())["frames"]
        assert frames == [f"{walk['citation_id']}.png", f"{red['citation_id']}.png"]
        for name in [*(f"playlist/{f}" for f in frames), "current.png"]:
            assert Image.open(folder / name).size == (screen.width_px, screen.height_px)
    assert not list(demo_out.rglob("*.truth.json"))


def test_demo_reads_the_plate_and_writes_the_keepers_sms(demo_out: Path) -> None:
    """The red-light runner's plate is read from its track crops and leads to the keeper the
    demo registered; the notice lands as one JSON file in the outbox, readable. The jaywalker
    is identified by nothing, so the notice is recorded as unsendable and nothing is written."""
    cfg = load_config(DEMO_CONFIG)
    summary = json.loads((demo_out / "summary.json").read_text())
    red, walk = summary["cases"]
    plate = registry_plate(RED_LIGHT_PLATE, cfg.identification.plates.region)
    assert plate == "KHX4729"
    read = red["identification"]["plate"]
    assert (read["status"], read["text"], read["registry"]) == ("read", plate, "match")
    assert read["confidence"] >= cfg.identification.plates.min_confidence
    assert read["frames_read"] >= 3
    assert (red["plate_text"], red["person_id"]) == (plate, KEEPER_ID)
    assert summary["keeper"]["plate"] == plate and summary["keeper"]["phone"] == KEEPER_PHONE

    [sms_file] = (demo_out / cfg.notifier.outbox_dir).glob("*.json")
    sms = json.loads(sms_file.read_text(encoding="utf-8"))
    assert sms["to"] == KEEPER_PHONE
    occurred = datetime.fromisoformat(red["occurred_at"]).astimezone(
        ZoneInfo(cfg.notifier.timezone)
    )
    body = sms["body"]
    assert f"Dear {KEEPER_NAME}, citation {red['citation_id']}: running a red light" in body
    assert f"at {cfg.cameras[0].location} on {occurred:%Y-%m-%d %H:%M}." in body
    assert red["notice"]["file"] == str(sms_file.relative_to(demo_out))
    assert red["notice"]["body"] == body and red["notice"]["status"] == "delivered"

    assert walk["identification"] == {"evidence": []} and walk["person_id"] is None
    with sqlite3.connect(demo_out / "stopline.db") as db:
        rows = dict(db.execute("SELECT citation_id, status FROM sms_outbox").fetchall())
    assert rows == {red["citation_id"]: "delivered", walk["citation_id"]: "unsendable"}
    assert walk["notice"]["why"] == "nobody identified: no recipient"

    printed = (demo_out / "stdout.txt").read_text()
    assert f"SMS to {KEEPER_PHONE} (en), written to {red['notice']['file']}:" in printed
    assert f"    {body.splitlines()[0]}" in printed
    assert "SMS notice unsendable: nobody identified: no recipient" in printed


def test_evidence_verify_passes_then_catches_tampering(demo_out: Path, tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    shutil.copytree(demo_out / "evidence", evidence)
    ok = stopline("evidence", "verify", str(evidence))
    assert ok.returncode == 0, ok.stderr
    assert f"2/2 manifest(s) verified, {2 * (4 + TRACK_CROPS)} file(s)" in ok.stdout

    manifest = sorted((evidence / "manifests").glob("*.json"))[0]
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


def test_detect_prints_the_demo_violations_and_their_evidence_verifies(
    demo_out: Path, tmp_path: Path
) -> None:
    """`stopline detect VIDEO --config FILE --json`, then `stopline evidence verify`, as a user
    checking a camera's geometry would run them."""
    video = demo_out / "demo-intersection.mp4"
    result = stopline("detect", str(video), "--config", str(DEMO_CONFIG), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    events = [ViolationDetected.model_validate_json(line) for line in result.stdout.splitlines()]
    assert sorted(e.kind for e in events) == ["jaywalk", "red_light"]
    assert "300 frames analysed" in result.stderr and "2 violation(s)" in result.stderr
    verify = stopline("evidence", "verify", str(tmp_path / "evidence"))
    assert verify.returncode == 0, verify.stderr
    assert "2/2 manifest(s) verified" in verify.stdout
