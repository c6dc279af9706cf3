"""Blind double review: a configured share of cases (`review.double_review_share`) is decided
by two reviewers, the second without seeing the first's decision. The case changes only when
they agree; where they do not, it waits for a supervisor. Their agreement is a measure of the
review itself (`agreement`).

A case is in the sample by its id's hash, so every console process and every restart agrees
on which cases are, and nobody can choose them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session

from pipeline.store import audit
from pipeline.store.models import Citation, Role, utcnow
from pipeline.store.reviewing import BlindReview
from review.auth import Viewer
from review.cases import leases
from review.cases.decisions import DecisionError


def sampled(citation_id: str, share: float) -> bool:
    if share <= 0:
        return False
    value = int(hashlib.sha256(citation_id.encode()).hexdigest()[:8], 16)
    return value < share * 0x1_0000_0000


@dataclass(frozen=True)
class Gate:
    apply: bool
    """The decision takes effect now; else it is only recorded."""
    note: str
    """What the reviewer is told, and (when applied) what the approval's reason adds."""


def gate(
    session: Session, citation_id: str, viewer: Viewer, decision: str, reason: str, share: float
) -> Gate:
    """Record or let through a reviewer's decision (`approve`, `reject`) on a case."""
    earlier = list(
        session.scalars(
            select(BlindReview)
            .where(BlindReview.citation_id == citation_id)
            .order_by(BlindReview.id)
            .with_for_update()
        )
    )
    if not earlier and not sampled(citation_id, share):
        return Gate(True, "")
    refused = barred(session, citation_id, viewer)
    if refused:
        raise DecisionError(refused)
    if len(earlier) >= 2:  # the two disagreed; a supervisor decides
        return Gate(True, "supervisor's decision on a double review that disagreed")
    row = BlindReview(
        citation_id=citation_id,
        reviewer=viewer.name,
        decision=decision,
        reason=reason,
        decided_at=utcnow(),
    )
    session.add(row)
    leases.release(session, citation_id)
    if not earlier:
        outcome, result = "first", Gate(False, "recorded: a second reviewer decides it blind")
    elif earlier[0].decision == decision:
        outcome, result = "agreed", Gate(True, f"double review: agrees with {earlier[0].reviewer}")
    else:
        outcome = "disagreed"
        result = Gate(False, "recorded: the double review disagrees, a supervisor decides it")
    detail = {"decision": decision, "outcome": outcome}
    audit.append(session, viewer.name, "citation.blind_review", "citation", citation_id, detail)
    return result


def barred(session: Session, citation_id: str, viewer: Viewer) -> str | None:
    """Why the viewer may not decide the case because of its double review; None if they may."""
    rows = session.scalars(select(BlindReview).where(BlindReview.citation_id == citation_id))
    reviewers = [row.reviewer for row in rows]
    if viewer.name in reviewers:
        return "you decided this case in the double-review sample; another reviewer decides it"
    if len(reviewers) >= 2 and viewer.role is not Role.SUPERVISOR:
        return "the double review of this case disagreed: a supervisor decides it"
    return None


def decided_by(reviewer: str) -> ColumnElement[bool]:
    """A filter: `reviewer` has made their blind decision on the citation."""
    return exists().where(BlindReview.citation_id == Citation.id, BlindReview.reviewer == reviewer)


def agreement(session: Session) -> tuple[int, int]:
    """(pairs that agreed, pairs decided) over every double-reviewed case."""
    pairs = (
        select(
            BlindReview.citation_id,
            func.count().label("n"),
            func.count(func.distinct(BlindReview.decision)).label("kinds"),
        )
        .group_by(BlindReview.citation_id)
        .subquery()
    )
    decided = session.scalar(select(func.count()).where(pairs.c.n >= 2)) or 0
    agreed = session.scalar(select(func.count()).where(pairs.c.n >= 2, pairs.c.kinds == 1)) or 0
    return agreed, decided
