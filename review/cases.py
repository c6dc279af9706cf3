"""Citations as the console and the API see them, and everything a person decides about one.

The HTML pages, the JSON API and the auto-review policy call the same functions, so a filter,
a case's contents or a decision mean the same thing everywhere. Every status change goes
through the store's state machine (`pipeline.store.transition`), which checks the actor's
role; every view of personal data, correction and lookup writes an audit row, and every
decision its announcement (`pipeline.outbox`), in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from pipeline.events import (
    CITATIONS_APPROVED,
    CITATIONS_DISMISSED,
    CITATIONS_REJECTED,
    CitationApproved,
    CitationDismissed,
    CitationRejected,
    derived_id,
)
from pipeline.outbox import enqueue
from pipeline.store import Status, audit, history, transition
from pipeline.store.models import (
    ID_LEN,
    Citation,
    CitationTransition,
    Person,
    Vehicle,
    Violation,
    utcnow,
)
from pipeline.store.registry import get_person, get_vehicle, vehicles_near
from review.auth import Viewer


class RejectReason(StrEnum):
    NOT_A_VIOLATION = "not_a_violation"
    TOO_CLOSE_TO_CITE = "too_close_to_cite"
    EMERGENCY_VEHICLE = "emergency_vehicle"
    PLATE_UNREADABLE = "plate_unreadable"
    IDENTITY_UNCERTAIN = "identity_uncertain"
    EVIDENCE_INCOMPLETE = "evidence_incomplete"
    DUPLICATE = "duplicate"


REJECT_LABELS = {
    RejectReason.NOT_A_VIOLATION: "Not a violation",
    RejectReason.TOO_CLOSE_TO_CITE: "Too close to cite",
    RejectReason.EMERGENCY_VEHICLE: "Emergency vehicle",
    RejectReason.PLATE_UNREADABLE: "Plate unreadable",
    RejectReason.IDENTITY_UNCERTAIN: "Identity uncertain",
    RejectReason.EVIDENCE_INCOMPLETE: "Evidence incomplete",
    RejectReason.DUPLICATE: "Duplicate",
}


class DecisionError(ValueError):
    """A decision or correction the case's state does not allow, said plainly."""


# ---------------------------------------------------------------- the queue


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

    def query_string(self) -> str:
        values = {
            "camera": self.camera,
            "kind": self.kind,
            "date_from": self.date_from,
            "date_to": self.date_to,
            "min_confidence": self.min_confidence,
            "max_confidence": self.max_confidence,
        }
        return "&".join(f"{k}={v}" for k, v in values.items() if v not in (None, ""))


def _confidence() -> Any:
    return func.coalesce(Citation.plate_confidence, Citation.face_score)


def _filtered(f: QueueFilter) -> Select[Any]:
    query = (
        select(Citation, Violation)
        .join(Violation, Violation.id == Citation.violation_id)
        .where(Citation.status == f.status)
    )
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
    return query


def queue(
    session: Session, f: QueueFilter, page: int, size: int, viewer: Viewer
) -> tuple[list[tuple[Citation, Violation]], int]:
    """One page of the filtered citations, oldest first, and how many match in all.

    A list shows plates, so it is a view of personal data too: one audit row names the page.
    """
    query = _filtered(f)
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


def next_in_queue(session: Session, after: Citation, f: QueueFilter) -> str | None:
    """The pending case after `after` in queue order (the one a reviewer goes on to)."""
    query = _filtered(f).where(
        or_(
            Citation.created_at > after.created_at,
            (Citation.created_at == after.created_at) & (Citation.id > after.id),
        ),
        Citation.id != after.id,
    )
    row = session.execute(query.order_by(Citation.created_at, Citation.id).limit(1)).first()
    return None if row is None else row[0].id


# ---------------------------------------------------------------- one case


@dataclass
class CaseView:
    citation: Citation
    violation: Violation
    person: Person | None
    vehicle: Vehicle | None
    history: list[CitationTransition]
    evidence: dict[str, list[dict[str, str]]]
    """Evidence refs by role: key frames, crops, the clip, identification crops."""
    identification: dict[str, Any] = field(default_factory=dict)
    signal_timeline: list[dict[str, Any]] = field(default_factory=list)


def load_case(session: Session, citation_id: str, viewer: Viewer, purpose: str) -> CaseView:
    """A case with its personal data; the view itself is an audit row (who, what, why)."""
    citation = session.get(Citation, citation_id)
    if citation is None:
        raise LookupError(citation_id)
    violation = session.get(Violation, citation.violation_id)
    assert violation is not None  # a foreign key
    evidence: dict[str, list[dict[str, str]]] = {}
    identification = citation.identification or {}
    refs = [*violation.event.get("evidence", []), *identification.get("evidence", [])]
    for ref in refs:
        evidence.setdefault(ref["role"], []).append(ref)
    person = get_person(session, citation.person_id) if citation.person_id else None
    vehicle = get_vehicle(session, citation.plate_text) if citation.plate_text else None
    audit.append(
        session,
        viewer.name,
        "citation.viewed",
        "citation",
        citation.id,
        {"purpose": purpose, "person_id": citation.person_id, "plate": citation.plate_text},
    )
    return CaseView(
        citation=citation,
        violation=violation,
        person=person,
        vehicle=vehicle,
        history=history(session, citation.id),
        evidence=evidence,
        identification=identification,
        signal_timeline=_signal_timeline(violation),
    )


PRELOADED_ROLES = ("key_frame:", "crop:offender")


def preload_refs(session: Session, citation_id: str) -> list[str]:
    """Hashes of a case's key frames and offender crop, for the page before it to prefetch.

    Reads only the violation's evidence list: no personal data, so no audit row; the files
    themselves are audited when the browser fetches them.
    """
    row = session.execute(
        select(Violation.event)
        .join(Citation, Citation.violation_id == Violation.id)
        .where(Citation.id == citation_id)
    ).first()
    if row is None:
        return []
    return [
        ref["sha256"]
        for ref in row[0].get("evidence", [])
        if ref["role"].startswith(PRELOADED_ROLES)
    ]


def _signal_timeline(violation: Violation) -> list[dict[str, Any]]:
    """What the signal did around the violation, from the event's snapshot."""
    signal = violation.event.get("signal") or {}
    if not signal:
        return []
    at = violation.occurred_at
    rows: list[dict[str, Any]] = []
    into = signal.get("time_into_red_s")
    amber = signal.get("amber_duration_s")
    if into is not None:
        red_from = at - timedelta(seconds=into)
        if amber is not None:
            rows.append({"phase": "amber", "at": red_from - timedelta(seconds=amber)})
        rows.append({"phase": "red", "at": red_from, "bound": amber is None})
    rows.append({"phase": f"violation ({signal.get('phase')})", "at": at})
    return rows


# ---------------------------------------------------------------- decisions


def _pending(session: Session, citation_id: str) -> Citation:
    citation = session.get(Citation, citation_id)
    if citation is None:
        raise LookupError(citation_id)
    if citation.status != Status.PENDING_REVIEW:
        raise DecisionError(f"this case is {citation.status}, no longer pending review")
    return citation


def approve(
    session: Session,
    citation_id: str,
    actor: str,
    reason: str = "approved in review",
    auto: bool = False,
) -> None:
    """Approve, and store the announcement with the approval (`pipeline.outbox`): the only way
    a citation reaches the notifier and the billboards."""
    citation = _pending(session, citation_id)
    transition(session, citation_id, Status.APPROVED, actor, reason)
    event = CitationApproved(
        event_id=derived_id("approved", citation_id),
        citation_id=citation_id,
        camera_id=citation.camera_id,
        reviewer=actor,
        auto=auto,
    )
    enqueue(session, CITATIONS_APPROVED, citation.camera_id, event)


def reject(
    session: Session, citation_id: str, viewer: Viewer, reason: RejectReason, note: str = ""
) -> None:
    citation = _pending(session, citation_id)
    text = reason.value + (f": {note.strip()}" if note.strip() else "")
    transition(session, citation_id, Status.REJECTED, viewer.name, text)
    event = CitationRejected(
        event_id=derived_id("rejected", citation_id),
        citation_id=citation_id,
        camera_id=citation.camera_id,
        reviewer=viewer.name,
        reason=reason.value,
    )
    enqueue(session, CITATIONS_REJECTED, citation.camera_id, event)


def correct_plate(
    session: Session,
    citation_id: str,
    viewer: Viewer,
    typed: str,
    plate_key: Callable[[str], str | None],
) -> Citation:
    """Set the plate a reviewer read on the evidence, and look its keeper up again."""
    citation = _pending(session, citation_id)
    plate = plate_key(typed)
    if plate is None:
        raise DecisionError(f"{typed!r} is not a plate of this region's formats")
    vehicle = get_vehicle(session, plate)
    near = [] if vehicle else [v.plate for v in vehicles_near(session, plate)]
    before = {"plate": citation.plate_text, "person_id": citation.person_id}
    citation.plate_text = plate
    citation.plate_confidence = None  # a person's reading, not a model's
    citation.person_id = vehicle.keeper_person_id if vehicle else None
    result = "match" if vehicle else ("near_match" if near else "not_found")
    audit.append(
        session,
        viewer.name,
        "identity_lookup",
        "citation",
        citation.id,
        {"plate": plate, "result": result, "near_matches": near},
    )
    after = {"plate": plate, "person_id": citation.person_id}
    return _corrected(session, citation, viewer, "plate", before, after)


def correct_person(session: Session, citation_id: str, viewer: Viewer, person_id: str) -> Citation:
    """Name the person a reviewer recognised (a registry id), replacing the match."""
    citation = _pending(session, citation_id)
    person = get_person(session, person_id.strip()[:ID_LEN])
    if person is None:
        raise DecisionError(f"no registered person {person_id!r}")
    before = {"person_id": citation.person_id}
    citation.person_id = person.id
    return _corrected(session, citation, viewer, "person", before, {"person_id": person.id})


def _corrected(
    session: Session,
    citation: Citation,
    viewer: Viewer,
    what: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> Citation:
    """Mark a correction (it sends the case to a second review) and audit before and after."""
    citation.corrected = True
    citation.updated_at = utcnow()
    detail = {"field": what, "before": before, "after": after}
    audit.append(session, viewer.name, "citation.corrected", "citation", citation.id, detail)
    return citation


# ---------------------------------------------------------------- supervision


def second_review_query() -> Select[Any]:
    """Rejected or corrected cases no supervisor has looked at again yet."""
    return (
        select(Citation, Violation)
        .join(Violation, Violation.id == Citation.violation_id)
        .where(
            Citation.second_reviewed_at.is_(None),
            or_(
                Citation.status == Status.REJECTED,
                Citation.corrected & (Citation.status != Status.PENDING_REVIEW),
            ),
        )
        .order_by(Citation.updated_at, Citation.id)
    )


def confirm_second_review(session: Session, citation_id: str, viewer: Viewer, note: str) -> None:
    citation = session.get(Citation, citation_id)
    if citation is None:
        raise LookupError(citation_id)
    if citation.second_reviewed_at is not None:
        raise DecisionError("this case has had its second review")
    citation.second_reviewed_by, citation.second_reviewed_at = viewer.name, utcnow()
    audit.append(
        session,
        viewer.name,
        "citation.second_review",
        "citation",
        citation.id,
        {"outcome": "confirmed", "status": citation.status, "note": note.strip() or None},
    )


def reopen(session: Session, citation_id: str, viewer: Viewer, reason: str) -> None:
    """A supervisor sends a rejected case back to the queue."""
    transition(session, citation_id, Status.PENDING_REVIEW, viewer.name, reason)
    citation = session.get(Citation, citation_id)
    assert citation is not None
    citation.second_reviewed_by, citation.second_reviewed_at = None, None


def record_appeal(session: Session, citation_id: str, viewer: Viewer, reason: str) -> None:
    """The offender appealed (by post, at a counter): the case goes to a supervisor."""
    transition(session, citation_id, Status.APPEALED, viewer.name, reason)


def decide_appeal(
    session: Session, citation_id: str, viewer: Viewer, uphold: bool, reason: str
) -> None:
    """Uphold or dismiss; a dismissal announces the recall of the billboard post."""
    target = Status.UPHELD if uphold else Status.DISMISSED
    citation = transition(session, citation_id, target, viewer.name, reason)
    if not uphold:
        event = CitationDismissed(
            event_id=derived_id("dismissed", citation_id),
            citation_id=citation_id,
            camera_id=citation.camera_id,
            supervisor=viewer.name,
            reason=reason,
        )
        enqueue(session, CITATIONS_DISMISSED, citation.camera_id, event)
