"""Content-addressed evidence files and signed manifests.

A file's name is its SHA-256, so a changed byte is a different file and a reference in an event
can be checked by anyone. A manifest per violation lists every file's hash and is signed with
Ed25519, so the set of files (not just each file) is fixed at capture time and can be shown in
court to be unaltered.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pipeline.hashing import canonical_json, sha256_hex
from pipeline.offline_verify import ALGORITHM, check_signed

MANIFEST_VERSION = 1


def atomic_write(path: Path, data: bytes) -> None:
    """Write via a temp file and rename, so a crash never leaves half a file under a hash name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The deployment's signing key; created (mode 0600) on first use."""
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 private key")
        return key
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    atomic_write(path, pem)
    path.chmod(0o600)
    return key


def public_key_b64(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def sign(key: Ed25519PrivateKey, body: Mapping[str, Any]) -> dict[str, str]:
    """Ed25519 signature over the body's canonical JSON, with the public key that checks it."""
    return {
        "algorithm": ALGORITHM,
        "public_key": public_key_b64(key.public_key()),
        "value": base64.b64encode(key.sign(canonical_json(body).encode())).decode(),
    }


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    role: str
    media_type: str
    size_bytes: int


def _file_entry(f: StoredFile) -> dict[str, Any]:
    return {"sha256": f.sha256, "role": f.role, "media_type": f.media_type, "size": f.size_bytes}


@dataclass
class VerifyReport:
    path: Path
    problems: list[str] = field(default_factory=list)
    files_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


class EvidenceStore:
    """Files under `root/sha256/ab/cd/<hash>`, manifests under `root/manifests/<id>.json`."""

    def __init__(self, root: Path, signing_key: Ed25519PrivateKey | None = None) -> None:
        self.root = Path(root)
        self.signing_key = signing_key

    def path_of(self, digest: str) -> Path:
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(f"not a SHA-256 hex digest: {digest!r}")
        return self.root / "sha256" / digest[:2] / digest[2:4] / digest

    def put(self, data: bytes, role: str, media_type: str) -> StoredFile:
        digest = sha256_hex(data)
        target = self.path_of(digest)
        if not target.exists():
            atomic_write(target, data)
        return StoredFile(digest, role, media_type, len(data))

    def get(self, digest: str) -> bytes:
        data = self.path_of(digest).read_bytes()
        if sha256_hex(data) != digest:
            raise ValueError(f"evidence file {digest} does not match its hash")
        return data

    def delete(self, digest: str) -> bool:
        target = self.path_of(digest)
        existed = target.exists()
        target.unlink(missing_ok=True)
        return existed

    def manifest_path(self, violation_id: str) -> Path:
        if not violation_id.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"bad violation id {violation_id!r}")
        return self.root / "manifests" / f"{violation_id}.json"

    def facts(self, violation_id: str) -> dict[str, Any]:
        """What the detect stage recorded about a case (unverified: for display, not proof);
        empty when the case has no manifest."""
        path = self.manifest_path(violation_id)
        if not path.is_file():
            return {}
        facts: dict[str, Any] = json.loads(path.read_bytes())["manifest"].get("facts", {})
        return facts

    def write_manifest(
        self, violation_id: str, files: list[StoredFile], facts: dict[str, Any]
    ) -> str:
        """Sign and store the manifest; returns the SHA-256 of the stored manifest file."""
        if self.signing_key is None:
            raise ValueError("this evidence store has no signing key")
        body = {
            "manifest_version": MANIFEST_VERSION,
            "violation_id": violation_id,
            "created_at": datetime.now(UTC).isoformat(),
            "facts": facts,
            "files": [_file_entry(f) for f in files],
        }
        document = {"manifest": body, "signature": sign(self.signing_key, body)}
        data = json.dumps(document, indent=2, ensure_ascii=False).encode()
        atomic_write(self.manifest_path(violation_id), data)
        return sha256_hex(data)

    def verify_manifest(
        self, path: Path, trusted: Collection[str] | None = None, recorded: str | None = None
    ) -> VerifyReport:
        """Check the manifest's bytes against the hash the store recorded (`recorded`), its
        signature (by one of the `trusted` public keys, when given), then every listed file's
        presence and hash. Every problem is a line of the report, never an exception."""
        report = VerifyReport(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            report.problems.append(f"{path}: missing ({exc.strerror or exc})")
            return report
        if recorded is not None and sha256_hex(raw) != recorded:
            report.problems.append(f"{path}: not the manifest the store recorded ({recorded[:12]})")

        def stored(digest: str, _: str) -> bytes | None:
            try:
                return self.path_of(digest).read_bytes()
            except (OSError, ValueError):
                return None

        problems, report.files_checked = check_signed(raw, "manifest", stored, trusted)
        report.problems += [f"{path}: {problem}" for problem in problems]
        return report

    def verify(
        self, target: Path | None = None, trusted: Collection[str] | None = None
    ) -> list[VerifyReport]:
        """Verify one manifest file, or every manifest under the store."""
        if target is not None and target.is_file():
            return [self.verify_manifest(target, trusted)]
        manifests = sorted((self.root / "manifests").glob("*.json"))
        return [self.verify_manifest(m, trusted) for m in manifests]

    def verify_against(
        self, recorded: Mapping[str, str], trusted: Collection[str]
    ) -> list[VerifyReport]:
        """Every case the store holds (violation id -> recorded manifest hash) against its
        manifest, and every manifest on disk that the store does not hold: a deleted manifest,
        a swapped one, or one added from elsewhere all show."""
        reports = [
            self.verify_manifest(self.manifest_path(vid), trusted, digest)
            for vid, digest in sorted(recorded.items())
        ]
        for path in sorted((self.root / "manifests").glob("*.json")):
            if path.stem not in recorded:
                report = self.verify_manifest(path, trusted)
                report.problems.append(f"{path}: no case in the store has this manifest")
                reports.append(report)
        return reports
