"""The citation state machine: the one way a citation's status changes.

`TRANSITIONS` is the whole rule set. Each change writes a history row and an audit row in
the caller's transaction. The citation row is locked (`SELECT ... FOR UPDATE` on PostgreSQL;
SQLite's store transactions hold the database write lock) from the check to the write, so of
two reviewers deciding the same case at once, the second sees the first's decision and fails.

Deciding a case needs a person: transitions with `roles` are allowed only to an actor that
is a user with one of those roles. The rest are made by pipeline stages (`system:...`). A case
whose plate or person a reviewer corrected is approved only by someone else (four eyes), so one
person can never both choose whom a fine names and send it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.notices import new_notice_number
from pipeline.store import audit
from pipeline.store.models import (
    Citation,
    CitationTransition,
    Role,
    Status,
    User,
    Violation,
    utcnow,
)
from pipeline.store.rows import insert_once

SYSTEM_ACTOR = "system:citations"


@dataclass(frozen=True)
class Rule:
    """Who may make a transition; `roles=None` means any actor, e.g. a pipeline stage."""

    roles: frozenset[Role] | None = None
    needs_reason: bool = False


_ANYONE = Rule()
_DECIDERS = frozenset({Role.REVIEWER, Role.SUPERVISOR})
_SUPERVISORS = frozenset({Role.SUPERVISOR})

TRANSITIONS: Mapping[tuple[Status, Status], Rule] = MappingProxyType(
    {
        (Status.DETECTED, Status.PENDING_REVIEW): _ANYONE,
        (Status.PENDING_REVIEW, Status.APPROVED): Rule(_DECIDERS),
        (Status.PENDING_REVIEW, Status.REJECTED): Rule(_DECIDERS, needs_reason=True),
        (Status.REJECTED, Status.PENDING_REVIEW): Rule(_SUPERVISORS, needs_reason=True),  # reopen
        # SMS and billboard happen independently, in either order.
        (Status.APPROVED, Status.NOTIFIED): _ANYONE,
        (Status.APPROVED, Status.DISPLAYED): _ANYONE,
        (Status.NOTIFIED, Status.DISPLAYED): _ANYONE,
        (Status.DISPLAYED, Status.NOTIFIED): _ANYONE,
        (Status.APPROVED, Status.PAID): _ANYONE,
        (Status.NOTIFIED, Status.PAID): _ANYONE,
        (Status.DELIVERY_FAILED, Status.PAID): _ANYONE,
        (Status.DISPLAYED, Status.PAID): _ANYONE,
        # An appeal may come before the SMS did (a notice by post) or after it failed.
        (Status.APPROVED, Status.APPEALED): _ANYONE,
        (Status.NOTIFIED, Status.APPEALED): _ANYONE,
        (Status.DISPLAYED, Status.APPEALED): _ANYONE,
        (Status.DELIVERY_FAILED, Status.APPEALED): _ANYONE,
        (Status.APPEALED, Status.UPHELD): Rule(_SUPERVISORS, needs_reason=True),
        (Status.APPEALED, Status.DISMISSED): Rule(_SUPERVISORS, needs_reason=True),
        (Status.UPHELD, Status.PAID): _ANYONE,
        # A carrier's failure report; a later notice that arrives clears it.
        (Status.APPROVED, Status.DELIVERY_FAILED): _ANYONE,
        (Status.DISPLAYED, Status.DELIVERY_FAILED): _ANYONE,
        (Status.DELIVERY_FAILED, Status.NOTIFIED): _ANYONE,
        (Status.DELIVERY_FAILED, Status.DISPLAYED): _ANYONE,
    }
)

# The review decision is kept on the citation for the console; reopening clears it.
_DECISIONS = frozenset({Status.APPROVED, Status.REJECTED})


class IllegalTransition(Exception):
    """A status change the state machine does not allow (pair, actor's role or missing reason)."""

    def __init__(self, citation_id: str, from_state: str, to_state: str, why: str) -> None:
        super().__init__(f"citation {citation_id}: {from_state} -> {to_state} refused: {why}")
        self.citation_id = citation_id
        self.from_state = from_state
        self.to_state = to_state


def _check(
    session: Session,
    citation_id: str,
    current: Status,
    target: Status,
    actor: str,
    reason: str | None,
) -> None:
    rule = TRANSITIONS.get((current, target))
    if rule is None:
        raise IllegalTransition(citation_id, current, target, "not in the transition table")
    if rule.needs_reason and not (reason and reason.strip()):
        raise IllegalTransition(citation_id, current, target, "a reason is required")
    if rule.roles is not None:
        role = session.scalar(select(User.role).where(User.name == actor))
        if role not in rule.roles:
            allowed = ", ".join(sorted(rule.roles))
            raise IllegalTransition(
                citation_id, current, target, f"needs role {allowed}; {actor!r} has {role}"
            )


def _record(
    session: Session,
    citation: Citation,
    from_state: Status | None,
    actor: str,
    reason: str | None,
) -> None:
    session.add(
        CitationTransition(
            citation_id=citation.id,
            from_state=from_state,
            to_state=citation.status,
            actor=actor,
            reason=reason,
            at=citation.updated_at,
        )
    )
    action = "citation.created" if from_state is None else "citation.transition"
    detail = {"from": from_state, "to": citation.status, "reason": reason}
    audit.append(session, actor, action, "citation", citation.id, detail)


def transition(
    session: Session,
    citation_id: str,
    to_state: Status | str,
    actor: str,
    reason: str | None = None,
) -> Citation:
    """Move a citation to `to_state`, or raise `IllegalTransition` and change nothing.

    Raises `LookupError` for an unknown citation and `ValueError` for an unknown state name.
    """
    target = Status(to_state)
    citation = session.scalar(
        select(Citation)
        .where(Citation.id == citation_id)
        .with_for_update()
        # A copy already in this session may be stale; the locked row is the truth.
        .execution_options(populate_existing=True)
    )
    if citation is None:
        raise LookupError(f"no citation {citation_id}")
    current = Status(citation.status)
    _check(session, citation_id, current, target, actor, reason)
    if target is Status.APPROVED and citation.corrected and citation.corrected_by == actor:
        why = f"{actor!r} changed whom this case names; another person must approve it"
        raise IllegalTransition(citation_id, current, target, why)
    citation.status = target
    citation.updated_at = utcnow()
    if target is Status.APPROVED and citation.notice_number is None:
        citation.notice_number = new_notice_number(
            lambda number: (
                session.scalar(select(Citation.id).where(Citation.notice_number == number))
                is not None
            )
        )
    if target in _DECISIONS:
        citation.decided_by, citation.decision_reason = actor, reason
    elif target is Status.PENDING_REVIEW:
        citation.decided_by = citation.decision_reason = None
    _record(session, citation, current, actor, reason)
    return citation


def create_citation(
    session: Session,
    violation_id: str,
    *,
    citation_id: str | None = None,
    plate_text: str | None = None,
    plate_confidence: float | None = None,
    person_id: str | None = None,
    face_score: float | None = None,
    identification: dict[str, Any] | None = None,
    actor: str = SYSTEM_ACTOR,
) -> Citation:
    """The citation of a recorded violation, put in `pending_review`; created at most once.

    Idempotent by `violation_id`: a redelivered event, or a concurrent consumer that lost the
    race, gets the existing citation back unchanged. Raises `LookupError` if the violation was
    never recorded (see `registry.record_violation`).
    """

    def make() -> Citation:
        violation = session.get(Violation, violation_id)
        if violation is None:
            raise LookupError(f"no violation {violation_id}")
        return Citation(
            id=citation_id or uuid.uuid4().hex,
            violation_id=violation_id,
            camera_id=violation.camera_id,
            status=Status.DETECTED,
            plate_text=plate_text,
            plate_confidence=plate_confidence,
            person_id=person_id,
            face_score=face_score,
            identification=identification,
        )

    citation, created = insert_once(session, lambda: _by_violation(session, violation_id), make)
    if not created:
        return citation
    _record(session, citation, None, actor, None)
    return transition(session, citation.id, Status.PENDING_REVIEW, actor)


def _by_violation(session: Session, violation_id: str) -> Citation | None:
    return session.scalar(select(Citation).where(Citation.violation_id == violation_id))


def approved_at(session: Session, citation_id: str) -> datetime | None:
    """When a reviewer approved the citation: the fine's and the appeal window's clocks start."""
    return session.scalar(
        select(CitationTransition.at)
        .where(
            CitationTransition.citation_id == citation_id,
            CitationTransition.to_state == Status.APPROVED,
        )
        .order_by(CitationTransition.id.desc())
        .limit(1)
    )


def history(session: Session, citation_id: str) -> list[CitationTransition]:
    """The citation's status changes, oldest first."""
    return list(
        session.scalars(
            select(CitationTransition)
            .where(CitationTransition.citation_id == citation_id)
            .order_by(CitationTransition.id)
        )
    )
