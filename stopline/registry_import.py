"""`stopline registry import`: persons and vehicles from the keeper registry's CSV exports.

A file is all or nothing: every row is checked first and any bad row stops the import with its
line number and column, so a half-imported register never sends a notice to a stale phone
number. Importing the same file again updates rows in place (persons by id, vehicles by plate).
"""

from __future__ import annotations

import csv
import getpass
import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from sqlalchemy.orm import Session

from pipeline.events import E164_PATTERN
from pipeline.store import audit
from pipeline.store.registry import (
    get_person,
    person_with_national_id,
    put_person,
    put_vehicle,
)

MAX_ERRORS = 20
"""Errors listed before the rest are summarised; enough to fix a systematic mistake."""

_Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PersonRow(_Row):
    id: Annotated[_Text, StringConstraints(max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
    name: Annotated[_Text, StringConstraints(max_length=200)]
    national_id: Annotated[str, StringConstraints(max_length=32)] | None = None
    phone: Annotated[str, StringConstraints(pattern=E164_PATTERN)] | None = Field(
        None, description="E.164, e.g. +8613800138000"
    )
    language: (
        Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")] | None
    ) = None


class VehicleRow(_Row):
    plate: _Text
    keeper_person_id: str | None = None


KINDS: dict[str, type[_Row]] = {"persons": PersonRow, "vehicles": VehicleRow}


@dataclass(frozen=True)
class ImportResult:
    kind: str
    added: int
    updated: int


class RegistryFileError(ValueError):
    """The file was refused; `lines` say where and why, one problem per line."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def _kind(path: Path, header: list[str]) -> str:
    columns = set(header)
    for kind, row in KINDS.items():
        required = {n for n, f in row.model_fields.items() if f.is_required()}
        if required <= columns <= set(row.model_fields):
            return kind
    expected = "; ".join(f"{kind}: {', '.join(row.model_fields)}" for kind, row in KINDS.items())
    raise RegistryFileError(
        [f"{path}: header {', '.join(header)} matches no registry ({expected})"]
    )


_EXTRA = "\0extra"
"""Where DictReader puts the values of a row longer than the header."""


def _records(
    reader: csv.DictReader[str], errors: list[str], name: str
) -> Iterator[dict[str, str | None]]:
    """The reader's rows; a row the csv module cannot parse is an error and ends the file (it
    fails on the row after the last it read: a quote opened there never closes)."""
    try:
        yield from reader
    except csv.Error as exc:
        errors.append(f"{name} line {reader.line_num + 1}: {exc} (a quote that is not closed?)")


def _blank_to_none(record: dict[str, str | None]) -> dict[str, str | None]:
    return {k: (v if v is None or v.strip() else None) for k, v in record.items()}


def _unique_keys(row: _Row) -> list[tuple[str, str]]:
    if isinstance(row, PersonRow):
        return [("id", row.id)] + ([("national_id", row.national_id)] if row.national_id else [])
    assert isinstance(row, VehicleRow)
    return [("plate", row.plate)]


def import_registry_csv(
    session: Session, path: Path, plate_key: Callable[[str], str | None]
) -> ImportResult:
    """Check and store one CSV export; `plate_key` normalises a plate as the reader does, or
    returns None for text that is no plate of any configured format."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RegistryFileError([f"{path}: byte {exc.start} is not UTF-8"]) from None
    # strict: a quote left open is an error, not a field that swallows the rest of the file.
    reader = csv.DictReader(io.StringIO(text, newline=""), restkey=_EXTRA, strict=True)
    try:
        kind = _kind(path, list(reader.fieldnames or []))
    except csv.Error as exc:
        raise RegistryFileError([f"{path.name} line {reader.line_num}: {exc}"]) from None
    rows: list[_Row] = []
    errors: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    for record in _records(reader, errors, path.name):
        where = f"{path.name} line {reader.line_num}"
        if _EXTRA in record:
            extra = len(record.pop(_EXTRA) or [])
            errors.append(f"{where}: {extra} value(s) more than the header's columns")
            continue
        if any("\n" in v or "\r" in v for v in record.values() if v):
            errors.append(f"{where}: a quoted value runs over several lines (a quote not closed?)")
            continue
        try:
            row = KINDS[kind].model_validate(_blank_to_none(record))
        except ValidationError as exc:
            errors += [f"{where}: {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
            continue
        if isinstance(row, VehicleRow):
            plate = plate_key(row.plate)
            if plate is None:
                errors.append(f"{where}: plate: {row.plate!r} is not a plate")
                continue
            row = row.model_copy(update={"plate": plate})
            if row.keeper_person_id and get_person(session, row.keeper_person_id) is None:
                errors.append(f"{where}: keeper_person_id: no person {row.keeper_person_id!r}")
                continue
        for key in _unique_keys(row):
            if key in seen:
                errors.append(f"{where}: {key[0]}: {key[1]!r} also on line {seen[key]}")
            seen[key] = reader.line_num
        if isinstance(row, PersonRow) and row.national_id:
            holder = person_with_national_id(session, row.national_id)
            if holder is not None and holder.id != row.id:
                errors.append(f"{where}: national_id: already held by person {holder.id!r}")
        rows.append(row)
    if not rows and not errors:
        errors.append(f"{path}: no rows")
    if errors:
        more = len(errors) - MAX_ERRORS
        raise RegistryFileError(
            errors[:MAX_ERRORS] + ([f"... and {more} more"] if more > 0 else [])
        )
    added = 0
    for row in rows:
        if isinstance(row, PersonRow):
            added += put_person(
                session,
                row.id,
                row.name,
                national_id=row.national_id,
                phone=row.phone,
                language=row.language,
            )
        elif isinstance(row, VehicleRow):
            added += put_vehicle(session, row.plate, row.keeper_person_id)
    result = ImportResult(kind, added, len(rows) - added)
    audit.append(
        session,
        f"cli:{getpass.getuser()}",
        "registry_import",
        kind,
        path.name,
        {"sha256": hashlib.sha256(data).hexdigest(), "added": added, "updated": result.updated},
    )
    return result
