"""Checking signed evidence with nothing but Python and `cryptography`: the one implementation
that `stopline evidence verify` runs and that a court bundle carries as its `verify.py`.

A signed document is `{"manifest" | "bundle": body, "signature": {algorithm, public_key,
value}}`: an Ed25519 signature over the body's canonical JSON (sorted keys, no spaces, UTF-8).
The bundle's own index lists every file of the bundle by SHA-256, and the evidence manifest
every file the camera recorded, so one altered, missing or added byte shows. Whether the signing
key is the deployment's is for the reader to settle: pass the key the deployment published.

    python verify.py [--public-key BASE64] [BUNDLE_FOLDER]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ALGORITHM = "Ed25519"
INDEX = "bundle.json"
"""The bundle's signed list of its files."""


def canonical_json(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def signer_of(body: Mapping[str, Any], signature: Mapping[str, str]) -> str:
    """The public key (base64) whose signature this is; raises InvalidSignature, or
    ValueError/KeyError/TypeError for a malformed one. Whether to trust it is the caller's.

    A signature naming another algorithm is malformed although Ed25519 checks it: the document
    would claim a scheme that nobody verified."""
    if signature["algorithm"] != ALGORITHM:
        raise ValueError(f"signature algorithm {signature['algorithm']!r}, not {ALGORITHM}")
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(signature["public_key"]))
    public.verify(base64.b64decode(signature["value"]), canonical_json(body).encode())
    return signature["public_key"]


def check_signed(
    raw: bytes,
    kind: str,
    fetch: Callable[[str, str], bytes | None],
    trusted: Collection[str] | None = None,
) -> tuple[list[str], int]:
    """Problems with one signed document (`kind`: manifest or bundle) and the files it lists,
    each fetched by hash and label (its role, or its name in a bundle; None: missing), and how
    many files were checked. Never raises."""
    try:
        document = json.loads(raw)
        body, signature = document[kind], document["signature"]
        signer_of(body, signature)
        label = "role" if kind == "manifest" else "name"
        entries = [(str(e["sha256"]), str(e[label])) for e in body["files"]]
    except InvalidSignature:
        return [f"signature does not match the {kind}"], 0
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        # RecursionError: arrays nested deeper than the parser goes (`[` x 100000).
        return [f"unreadable {kind} ({type(exc).__name__}: {exc})"], 0
    problems = []
    if trusted is not None and signature["public_key"] not in trusted:
        problems.append("signed by a key this deployment does not trust")
    checked = 0
    for digest, label in entries:
        data = fetch(digest, label)
        if data is None:
            problems.append(f"file {digest} ({label}) is missing")
            continue
        checked += 1
        if sha256_hex(data) != digest:
            problems.append(f"file {digest} ({label}) was altered")
    return problems, checked


def check_bundle(folder: Path, public_keys: Collection[str] | None) -> list[str]:
    """Every problem with an unpacked court bundle; empty when it is intact. With
    `public_keys` (the deployment's published keys, every rotation), both the index and the
    evidence manifest must be signed by one of them; without, only by the same key."""
    index_path = folder / INDEX
    if not index_path.is_file():
        return [f"no {INDEX} in {folder}"]
    raw = index_path.read_bytes()
    try:
        index = json.loads(raw)
        listed = {str(e["name"]) for e in index["bundle"]["files"]}
        manifest_name = str(index["bundle"]["manifest"])
        index_signer = str(index["signature"]["public_key"])
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        return [f"unreadable {INDEX} ({type(exc).__name__}: {exc})"]

    def in_folder(name: str) -> bytes | None:
        path = (folder / name).resolve()
        if folder.resolve() not in path.parents or not path.is_file():
            return None
        return path.read_bytes()

    problems, _ = check_signed(raw, "bundle", lambda _, name: in_folder(name), public_keys)
    problems = [f"{INDEX}: {p}" for p in problems]
    manifest = in_folder(manifest_name)
    if manifest is None:
        return [*problems, f"{manifest_name}: missing"]
    unlisted = sorted(
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and p.name != INDEX and str(p.relative_to(folder)) not in listed
    )
    problems += [f"{name}: not listed in {INDEX}" for name in unlisted]
    # Without published keys, the manifest must at least be the index signer's: the evidence
    # was recorded with an earlier key only where the deployment says it had one.
    trusted = public_keys if public_keys is not None else [index_signer]
    found, _ = check_signed(
        manifest, "manifest", lambda digest, _: in_folder(f"files/{digest}"), trusted
    )
    return problems + [f"{manifest_name}: {p}" for p in found]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify a stopline court bundle offline.")
    parser.add_argument("folder", nargs="?", default=str(Path(__file__).resolve().parent))
    parser.add_argument(
        "--public-key",
        action="append",
        help="a public Ed25519 key (base64) the deployment published; give each of its keys "
        "(rotations) once. Without any, the bundle is checked against the key it carries, "
        "which proves it intact but not who made it",
    )
    args = parser.parse_args(argv)
    problems = check_bundle(Path(args.folder), args.public_key)
    for problem in problems:
        print(f"FAIL {problem}")
    if problems:
        return 1
    print("OK: every file matches the signed index and the signed evidence manifest", end="")
    print("" if args.public_key else " (signer not compared with a published key)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
