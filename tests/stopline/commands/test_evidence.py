"""`stopline evidence verify` passes a demo's evidence and catches one altered byte in it."""

import json
import shutil
import sqlite3
from pathlib import Path

import yaml

from detectors.evidence import TRACK_CROPS
from pipeline.evidence import EvidenceStore, StoredFile, load_or_create_key
from tests.cli import stopline


def test_evidence_verify_passes_then_catches_tampering(demo_out: Path, tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    shutil.copytree(demo_out / "evidence", evidence)
    ok = stopline("evidence", "verify", str(evidence))
    assert ok.returncode == 0, ok.stderr
    assert f"2/2 manifest(s) verified, {2 * (4 + TRACK_CROPS)} file(s)" in ok.stdout

    manifest = sorted((evidence / "manifests").glob("*.json"))[0]
    single = stopline("evidence", "verify", str(manifest))
    assert single.returncode == 0, single.stderr

    listed = json.loads(manifest.read_text())["manifest"]["files"]
    digest = next(f["sha256"] for f in listed if f["role"] == "clip")
    clip = EvidenceStore(evidence).path_of(digest)
    data = bytearray(clip.read_bytes())
    data[1000] ^= 0xFF
    clip.write_bytes(bytes(data))
    bad = stopline("evidence", "verify", str(evidence))
    assert bad.returncode == 1
    assert "was altered" in bad.stderr
    assert "Traceback" not in bad.stderr


def _site_copy(demo_out: Path, tmp_path: Path) -> Path:
    """The demo's output copied, with a console.yaml pointing at the copy."""
    site = tmp_path / "site"
    shutil.copytree(demo_out, site)
    config = yaml.safe_load((demo_out / "console.yaml").read_text())
    config["storage"] = {
        key: value.replace(str(demo_out), str(site)) for key, value in config["storage"].items()
    }
    (site / "console.yaml").write_text(yaml.safe_dump(config))
    return site


def test_evidence_verify_with_the_config_checks_every_case_of_the_store(
    demo_out: Path, tmp_path: Path
) -> None:
    """Found by probing (issue 18): a deleted manifest gave "1/1 verified", and a manifest
    re-signed by a stranger's key verified unless --public-key was given."""
    site = _site_copy(demo_out, tmp_path)
    ok = stopline("evidence", "verify", "--config", "console.yaml", cwd=site)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("2/2 manifest(s) verified")

    first, second = sorted((site / "evidence" / "manifests").glob("*.json"))
    first.unlink()
    stranger = EvidenceStore(tmp_path / "stranger", load_or_create_key(tmp_path / "k.pem"))
    doc = json.loads(second.read_text())
    files = [
        StoredFile(f["sha256"], f["role"], f["media_type"], f["size"])
        for f in doc["manifest"]["files"]
    ]
    stranger.write_manifest(second.stem, files, doc["manifest"]["facts"])
    second.write_bytes(stranger.manifest_path(second.stem).read_bytes())
    bad = stopline("evidence", "verify", "--config", "console.yaml", cwd=site)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert f"{first.name}: missing" in bad.stderr
    assert "not the manifest the store recorded" in bad.stderr
    assert "signed by a key this deployment does not trust" in bad.stderr
    assert "0/2 manifest(s) verified" in bad.stdout


def test_a_case_whose_evidence_retention_purged_needs_no_manifest(
    demo_out: Path, tmp_path: Path
) -> None:
    site = _site_copy(demo_out, tmp_path)
    first = sorted((site / "evidence" / "manifests").glob("*.json"))[0]
    with sqlite3.connect(site / "stopline.db") as db:  # as `stopline retention run` leaves it
        db.execute(
            "UPDATE citations SET evidence_purged_at = CURRENT_TIMESTAMP WHERE violation_id = ?",
            (first.stem,),
        )
    first.unlink()
    result = stopline("evidence", "verify", "--config", "console.yaml", cwd=site)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("1/1 manifest(s) verified")
