"""What a person decides about a case: approve, reject, correct, second review, reopen, appeals."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, or_, select
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
from pipeline.store import Status, audit, transition
from pipeline.store.models import ID_LEN, Citation, Violation, utcnow
from pipeline.store.registry import get_person, get_vehicle, vehicles_near
from review.auth import Viewer
from review.cases import leases


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


def _pending(session: Session, citation_id: str, reviewer: str) -> Citation:
    """The case, pending review and not held by another reviewer (`leases`)."""
    citation = session.get(Citation, citation_id)
    if citation is None:
        raise LookupError(citation_id)
    if citation.status != Status.PENDING_REVIEW:
        raise DecisionError(f"this case is {citation.status}, no longer pending review")
    hold = leases.held_by_another(session, citation_id, reviewer)
    if hold is not None:
        raise DecisionError(hold.taken())
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
    citation = _pending(session, citation_id, actor)
    transition(session, citation_id, Status.APPROVED, actor, reason)
    leases.release(session, citation_id)
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
    citation = _pending(session, citation_id, viewer.name)
    leases.release(session, citation_id)
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
    citation = _pending(session, citation_id, viewer.name)
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
    citation = _pending(session, citation_id, viewer.name)
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
    """Mark a correction (another person must approve the case, and it goes to a second
    review) and audit before and after."""
    citation.corrected, citation.corrected_by = True, viewer.name
    citation.updated_at = utcnow()
    leases.release(session, citation.id)  # another person decides it now
    detail = {"field": what, "before": before, "after": after}
    audit.append(session, viewer.name, "citation.corrected", "citation", citation.id, detail)
    return citation


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
    if viewer.name in (citation.decided_by, citation.corrected_by):
        raise DecisionError("a second review is by someone who neither decided nor corrected it")
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
