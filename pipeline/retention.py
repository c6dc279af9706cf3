"""Evidence retention: personal data is kept only as long as a case can still need it.

Evidence of a case that went nowhere, or whose fine is settled, is personal data without a
purpose once the time to reopen or contest it has passed, and a stranger's face is the most
sensitive part of it. So, counted from the citation's last status change (`updated_at`: that
is when the case stopped needing the data, and a rejected case can be reopened until then):

- **rejected** citations lose their evidence after `rejected_evidence_days`; **closed** ones
  (`paid`, `dismissed`: no transition leaves either) after `closed_evidence_days`. Evidence is
  every file the violation's event lists, the crops identification kept (its `evidence` list
  and the `crop_sha256` of its `plate` and `face` records, see `identify.stage`), the files
  the portal added (`citizen_files`: the blurred key frames and clip the person watched, and
  what they attached to an appeal), and the signed manifest, whose hash the audit row keeps;
- the **face crops** (`crop:face`) of people who were **not cited** go after
  `uncited_face_hours`, while the rest of the case stays for its days. Not cited: the case was
  rejected or dismissed, so it is against nobody; or review is over (status past
  `pending_review`) and no person was named (`person_id` NULL), so the face belongs to nobody
  the case is against. A face is kept while a reviewer may still need it to decide;
- **suppressed** crossings (a safeguard kept them from being cited; `suppressed_events`) lose
  their evidence on the rejected cases' schedule, `rejected_evidence_days` after they were
  recorded: like a rejected case, they are against nobody.

Files are content-addressed, so two cases can share one. A file goes only when nothing that
keeps its data references it: neither a citation that is not purged, a violation still waiting
for its citation, nor a suppressed crossing that keeps its evidence (`pipeline.retention_files`).
(A violation recorded during the run, whose file has the very bytes of one being purged, is
not seen; content that old does not recur in new footage.)

A database and a folder cannot change in one transaction, so each purge commits first (one
transaction per citation or suppressed crossing: re-check it, set `evidence_purged_at` or
`face_crops_purged_at`, append the audit row) and files are deleted afterwards. A crash in
between leaves a row marked purged whose files are still there; every run therefore also
deletes what is left of marked rows. The other order could leave files gone with no
audit row, which no later run could repair.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, or_, select
from sqlalchemy.orm import Session

from pipeline.config import RetentionConfig
from pipeline.evidence import EvidenceStore
from pipeline.retention_files import (
    FACE_CROP_ROLE,
    Purging,
    case_files,
    file_size,
    leftovers,
    paged,
    still_referenced,
    suppressed_files,
)
from pipeline.store import Store, audit
from pipeline.store.models import Citation, Status, Violation, utcnow
from pipeline.store.suppressed import SuppressedEvent

ACTOR = "system:retention"
CLOSED = (Status.PAID, Status.DISMISSED)


class Reason(StrEnum):
    REJECTED = "rejected"
    CLOSED = "closed"
    NOT_CITED = "not_cited"
    SUPPRESSED = "suppressed"
    """A suppressed crossing's evidence, not a citation's."""


@dataclass(frozen=True)
class _Purge:
    subject_id: str
    """The citation, or the suppressed crossing's event."""
    manifest_id: str
    """Whose manifest it is: the violation's, or the suppressed crossing's event."""
    reason: Reason
    files: frozenset[str]
    manifest_sha256: str | None
    """Set for an evidence purge, which takes the manifest too; None for face crops only."""

    @property
    def action(self) -> str:
        return "evidence.purged" if self.manifest_sha256 is not None else "face_crops.purged"

    @property
    def subject_type(self) -> str:
        return "suppressed_event" if self.reason is Reason.SUPPRESSED else "citation"


@dataclass
class RetentionReport:
    """What a run purged; in a dry run, what it would have purged."""

    dry_run: bool
    purged: Counter[str] = field(default_factory=Counter)
    """Citations purged, by reason (rejected, closed, not_cited); suppressed crossings whose
    evidence went (suppressed)."""
    files_deleted: int = 0
    """Evidence files and manifests removed, leftovers of earlier runs included."""
    bytes_freed: int = 0
    files_kept_shared: int = 0
    """Files of purged citations kept because a case that keeps its data references them."""
    citations_skipped: int = 0
    """Due when the run began, changed (e.g. reopened, or purged by another run) before their
    purge: left alone."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "purged": {reason.value: self.purged[reason] for reason in Reason},
            "files_deleted": self.files_deleted,
            "bytes_freed": self.bytes_freed,
            "files_kept_shared": self.files_kept_shared,
            "citations_skipped": self.citations_skipped,
        }

    def summary(self) -> str:
        cases = [r for r in Reason if r is not Reason.SUPPRESSED]
        reasons = ", ".join(f"{r.value.replace('_', ' ')} {self.purged[r]}" for r in cases)
        verb, files = ("would purge", "would be deleted") if self.dry_run else ("purged", "deleted")
        return (
            f"retention: {verb} {sum(self.purged[r] for r in cases)} citation(s) ({reasons}) "
            f"and {self.purged[Reason.SUPPRESSED]} suppressed crossing(s); "
            f"{self.files_deleted} file(s) {files}, {self.bytes_freed} bytes; "
            f"{self.files_kept_shared} kept (shared with a kept case); "
            f"{self.citations_skipped} skipped (changed during the run)"
        )


def evidence_due(config: RetentionConfig, now: datetime) -> ColumnElement[bool]:
    """Citations whose evidence the policy no longer keeps."""
    return and_(
        Citation.evidence_purged_at.is_(None),
        or_(
            and_(
                Citation.status == Status.REJECTED,
                Citation.updated_at < now - timedelta(days=config.rejected_evidence_days),
            ),
            and_(
                Citation.status.in_(CLOSED),
                Citation.updated_at < now - timedelta(days=config.closed_evidence_days),
            ),
        ),
    )


NOT_CITED = or_(
    Citation.status.in_((Status.REJECTED, Status.DISMISSED)),
    and_(
        Citation.person_id.is_(None),
        Citation.status.not_in((Status.DETECTED, Status.PENDING_REVIEW)),
    ),
)


def face_crops_due(config: RetentionConfig, now: datetime) -> ColumnElement[bool]:
    """Citations of people not cited whose face crops the policy no longer keeps.

    The text match on the identification record only narrows the rows read (most cases are
    vehicles, with no face); which files are face crops is decided on the parsed record.
    """
    return and_(
        Citation.evidence_purged_at.is_(None),
        Citation.face_crops_purged_at.is_(None),
        NOT_CITED,
        Citation.updated_at < now - timedelta(hours=config.uncited_face_hours),
        cast(Citation.identification, String).like(f'%"{FACE_CROP_ROLE}"%'),
    )


def suppressed_due(config: RetentionConfig, now: datetime) -> ColumnElement[bool]:
    """Suppressed crossings whose evidence the policy no longer keeps: on the rejected cases'
    schedule, counted from when the crossing was recorded."""
    return and_(
        SuppressedEvent.evidence_purged_at.is_(None),
        SuppressedEvent.manifest_sha256.is_not(None),
        SuppressedEvent.recorded_at < now - timedelta(days=config.rejected_evidence_days),
    )


def run_retention(
    store: Store,
    evidence: EvidenceStore,
    config: RetentionConfig,
    now: datetime | None = None,
    dry_run: bool = False,
) -> RetentionReport:
    """Purge what `config` no longer keeps as of `now` (default: the clock); `dry_run` only
    reports what would go."""
    now = now or utcnow()
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"naive datetime {now!r}: pass an aware datetime (UTC)")
    report = RetentionReport(dry_run=dry_run)
    due = _Due(evidence_due(config, now), face_crops_due(config, now), suppressed_due(config, now))
    purges = _planned(store, due)
    released, manifests = leftovers(store, evidence)
    candidates = released.union(*(p.files for p in purges))
    cases = [p for p in purges if p.subject_type == "citation"]
    purging = Purging(
        {p.subject_id for p in cases if p.action == "evidence.purged"},
        {p.subject_id for p in cases if p.action == "face_crops.purged"},
        {p.subject_id for p in purges if p.reason is Reason.SUPPRESSED},
    )
    shared = still_referenced(store, candidates, purging) if candidates else set()
    report.files_kept_shared = len(shared)
    committed: list[_Purge] = []
    protected: set[str] = set()
    for purge in purges:
        if not dry_run and not _commit(store, purge, due, config, shared):
            report.citations_skipped += 1
            protected |= purge.files
            continue
        committed.append(purge)
        report.purged[purge.reason] += 1
        released |= purge.files
        if purge.manifest_sha256 is not None:
            manifests.add(evidence.manifest_path(purge.manifest_id))
    # A case that changed before its purge (a supervisor reopened it) keeps every file, also
    # one an earlier purge of this run listed as deleted because the two shared it: that row
    # is corrected by another, and the file goes as a leftover once nothing live needs it.
    for purge in committed:
        if kept := (purge.files - shared) & protected:
            with store.session() as session:
                detail = {"kept_sha256": sorted(kept), "why": "a case sharing them changed"}
                subject = (purge.subject_type, purge.subject_id)
                audit.append(session, ACTOR, "evidence.kept", *subject, detail)
    doomed = sorted(released - shared - protected)
    for path in [*(evidence.path_of(d) for d in doomed), *sorted(manifests)]:
        size = file_size(path)
        if size is None:
            continue
        if not dry_run:
            path.unlink(missing_ok=True)
        report.files_deleted += 1
        report.bytes_freed += size
    return report


@dataclass(frozen=True)
class _Due:
    evidence: ColumnElement[bool]
    faces: ColumnElement[bool]
    suppressed: ColumnElement[bool]


def _planned(store: Store, due: _Due) -> list[_Purge]:
    columns = (
        Citation.id,
        Citation.status,
        Citation.identification,
        Citation.citizen_files,
        Citation.face_crops_purged_at,
        Violation.id.label("violation_id"),
        Violation.event,
        Violation.manifest_sha256,
    )
    joined = select(*columns).join(Violation, Citation.violation_id == Violation.id)
    purges: list[_Purge] = []
    for row in paged(store, joined.where(due.evidence), Citation.id):
        # Face crops purged before are gone and were audited then.
        files = case_files(row.event, row.identification, row.citizen_files).live(
            False, bool(row.face_crops_purged_at)
        )
        reason = Reason.REJECTED if row.status == Status.REJECTED else Reason.CLOSED
        purges.append(_Purge(row.id, row.violation_id, reason, files, row.manifest_sha256))
    evidence_ids = {p.subject_id for p in purges}
    for row in paged(store, joined.where(due.faces), Citation.id):
        faces = case_files(row.event, row.identification, row.citizen_files).faces
        if row.id not in evidence_ids and faces:
            purges.append(_Purge(row.id, row.violation_id, Reason.NOT_CITED, faces, None))
    held = select(SuppressedEvent.id, SuppressedEvent.event, SuppressedEvent.manifest_sha256)
    for row in paged(store, held.where(due.suppressed), SuppressedEvent.id):
        files = suppressed_files(row.event)
        purges.append(_Purge(row.id, row.id, Reason.SUPPRESSED, files, row.manifest_sha256))
    return purges


def _commit(
    store: Store,
    purge: _Purge,
    due: _Due,
    config: RetentionConfig,
    shared: set[str],
) -> bool:
    """Mark the citation or suppressed crossing purged and audit it, if it is still due; False
    if it changed."""
    mark = _mark_suppressed if purge.reason is Reason.SUPPRESSED else _mark_citation
    with store.session() as session:
        marked = mark(session, purge, due, config)
        if marked is None:
            return False
        detail: dict[str, Any] = {
            "reason": purge.reason.value,
            **marked,
            "deleted_sha256": sorted(purge.files - shared),
            "kept_shared_sha256": sorted(purge.files & shared),
        }
        if purge.manifest_sha256 is not None:
            detail["manifest_sha256"] = purge.manifest_sha256
        audit.append(session, ACTOR, purge.action, purge.subject_type, purge.subject_id, detail)
    return True


def _mark_citation(
    session: Session, purge: _Purge, due: _Due, config: RetentionConfig
) -> dict[str, Any] | None:
    """Set the citation's purge times, if it is still due; what its audit row says of it."""
    evidence_purge = purge.manifest_sha256 is not None
    citation = session.scalar(
        select(Citation)
        .where(Citation.id == purge.subject_id, due.evidence if evidence_purge else due.faces)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if citation is None:
        return None
    now = utcnow()
    if evidence_purge:
        citation.evidence_purged_at = now
        citation.face_crops_purged_at = citation.face_crops_purged_at or now
        policy = (
            {"rejected_evidence_days": config.rejected_evidence_days}
            if purge.reason is Reason.REJECTED
            else {"closed_evidence_days": config.closed_evidence_days}
        )
    else:
        citation.face_crops_purged_at = now
        policy = {"uncited_face_hours": config.uncited_face_hours}
    return {"policy": policy, "status": citation.status}


def _mark_suppressed(
    session: Session, purge: _Purge, due: _Due, config: RetentionConfig
) -> dict[str, Any] | None:
    """Set the suppressed crossing's purge time, if it is still due (another run may have)."""
    row = session.scalar(
        select(SuppressedEvent)
        .where(SuppressedEvent.id == purge.subject_id, due.suppressed)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None:
        return None
    row.evidence_purged_at = utcnow()
    policy = {"rejected_evidence_days": config.rejected_evidence_days}
    return {"policy": policy, "safeguard": row.safeguard}
