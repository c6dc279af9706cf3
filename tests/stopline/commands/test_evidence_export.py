"""The court bundle (issue 19) of the demo's red-light case, exported by the CLI: it verifies
with only its own contents and the deployment's public key, in a separate Python that has no
stopline; any change to any file of it fails; its PDF report has the case, the key frames with
the lines drawn, and the chain of custody."""

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pypdfium2
import pytest
import yaml
from cryptography.hazmat.primitives import serialization

from pipeline.evidence import public_key_b64
from tests.cli import HEAVY_S, stopline

pytestmark = pytest.mark.timeout(HEAVY_S)
"""The first test here waits for the demo (`demo_out`), a few minutes on busy cores."""

DOCS = Path(__file__).resolve().parents[3] / "test-artifacts"


def published_key(config: Path) -> str:
    """The deployment's public key as it would publish it."""
    import yaml

    key_path = Path(yaml.safe_load(config.read_text())["storage"]["signing_key_path"])
    private = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    return public_key_b64(private.public_key())  # type: ignore[arg-type]


def verify(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """verify.py run as a court would: `python -I` (no site-packages of stopline's checkout on
    the path, no PYTHONPATH), from the bundle's own folder."""
    return subprocess.run(
        [sys.executable, "-I", "verify.py", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def bundle(demo_out: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict]:
    summary = json.loads((demo_out / "summary.json").read_text())
    red = summary["cases"][0]
    out = tmp_path_factory.mktemp("bundle") / "case.zip"
    config = demo_out / "console.yaml"
    made = stopline(
        "evidence", "export", red["citation_id"], "--config", str(config), "--out", str(out)
    )
    assert made.returncode == 0, made.stdout + made.stderr
    assert f"{out}: " in made.stdout
    return out, published_key(config), red


def unpacked(zip_path: Path, folder: Path) -> Path:
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(folder)
    return folder


def test_the_bundle_verifies_with_its_contents_and_the_published_key(
    bundle: tuple[Path, str, dict], tmp_path: Path
) -> None:
    zip_path, key, red = bundle
    folder = unpacked(zip_path, tmp_path / "case")
    names = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert {"report.pdf", "manifest.json", "custody.json", "case.json", "verify.py"} <= names
    assert {"public_keys.txt", "bundle.json", "README.txt"} <= names
    manifest = json.loads((folder / "manifest.json").read_text())["manifest"]
    assert {f"files/{f['sha256']}" for f in manifest["files"]} <= names
    assert any(f["role"] == "clip" for f in manifest["files"])
    ok = verify(folder, "--public-key", key)
    assert ok.returncode == 0 and ok.stdout.startswith("OK"), ok.stdout + ok.stderr
    plain = verify(folder)
    assert plain.returncode == 0 and "not compared with a published key" in plain.stdout
    rotated = verify(folder, "--public-key", "A" * 43 + "=", "--public-key", key)
    assert rotated.returncode == 0, "any of the deployment's published keys"
    other = verify(folder, "--public-key", "A" * 43 + "=")
    assert other.returncode == 1 and "does not trust" in other.stdout
    custody = json.loads((folder / "custody.json").read_text())
    actions = [row["action"] for row in custody]
    assert "citation.created" in actions and "citation.transition" in actions
    case = json.loads((folder / "case.json").read_text())
    assert case["citation"]["id"] == red["citation_id"] and case["audit_chain_at_export"]["ok"]


@pytest.mark.parametrize("change", ["clip", "report", "manifest", "extra", "missing"])
def test_any_change_to_the_bundle_fails_verification(
    bundle: tuple[Path, str, dict], tmp_path: Path, change: str
) -> None:
    zip_path, key, _ = bundle
    folder = unpacked(zip_path, tmp_path / "case")
    manifest = json.loads((folder / "manifest.json").read_text())["manifest"]
    clip = next(f for f in manifest["files"] if f["role"] == "clip")["sha256"]
    if change == "clip":
        path = folder / "files" / clip
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 1
        path.write_bytes(bytes(data))
    elif change == "report":
        (folder / "report.pdf").write_bytes(b"%PDF-1.4 a different report")
    elif change == "manifest":
        text = (folder / "manifest.json").read_text()
        (folder / "manifest.json").write_text(text.replace('"red_light"', '"jaywalk"', 1))
    elif change == "extra":
        shutil.copy(folder / "report.pdf", folder / "files" / "extra.pdf")
    else:
        (folder / "custody.json").unlink()
    failed = verify(folder, "--public-key", key)
    assert failed.returncode == 1 and "FAIL" in failed.stdout, failed.stdout


def test_the_report_shows_the_case_the_frames_and_the_custody(
    bundle: tuple[Path, str, dict], tmp_path: Path
) -> None:
    zip_path, _, red = bundle
    folder = unpacked(zip_path, tmp_path / "case")
    pdf = pypdfium2.PdfDocument(str(folder / "report.pdf"))
    texts = [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    assert "Ran a red light" in texts[0] and "闯红灯" in texts[0]
    assert red["citation_id"] in texts[0] and "demo-reviewer" in texts[0]
    assert "Time into red" in texts[0] and "Signal timeline" in texts[0]
    frame_pages = [t for t in texts if "Key frame:" in t]
    assert len(frame_pages) == 2, "the stop-line and entry-line key frames"
    assert "Chain of custody" in texts[-1] and "citation.created" in texts[-1]
    DOCS.mkdir(exist_ok=True)
    for index, name in ((0, "court-report-page1.png"), (1, "court-report-keyframe.png")):
        pdf[index].render(scale=1.5).to_pil().save(DOCS / name)


def test_the_report_draws_the_set_up_recorded_with_the_evidence_not_todays(
    bundle: tuple[Path, str, dict], demo_out: Path, tmp_path: Path
) -> None:
    """A stop line moved after the case is not drawn over it: the manifest recorded the old."""
    zip_path, _, red = bundle
    first = text_of(unpacked(zip_path, tmp_path / "before") / "report.pdf")
    assert "recorded in the signed manifest with the evidence; the same as today's" in first
    config = yaml.safe_load((demo_out / "console.yaml").read_text())
    line = config["cameras"][0]["geometry"]["stop_lines"][0]
    recorded = digits([(float(x), float(y)) for x, y in line["points"]])  # printed 300.0
    line["points"] = [[x, y + 40] for x, y in line["points"]]
    today = digits([(float(x), float(y)) for x, y in line["points"]])
    moved = tmp_path / "moved.yaml"
    moved.write_text(yaml.safe_dump(config))
    out = tmp_path / "moved.zip"
    made = stopline(
        "evidence", "export", red["citation_id"], "--config", str(moved), "--out", str(out)
    )
    assert made.returncode == 0, made.stdout + made.stderr
    later = text_of(unpacked(out, tmp_path / "after") / "report.pdf")
    assert "recorded in the signed manifest with the evidence; different from today's" in later
    assert recorded in digits(later) and today not in digits(later)


def digits(value: object) -> str:
    """Only the digits and commas of a value as printed: [(1, 2)] and [[1,2]] read alike."""
    return "".join(c for c in str(value) if c.isdigit() or c == ",")


def text_of(pdf_path: Path) -> str:
    pdf = pypdfium2.PdfDocument(str(pdf_path))
    return "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
