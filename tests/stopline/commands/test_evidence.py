"""`stopline evidence verify` passes a demo's evidence and catches one altered byte in it."""

import shutil
from pathlib import Path

from detectors.evidence import TRACK_CROPS
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
