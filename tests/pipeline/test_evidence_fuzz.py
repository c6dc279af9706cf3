"""Fuzzing evidence verification (issue 18): one real signed package, mutated every way an
intruder or a failing disk could (bytes of the manifest flipped, inserted or deleted; any JSON
value replaced by any other; the signature's bytes changed; files removed, renamed, altered or
added). Whatever changes what was signed is reported, as a problem naming the manifest, and
verification never raises; what changes nothing signed still verifies."""

import base64
import json
import shutil
import tempfile
from functools import cache
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from pipeline.evidence import EvidenceStore, load_or_create_key, public_key_b64
from pipeline.hashing import canonical_json, sha256_hex
from tests.fuzzing import fuzz, replaced, value_changes

VIOLATION = "v-fuzz-1"
FILES = [
    (b"\xff\xd8\xff key frame", "key_frame", "image/jpeg"),
    (b"\x00\x00\x00\x18ftypmp42 clip", "clip", "video/mp4"),
    (b"\x89PNG crop", "crop:offender", "image/png"),
]


@cache
def package() -> tuple[Path, str]:
    """The pristine package (under a temporary folder kept for the session) and its signer."""
    root = Path(tempfile.mkdtemp(prefix="evidence-fuzz-"))
    store = EvidenceStore(root / "evidence", load_or_create_key(root / "key.pem"))
    files = [store.put(data, role, media) for data, role, media in FILES]
    store.write_manifest(VIOLATION, files, {"kind": "red_light", "speed_px_s": 91.5, "ok": True})
    assert store.signing_key is not None
    return root / "evidence", public_key_b64(store.signing_key.public_key())


def pristine_document() -> dict:
    root, _ = package()
    return json.loads(EvidenceStore(root).manifest_path(VIOLATION).read_bytes())


BYTE_EDITS = st.one_of(
    st.tuples(st.just("flip"), st.integers(0), st.integers(1, 255)),
    st.tuples(
        st.just("insert"),
        st.integers(0),
        st.binary(min_size=1, max_size=4),
        st.sampled_from([1, 1, 50, 5000]),
    ),
    st.tuples(st.just("delete"), st.integers(0), st.integers(1, 40)),
    st.tuples(st.just("nest"), st.integers(0), st.sampled_from([1, 100, 100_000])),
)
"""Flip, insert or delete bytes anywhere; or open arrays where a value starts (`nest`): an
insert at random rarely lands there."""
SIGNATURE_EDITS = st.tuples(st.integers(0, 63), st.integers(1, 255)) | st.tuples(
    st.binary(max_size=80)
)
FILE_EDITS = st.tuples(
    st.sampled_from(["remove", "rename", "alter", "add"]), st.integers(0, len(FILES) - 1)
)


def _edit_bytes(raw: bytes, edit: tuple) -> bytes:
    kind, at, *rest = edit
    if kind == "nest":
        values = [i + 1 for i, byte in enumerate(raw) if byte == ord(":")] or [0]
        at, kind, rest = values[at % len(values)], "insert", [b"[", rest[0]]
    at %= len(raw) + 1
    if kind == "insert":
        return raw[:at] + rest[0] * rest[1] + raw[at:]
    if kind == "delete":
        return raw[:at] + raw[at + rest[0] :]
    return raw[:at] + bytes([raw[at] ^ rest[0]]) + raw[at + 1 :] if at < len(raw) else raw


def _edit_signature(document: dict, *edit: int | bytes) -> dict:
    """The document with its signature's bytes changed: one bit pattern, or all of them."""
    signature = base64.b64decode(document["signature"]["value"])
    if len(edit) == 2:
        at, mask = edit
        signature = signature[:at] + bytes([signature[at] ^ mask]) + signature[at + 1 :]
    else:
        signature = edit[0]
    value = base64.b64encode(signature).decode()
    return {**document, "signature": {**document["signature"], "value": value}}


def _edit_files(root: Path, edit: tuple) -> bool:
    """Whether the edit touched a file the manifest lists (an added one touches none)."""
    kind, index = edit
    store = EvidenceStore(root)
    data = FILES[index][0]
    path = store.path_of(sha256_hex(data))
    if kind == "add":
        store.put(data + b" unlisted", "extra", "image/jpeg")
        return False
    if kind == "alter":
        path.write_bytes(data + b"!")
    elif kind == "rename" and path.exists():  # not removed or renamed already
        path.rename(path.with_name(path.name[::-1]))
    else:
        path.unlink(missing_ok=True)
    return True


def _signed(raw: bytes) -> tuple[str, str] | None:
    """What a manifest's bytes sign and are signed with, comparably; None if unreadable."""
    try:
        document = json.loads(raw)
        signature = {k: document["signature"][k] for k in ("algorithm", "public_key", "value")}
        return canonical_json(document["manifest"]), canonical_json(signature)
    except (ValueError, KeyError, TypeError, RecursionError):
        return None


MUTATIONS = st.one_of(
    st.tuples(st.just("bytes"), BYTE_EDITS),
    st.tuples(st.just("value"), value_changes(pristine_document())),
    st.tuples(st.just("signature"), SIGNATURE_EDITS),
    st.tuples(st.just("files"), FILE_EDITS),
)


@fuzz(400)
@given(MUTATIONS)
def test_any_change_to_what_was_signed_is_a_problem_and_nothing_raises(mutation: tuple) -> None:
    _verify_mutated([mutation])


@fuzz(100)
@given(st.lists(MUTATIONS, min_size=2, max_size=4))
def test_changes_together_are_problems_too(mutations: list) -> None:
    _verify_mutated(mutations)


def _verify_mutated(mutations: list) -> None:
    """Apply the mutations to a copy of the package; its report is ok if and only if nothing
    signed changed, and each problem names the manifest."""
    pristine, signer = package()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "evidence"
        shutil.copytree(pristine, root)
        manifest = EvidenceStore(root).manifest_path(VIOLATION)
        original = manifest.read_bytes()
        files_touched = False
        for kind, edit in mutations:
            raw = manifest.read_bytes()
            if kind == "bytes":
                raw = _edit_bytes(raw, edit)
            elif kind in ("value", "signature"):
                try:
                    document = json.loads(raw)
                    edit_json = replaced if kind == "value" else _edit_signature
                    raw = json.dumps(edit_json(document, *edit), ensure_ascii=False).encode()
                except (ValueError, KeyError, IndexError, TypeError, RecursionError):
                    continue  # an earlier edit left no such value to change
            else:
                files_touched |= _edit_files(root, edit)
            manifest.write_bytes(raw)
        signed_changed = files_touched or _signed(manifest.read_bytes()) != _signed(original)
        store = EvidenceStore(root)
        # As `stopline evidence verify` checks a folder, and with --config against the hash the
        # store recorded, where any byte changed counts.
        checks = [
            *((r, signed_changed) for r in store.verify(root, None) + store.verify(root, {signer})),
            *(
                (r, files_touched or manifest.read_bytes() != original)
                for r in store.verify_against({VIOLATION: sha256_hex(original)}, {signer})
            ),
        ]
        assert len(checks) == 3
        for report, changed in checks:
            assert report.ok is not changed, (report.problems, mutations)
            assert all(
                p.startswith(f"{manifest}: ") and p != f"{manifest}: " for p in report.problems
            )


def test_an_unchanged_package_verifies() -> None:
    root, signer = package()
    [report] = EvidenceStore(root).verify(root, {signer})
    assert report.ok and report.files_checked == len(FILES)


def test_a_signature_naming_another_algorithm_is_a_problem() -> None:
    """Found by fuzzing: `"algorithm": null` (or any other) verified ok, Ed25519 being tried
    whatever the manifest said."""
    root, signer = package()
    manifest = EvidenceStore(root).manifest_path(VIOLATION)
    document = json.loads(manifest.read_bytes())
    document["signature"]["algorithm"] = None
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "m.json"
        copy.write_text(json.dumps(document))
        report = EvidenceStore(root).verify_manifest(copy, {signer})
    assert report.problems == [
        f"{copy}: unreadable manifest (ValueError: signature algorithm None, not Ed25519)"
    ]


def test_a_manifest_nested_past_the_parser_s_depth_is_a_problem_not_a_crash() -> None:
    """Found by fuzzing: `[` x 100000 after a colon raised RecursionError out of verify."""
    root, _ = package()
    raw = EvidenceStore(root).manifest_path(VIOLATION).read_bytes()
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "m.json"
        copy.write_bytes(raw.replace(b":", b":" + b"[" * 100_000, 1))
        [problem] = EvidenceStore(root).verify_manifest(copy).problems
    assert problem.startswith(f"{copy}: unreadable manifest (RecursionError: maximum recursion")
