"""A person's approve or reject as the console and the API both take it: the confirmation rule
(`watching`) and the double-review sample (`blind`) before the decision itself (`decisions`).

The returned words say what happened: a blind decision is only recorded, which the reviewer
must be told."""

from __future__ import annotations

from sqlalchemy.orm import Session

from pipeline.config import ReviewConfig
from pipeline.evidence import EvidenceStore
from pipeline.store import Status
from pipeline.store.models import Citation, Violation
from review.auth import Viewer
from review.cases import blind, leases
from review.cases.decisions import DecisionError, RejectReason, approve, reject
from review.cases.watching import Watch, watch_for


def approve_case(
    session: Session,
    citation_id: str,
    who: Viewer,
    config: ReviewConfig,
    evidence: EvidenceStore,
    watched_s: float | None,
) -> str:
    reason = "approved in review"
    watch = required_watch(session, citation_id, config, evidence)
    if watch is not None:
        refused = watch.unmet(watched_s or 0.0)
        if refused:
            raise DecisionError(refused)
        reason += f"; clip played to {watched_s:.1f} s (violation at {watch.moment_s:.1f} s)"
    passed = _blind(session, citation_id, who, "approve", reason, config)
    if passed.apply:
        approve(session, citation_id, who.name, "; ".join(filter(None, [reason, passed.note])))
    return passed.note or "approved"


def reject_case(
    session: Session,
    citation_id: str,
    who: Viewer,
    reason: RejectReason,
    note: str,
    config: ReviewConfig,
) -> str:
    passed = _blind(session, citation_id, who, "reject", f"{reason.value} {note}".strip(), config)
    if passed.apply:
        reject(session, citation_id, who, reason, "; ".join(filter(None, [note, passed.note])))
    return passed.note or "rejected"


def required_watch(
    session: Session, citation_id: str, config: ReviewConfig, evidence: EvidenceStore
) -> Watch | None:
    """What the reviewer must have watched before approving; None where nothing need be."""
    if config.confirm_approval == "none":
        return None
    citation = session.get(Citation, citation_id)
    violation = citation and session.get(Violation, citation.violation_id)
    return None if violation is None else watch_for(violation, evidence)


def _blind(
    session: Session,
    citation_id: str,
    who: Viewer,
    decision: str,
    reason: str,
    config: ReviewConfig,
) -> blind.Gate:
    """The double-review gate, for a case still pending (a decided one is refused later)."""
    citation = session.get(Citation, citation_id)
    if citation is None or citation.status != Status.PENDING_REVIEW:
        return blind.Gate(True, "")
    if leases.held_by_another(session, citation_id, who.name):
        return blind.Gate(True, "")  # refused by the decision itself, with the holder's name
    return blind.gate(session, citation_id, who, decision, reason, config.double_review_share)
