"""`stopline audit`: signed checkpoints of the audit chain's head, and their verification."""

from __future__ import annotations

import typer

from stopline.commands.common import (
    ConfigOption,
    err,
    fail,
    open_store,
    out,
    plain_errors,
    read_config,
)
from stopline.commands.evidence import deployment_keys

app = typer.Typer(help="The audit log's hash chain.", no_args_is_help=True)


@app.command("checkpoint")
def audit_checkpoint(config: ConfigOption) -> None:
    """Sign the chain's head (rows and last hash) with the deployment key into
    `storage.audit_checkpoint_dir`; run it from cron where stages run as workers."""
    from pipeline.audit_checkpoints import write_checkpoint
    from pipeline.evidence import load_or_create_key

    cfg = read_config(config)
    with plain_errors(), open_store(cfg) as store, store.session() as session:
        try:
            path = write_checkpoint(
                session,
                load_or_create_key(cfg.storage.signing_key_path),
                cfg.storage.audit_checkpoint_dir,
            )
        except ValueError as exc:
            fail(f"stopline: {exc}", 1)
    out.print(f"checkpoint written: {path}", markup=False, highlight=False, soft_wrap=True)


@app.command("verify")
def audit_verify(config: ConfigOption) -> None:
    """Check every row's hash and link, and that the chain still holds each checkpoint signed
    by a trusted key (a tail cut or rewritten after a checkpoint fails); exit 1 on a problem."""
    from pipeline.audit_checkpoints import verify_checkpoints

    cfg = read_config(config)
    trusted = deployment_keys(cfg)
    with plain_errors(), open_store(cfg) as store, store.session() as session:
        report = verify_checkpoints(session, cfg.storage.audit_checkpoint_dir, trusted)
    for problem in report.problems:
        err.print(problem, markup=False, highlight=False, soft_wrap=True)
    verdict = "intact" if report.ok else "NOT intact"
    out.print(f"audit chain {verdict}: {report.rows} row(s), {report.checkpoints} checkpoint(s)")
    if not report.ok:
        raise typer.Exit(1)
