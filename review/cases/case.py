"""One case as a reviewer sees it: the citation, its evidence and signal timeline, audited."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.offences import Offence, signal_timeline
from pipeline.store import audit, history
from pipeline.store.models import Citation, CitationTransition, Person, Vehicle, Violation
from pipeline.store.registry import get_person, get_vehicle
from review.auth import Viewer


@dataclass
class CaseView:
    citation: Citation
    violation: Violation
    person: Person | None
    vehicle: Vehicle | None
    history: list[CitationTransition]
    offence: Offence
    """What happened, worded as the SMS, billboard and portal word it."""
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
        offence=Offence.of(violation.event),
        evidence=evidence,
        identification=identification,
        signal_timeline=signal_timeline(violation.event, violation.occurred_at),
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
