"""The review queue: which cases a filter selects, in what order, and how many of each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from pipeline.store import Status, audit
from pipeline.store.models import Citation, Violation
from review.auth import Viewer
from review.cases import assignments, blind, leases


@dataclass(frozen=True)
class QueueFilter:
    status: Status = Status.PENDING_REVIEW
    camera: str | None = None
    kind: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    """Inclusive, in UTC: the violations of that whole day."""
    min_confidence: float | None = None
    max_confidence: float | None = None
    """Identification confidence: the plate read's, else the face match's score."""
    search: str | None = None
    """A plate (or part of one, any case), a notice number, or the start of a citation id."""
    every_camera: bool = False
    """Past the reviewer's camera assignments (`assignments`): every camera's cases."""

    def query_string(self) -> str:
        values = {
            "camera": self.camera,
            "kind": self.kind,
            "date_from": self.date_from,
            "date_to": self.date_to,
            "min_confidence": self.min_confidence,
            "max_confidence": self.max_confidence,
            "search": self.search,
            "every_camera": 1 if self.every_camera else None,
        }
        return "&".join(f"{k}={v}" for k, v in values.items() if v not in (None, ""))


def _confidence() -> Any:
    return func.coalesce(Citation.plate_confidence, Citation.face_score)


def _filtered(f: QueueFilter, reviewer: str | None = None) -> Select[Any]:
    """`reviewer`: only their cameras' cases, unless the filter names a camera or every one."""
    query = (
        select(Citation, Violation)
        .join(Violation, Violation.id == Citation.violation_id)
        .where(Citation.status == f.status)
    )
    if reviewer and not f.camera and not f.every_camera:
        query = query.where(assignments.mine(reviewer))
    if f.camera:
        query = query.where(Citation.camera_id == f.camera)
    if f.kind:
        query = query.where(Violation.kind == f.kind)
    if f.date_from:
        query = query.where(Violation.occurred_at >= datetime.combine(f.date_from, time(), UTC))
    if f.date_to:
        end = datetime.combine(f.date_to, time(), UTC) + timedelta(days=1)
        query = query.where(Violation.occurred_at < end)
    if f.min_confidence is not None:
        query = query.where(_confidence() >= f.min_confidence)
    if f.max_confidence is not None:
        query = query.where(or_(_confidence() <= f.max_confidence, _confidence().is_(None)))
    if f.search:
        text = "".join(f.search.split())
        query = query.where(
            or_(
                func.upper(Citation.plate_text).contains(text.upper(), autoescape=True),
                Citation.notice_number == text,
                Citation.id.startswith(text.lower(), autoescape=True),
            )
        )
    return query


def queue(
    session: Session, f: QueueFilter, page: int, size: int, viewer: Viewer
) -> tuple[list[tuple[Citation, Violation]], int]:
    """One page of the filtered citations, oldest first, and how many match in all.

    A list shows plates, so it is a view of personal data too: one audit row names the page.
    """
    query = _filtered(f, viewer.name)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(Citation.created_at, Citation.id).offset((page - 1) * size).limit(size)
    ).all()
    detail = {
        "status": f.status.value,
        "filter": f.query_string(),
        "page": page,
        "shown": len(rows),
    }
    audit.append(session, viewer.name, "citations.listed", "citation", "list", detail)
    return [(c, v) for c, v in rows], total


def queue_counts(session: Session) -> dict[str, dict[str, int]]:
    """Pending citations per camera and per kind, for the queue's header."""
    base = (
        select(func.count())
        .select_from(Citation)
        .join(Violation, Violation.id == Citation.violation_id)
        .where(Citation.status == Status.PENDING_REVIEW)
    )
    by_camera = session.execute(
        base.add_columns(Citation.camera_id).group_by(Citation.camera_id)
    ).all()
    by_kind = session.execute(base.add_columns(Violation.kind).group_by(Violation.kind)).all()
    return {
        "camera": {camera: n for n, camera in by_camera},
        "kind": {kind: n for n, kind in by_kind},
    }


def next_in_queue(session: Session, after: Citation, f: QueueFilter, reviewer: str) -> str | None:
    """The pending case after `after` in queue order that no other reviewer holds (the one
    `reviewer` goes on to)."""
    query = _filtered(f, reviewer).where(
        or_(
            Citation.created_at > after.created_at,
            (Citation.created_at == after.created_at) & (Citation.id > after.id),
        ),
        Citation.id != after.id,
        ~leases.taken_by_others(reviewer),
        ~blind.decided_by(reviewer),
    )
    row = session.execute(query.order_by(Citation.created_at, Citation.id).limit(1)).first()
    return None if row is None else row[0].id
