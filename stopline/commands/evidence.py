"""`stopline evidence`: verify signed evidence packages."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.config import StoplineConfig
from stopline.commands.common import (
    ConfigOption,
    err,
    fail,
    open_store,
    out,
    plain_errors,
    read_config,
)

app = typer.Typer(help="Check evidence packages.", no_args_is_help=True)


@app.command("verify")
def evidence_verify(
    path: Annotated[
        Path | None,
        typer.Argument(help="An evidence directory or one manifest file (default: the config's)"),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Deployment YAML: trust only its keys, and check every case in its store "
            "against its manifest and the manifest's recorded hash",
        ),
    ] = None,
    public_key: Annotated[
        str | None,
        typer.Option(help="Trusted Ed25519 public key (base64 raw); any valid signer if unset"),
    ] = None,
) -> None:
    """Check every manifest's signature and every listed file's SHA-256; with --config, also
    that no case of the store lost, swapped or gained a manifest."""
    from sqlalchemy import select

    from pipeline.evidence import EvidenceStore
    from pipeline.store.models import Citation, Violation

    if path is None and config is None:
        fail("stopline: give an evidence PATH, or --config for the deployment's", 2)
    if path is not None and not path.exists():
        fail(f"{path}: no such file or directory", 2)
    trusted = {public_key} if public_key else None
    if config is not None:
        cfg = read_config(config)
        trusted = deployment_keys(cfg) | (trusted or set())
        root = path or cfg.storage.evidence_dir
        with plain_errors(), open_store(cfg) as store, store.session() as session:
            # A case whose evidence retention purged (audited) has no manifest by design.
            kept = (
                select(Violation.id, Violation.manifest_sha256)
                .outerjoin(Citation, Citation.violation_id == Violation.id)
                .where(Citation.evidence_purged_at.is_(None))
            )
            recorded = dict(session.execute(kept).all())
        reports = EvidenceStore(root).verify_against(recorded, trusted)
    else:
        assert path is not None
        root = path.parent.parent if path.is_file() else path
        reports = EvidenceStore(root).verify(path if path.is_file() else None, trusted)
    if not reports:
        fail(f"{path or root}: no manifests found", 1)
    bad = [r for r in reports if not r.ok]
    for report in bad:
        for problem in report.problems:
            err.print(problem, markup=False, highlight=False, soft_wrap=True)
    files = sum(r.files_checked for r in reports)
    out.print(f"{len(reports) - len(bad)}/{len(reports)} manifest(s) verified, {files} file(s)")
    if bad:
        raise typer.Exit(1)


@app.command("export")
def evidence_export(
    citation: Annotated[str, typer.Argument(help="Citation id")],
    config: ConfigOption,
    out_file: Annotated[Path, typer.Option("--out", help="Zip file to write")],
    actor: Annotated[
        str, typer.Option(help="Who exports it, for the audit log and the bundle")
    ] = "cli:evidence-export",
) -> None:
    """Write a court bundle: report PDF, clip, key frames, signed manifest, chain of custody,
    public key and verify.py, all listed in a signed index. Audited."""
    from pipeline.evidence import EvidenceStore, load_or_create_key
    from stopline.court_bundle import ExportError, export

    cfg = read_config(config)
    if not cfg.storage.signing_key_path.is_file():  # never sign a bundle with a new key
        fail(f"stopline: {cfg.storage.signing_key_path}: no signing key (run from its folder?)", 2)
    key = load_or_create_key(cfg.storage.signing_key_path)
    trusted = deployment_keys(cfg)
    evidence = EvidenceStore(cfg.storage.evidence_dir)
    with plain_errors(), open_store(cfg) as store, store.session() as session:
        try:
            bundle = export(session, citation, cfg, evidence, key, trusted, out_file, actor)
        except ExportError as error:
            fail(f"stopline: {error}", 1)
    out.print(
        f"{bundle.path}: {bundle.files} files, SHA-256 {bundle.sha256}",
        markup=False,
        highlight=False,
    )


def deployment_keys(cfg: StoplineConfig) -> set[str]:
    """The public half of the deployment's signing key, and the keys of earlier rotations."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from pipeline.evidence import public_key_b64

    keys = set(cfg.storage.trusted_public_keys)
    path = cfg.storage.signing_key_path
    if path.exists():
        with plain_errors():
            private = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(private, Ed25519PrivateKey):
            fail(f"stopline: {path}: not an Ed25519 key", 1)
        keys.add(public_key_b64(private.public_key()))
    return keys
