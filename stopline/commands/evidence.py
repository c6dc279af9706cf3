"""`stopline evidence`: verify signed evidence packages."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stopline.commands.common import err, fail, out

app = typer.Typer(help="Check evidence packages.", no_args_is_help=True)


@app.command("verify")
def evidence_verify(
    path: Annotated[Path, typer.Argument(help="An evidence directory or one manifest file")],
    public_key: Annotated[
        str | None,
        typer.Option(help="Trusted Ed25519 public key (base64 raw); any valid signer if unset"),
    ] = None,
) -> None:
    """Check every manifest's signature and every listed file's SHA-256."""
    from pipeline.evidence import EvidenceStore

    if not path.exists():
        fail(f"{path}: no such file or directory", 2)
    root = path.parent.parent if path.is_file() else path
    reports = EvidenceStore(root).verify(path if path.is_file() else None, public_key)
    if not reports:
        fail(f"{path}: no manifests found", 1)
    bad = [r for r in reports if not r.ok]
    for report in bad:
        for problem in report.problems:
            err.print(problem, markup=False, highlight=False, soft_wrap=True)
    files = sum(r.files_checked for r in reports)
    out.print(f"{len(reports) - len(bad)}/{len(reports)} manifest(s) verified, {files} file(s)")
    if bad:
        raise typer.Exit(1)
