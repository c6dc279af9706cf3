"""`stopline registry`: import the keeper registry."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stopline.commands.common import ConfigOption, fail, open_store, out, plain_errors, read_config

app = typer.Typer(help="Keeper registry: persons and vehicles.", no_args_is_help=True)


@app.command("import")
def registry_import(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="CSV exports: persons (id,name,national_id,phone,language) or vehicles "
            "(plate,keeper_person_id), told apart by their header; persons first"
        ),
    ],
    config: ConfigOption,
) -> None:
    """Import or update persons and vehicles; each file is checked whole before any row is
    stored, and each import is an audit row."""
    from identify.plates import registry_plate
    from stopline.registry_import import RegistryFileError, import_registry_csv

    cfg = read_config(config)
    for path in files:
        if not path.is_file():
            fail(f"{path}: no such file", 2)
    region = cfg.identification.plates.region
    with plain_errors(), open_store(cfg) as store:
        for path in files:
            try:
                with store.session() as session:
                    result = import_registry_csv(
                        session, path, lambda text: registry_plate(text, region)
                    )
            except RegistryFileError as exc:
                fail("\n".join(exc.lines), 1)
            out.print(
                f"{path}: {result.kind}: {result.added} added, {result.updated} updated",
                markup=False,
                highlight=False,
            )
