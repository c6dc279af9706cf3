import base64
import json
from pathlib import Path

from pipeline.evidence import EvidenceStore, load_or_create_key, public_key_b64
from pipeline.hashing import canonical_json


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
    [report] = store.verify(trusted={trusted})
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
    [report] = other.verify(trusted={trusted})
    assert "signed by a key this deployment does not trust" in report.problems[0]


def test_the_store_s_cases_are_checked_against_their_manifests(tmp_path: Path) -> None:
    """Found by probing (issue 18): a deleted manifest, one swapped for another validly signed
    one, a re-signed one and one with a malformed files list all passed or crashed."""
    store = make_store(tmp_path)
    trusted = {public_key_b64(store.signing_key.public_key())}
    recorded = {
        vid: store.write_manifest(vid, [store.put(vid.encode(), "crop", "image/jpeg")], {})
        for vid in ("v1", "v2", "v3", "v4")
    }
    assert all(r.ok for r in store.verify_against(recorded, trusted))

    store.manifest_path("v1").unlink()  # deleted
    store.write_manifest("v2", [store.put(b"swapped", "crop", "image/jpeg")], {})  # re-signed
    intruder = make_store(tmp_path / "intruder")
    intruder.write_manifest("v3", [store.put(b"v3", "crop", "image/jpeg")], {})
    store.manifest_path("v3").write_bytes(intruder.manifest_path("v3").read_bytes())
    doc = json.loads(store.manifest_path("v4").read_text())
    doc["manifest"]["files"] = [{"sha": "nothing"}]
    store.manifest_path("v4").write_text(json.dumps(doc))
    store.write_manifest("v5", [], {})  # a manifest no case in the store has

    reports = {r.path.stem: r for r in store.verify_against(recorded, trusted)}
    assert "missing" in reports["v1"].problems[0]
    assert "not the manifest the store recorded" in reports["v2"].problems[0]
    assert any("does not trust" in p for p in reports["v3"].problems)
    assert any("unreadable manifest" in p or "signature" in p for p in reports["v4"].problems)
    assert reports["v5"].problems[-1].endswith("no case in the store has this manifest")
    assert not any(r.ok for r in reports.values())


def test_a_signed_manifest_with_a_malformed_files_list_is_a_problem_not_a_crash(
    tmp_path: Path,
) -> None:
    store = make_store(tmp_path)
    path = store.manifest_path("v1")
    store.write_manifest("v1", [], {})
    doc = json.loads(path.read_text())
    body = {**doc["manifest"], "files": [{"sha256": "ab"}]}  # no role
    signature = store.signing_key.sign(canonical_json(body).encode())
    doc["manifest"], doc["signature"]["value"] = body, base64.b64encode(signature).decode()
    path.write_text(json.dumps(doc))
    [report] = store.verify(path)
    assert report.problems == [f"{path}: unreadable manifest (KeyError: 'role')"]
