"""Which evidence files each kind of row references, and which of them a row that keeps its
data still needs: the bookkeeping under `pipeline.retention`.

Rows that hold evidence: a violation and its citation (the event's files, the crops
identification kept, the files the portal added) and a crossing a safeguard kept from being
cited (`suppressed_events`: its event's files). Files are content-addressed, so two rows can
share one; a file goes only when no row that keeps its data references it.

The references are read in pages of short transactions rather than one long stream: on SQLite
every store transaction holds the database write lock, and a scan of every violation would
stall every stage's writes until it ended.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, or_, select

from pipeline.evidence import EvidenceStore
from pipeline.store import Store
from pipeline.store.models import Citation, Violation
from pipeline.store.suppressed import SuppressedEvent

FACE_CROP_ROLE = "crop:face"
_PAGE_ROWS = 500


@dataclass(frozen=True)
class CaseFiles:
    """The evidence files (SHA-256) one case references, its face crops apart."""

    faces: frozenset[str]
    others: frozenset[str]

    def live(self, evidence_purged: bool, faces_purged: bool) -> frozenset[str]:
        """What the case still needs once the given purges are done."""
        if evidence_purged:
            return frozenset()
        return self.others if faces_purged else self.faces | self.others


def case_files(
    event: dict[str, Any],
    identification: dict[str, Any] | None,
    citizen_files: list[dict[str, Any]] | None = None,
) -> CaseFiles:
    refs = [(r["sha256"], r["role"]) for r in event.get("evidence", [])]
    refs += [(r["sha256"], r["role"]) for r in citizen_files or []]
    found = identification or {}
    refs += [(r["sha256"], r["role"]) for r in found.get("evidence", [])]
    for record, role in (("plate", "crop:plate"), ("face", FACE_CROP_ROLE)):
        digest = (found.get(record) or {}).get("crop_sha256")
        if digest:
            refs.append((digest, role))
    faces = frozenset(d for d, role in refs if role == FACE_CROP_ROLE)
    others = frozenset(d for d, role in refs if role != FACE_CROP_ROLE)
    return CaseFiles(faces, others)


def suppressed_files(event: dict[str, Any]) -> frozenset[str]:
    """The files of a suppressed crossing: its event's evidence (key frames, crops, clip)."""
    return frozenset(r["sha256"] for r in event.get("evidence", []))


@dataclass(frozen=True)
class Purging:
    """What this run purges: those rows no longer keep the files."""

    evidence: Collection[str] = ()
    """Citations whose evidence goes."""
    faces: Collection[str] = ()
    """Citations whose face crops go."""
    suppressed: Collection[str] = ()
    """Suppressed crossings whose evidence goes."""


def leftovers(store: Store, evidence: EvidenceStore) -> tuple[set[str], set[Path]]:
    """Files and manifests of rows already marked purged that are still on disk."""
    query = (
        select(
            Citation.id,
            Citation.identification,
            Citation.citizen_files,
            Citation.evidence_purged_at,
            Violation.id.label("violation_id"),
            Violation.event,
        )
        .join(Violation, Citation.violation_id == Violation.id)
        .where(
            or_(
                Citation.evidence_purged_at.is_not(None), Citation.face_crops_purged_at.is_not(None)
            )
        )
    )
    files: set[str] = set()
    ids: list[str] = []
    for row in paged(store, query, Citation.id):
        found = case_files(row.event, row.identification, row.citizen_files)
        if row.evidence_purged_at is not None:
            files |= found.faces | found.others
            ids.append(row.violation_id)
        else:
            files |= found.faces
    held = select(SuppressedEvent.id, SuppressedEvent.event).where(
        SuppressedEvent.evidence_purged_at.is_not(None)
    )
    for row in paged(store, held, SuppressedEvent.id):
        files |= suppressed_files(row.event)
        ids.append(row.id)
    manifests = {p for p in map(evidence.manifest_path, ids) if p.exists()}
    return {d for d in files if evidence.path_of(d).exists()}, manifests


def still_referenced(store: Store, candidates: set[str], purging: Purging) -> set[str]:
    """The candidates that a row keeping its data references, this run's purges done."""
    query = select(
        Violation.id,
        Violation.event,
        Citation.id.label("citation_id"),
        Citation.identification,
        Citation.citizen_files,
        Citation.evidence_purged_at,
        Citation.face_crops_purged_at,
    ).outerjoin(Citation, Citation.violation_id == Violation.id)
    shared: set[str] = set()
    for row in paged(store, query, Violation.id):
        live = case_files(row.event, row.identification, row.citizen_files).live(
            row.evidence_purged_at is not None or row.citation_id in purging.evidence,
            row.face_crops_purged_at is not None or row.citation_id in purging.faces,
        )
        shared |= live & candidates
    held = select(SuppressedEvent.id, SuppressedEvent.event).where(
        SuppressedEvent.evidence_purged_at.is_(None)
    )
    for row in paged(store, held, SuppressedEvent.id):
        if row.id not in purging.suppressed:
            shared |= suppressed_files(row.event) & candidates
    return shared


def paged(store: Store, query: Select[Any], key: ColumnElement[Any]) -> Iterator[Row[Any]]:
    """The rows of `query` in `key` order (`key` its first column), one transaction a page."""
    last = None
    while True:
        page = query.order_by(key).limit(_PAGE_ROWS)
        if last is not None:
            page = page.where(key > last)
        with store.session() as session:
            rows = session.execute(page).all()
        yield from rows
        if len(rows) < _PAGE_ROWS:
            return
        last = rows[-1][0]


def file_size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return None
