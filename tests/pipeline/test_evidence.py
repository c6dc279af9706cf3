import json
from pathlib import Path

from pipeline.evidence import EvidenceStore, load_or_create_key, public_key_b64


def make_store(tmp_path: Path) -> EvidenceStore:
    return EvidenceStore(tmp_path / "ev", load_or_create_key(tmp_path / "keys" / "k.pem"))


def test_content_addressed_and_deduplicated(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    a = store.put(b"frame-bytes", "key_frame", "image/jpeg")
    b = store.put(b"frame-bytes", "crop", "image/jpeg")
    assert a.sha256 == b.sha256
    path = store.path_of(a.sha256)
    assert path.relative_to(store.root).parts[:3] == ("sha256", a.sha256[:2], a.sha256[2:4])
    assert store.get(a.sha256) == b"frame-bytes"


def test_key_is_persistent_and_private(tmp_path: Path) -> None:
    key_path = tmp_path / "keys" / "k.pem"
    first = load_or_create_key(key_path)
    assert key_path.stat().st_mode & 0o077 == 0
    assert public_key_b64(load_or_create_key(key_path).public_key()) == public_key_b64(
        first.public_key()
    )


def test_manifest_verifies_and_detects_tampering(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    files = [store.put(b"one", "key_frame", "image/jpeg"), store.put(b"two", "clip", "video/mp4")]
    store.write_manifest("v1", files, {"kind": "red_light"})
    trusted = public_key_b64(store.signing_key.public_key())
    [report] = store.verify(trusted_key=trusted)
    assert report.ok and report.files_checked == 2

    store.path_of(files[1].sha256).write_bytes(b"TWO")
    [report] = store.verify()
    assert not report.ok and "altered" in report.problems[0]

    store.path_of(files[1].sha256).unlink()
    [report] = store.verify()
    assert "missing" in report.problems[0]


def test_edited_manifest_or_foreign_key_fails(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    store.write_manifest("v2", [store.put(b"x", "crop", "image/jpeg")], {"speed_px_s": 90})
    path = store.manifest_path("v2")
    doc = json.loads(path.read_text())
    doc["manifest"]["facts"]["speed_px_s"] = 10
    path.write_text(json.dumps(doc))
    [report] = store.verify(path)
    assert report.problems == [f"{path}: signature does not match the manifest"]

    other = make_store(tmp_path / "other")
    other.write_manifest("v3", [other.put(b"y", "crop", "image/jpeg")], {})
    trusted = public_key_b64(store.signing_key.public_key())
    [report] = other.verify(trusted_key=trusted)
    assert "untrusted" in report.problems[0]
