"""`stopline retention`: audited purges."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stopline.commands.common import ConfigOption, open_store, out, plain_errors, read_config

app = typer.Typer(help="Evidence retention: audited purges.", no_args_is_help=True)


@app.command("run")
def retention_run(
    config: ConfigOption,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would be purged; delete nothing")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object of counts")] = False,
) -> None:
    """Delete the evidence of rejected and closed citations and of suppressed crossings, and
    the face crops of people not cited, once older than the config's `retention` section
    allows; each purge is an audit row. `stopline run` does the same every
    `retention.run_every_h` hours."""
    import json

    from pipeline.evidence import EvidenceStore
    from pipeline.retention import run_retention

    cfg = read_config(config)
    evidence = EvidenceStore(Path.cwd() / cfg.storage.evidence_dir)
    with plain_errors(), open_store(cfg) as store:
        report = run_retention(store, evidence, cfg.retention, dry_run=dry_run)
    if json_out:
        print(json.dumps(report.as_dict()), flush=True)
    else:
        out.print(report.summary(), markup=False, highlight=False, soft_wrap=True)
