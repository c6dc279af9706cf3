"""Reviewer statistics for supervisors: how many cases each person decided (blind decisions of
the double-review sample included), how many they approved, and how long a case took them (from
their first opening of it to their decision); and how often the blind double review agreed.

Decisions per hour are per hour of that reviewing time (3600 s over the mean time per case),
not per hour on shift: breaks do not count against anyone.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.store import Status
from pipeline.store.models import AuditEntry, CitationTransition, Role, User
from pipeline.store.reviewing import BlindReview

DECIDED = (Status.APPROVED, Status.REJECTED)


@dataclass(frozen=True)
class ReviewerStats:
    reviewer: str
    decisions: int
    approved: int
    seconds: list[float]
    """From the reviewer's first opening of each case to their decision, where they opened it."""

    @property
    def approval_ratio(self) -> float:
        return self.approved / self.decisions if self.decisions else 0.0

    @property
    def median_s(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds else None

    @property
    def per_hour(self) -> float | None:
        mean = statistics.fmean(self.seconds) if self.seconds else 0.0
        return 3600 / mean if mean > 0 else None


def reviewer_stats(session: Session, since: datetime) -> list[ReviewerStats]:
    """Every reviewer's and supervisor's review decisions since `since`, by name."""
    people = select(User.name).where(User.role.in_([Role.REVIEWER, Role.SUPERVISOR]))
    decisions = session.execute(
        select(
            CitationTransition.actor,
            CitationTransition.citation_id,
            CitationTransition.to_state,
            CitationTransition.at,
        ).where(
            CitationTransition.from_state == Status.PENDING_REVIEW,
            CitationTransition.to_state.in_(DECIDED),
            CitationTransition.at >= since,
            CitationTransition.actor.in_(people),
        )
    ).all()
    blind = session.execute(
        select(
            BlindReview.reviewer,
            BlindReview.citation_id,
            BlindReview.decision,
            BlindReview.decided_at,
        ).where(BlindReview.decided_at >= since)
    ).all()
    # Only the decided cases' views: the audit log holds every view there ever was.
    decided = {citation for _, citation, _, _ in decisions} | {row[1] for row in blind}
    first_views = session.execute(
        select(AuditEntry.actor, AuditEntry.subject_id, func.min(AuditEntry.at))
        .where(
            AuditEntry.action == "citation.viewed",
            AuditEntry.subject_id.in_(decided),
            AuditEntry.actor.in_(people),
        )
        .group_by(AuditEntry.actor, AuditEntry.subject_id)
    )
    opened = {(actor, citation): at for actor, citation, at in first_views}
    # A blind decision is the reviewer's work though it changed nothing; one that agreed is
    # also the transition, counted once.
    made = {
        (actor, citation): (to_state == Status.APPROVED, at)
        for actor, citation, to_state, at in decisions
    }
    for reviewer, citation, decision, at in blind:
        made.setdefault((reviewer, citation), (decision == "approve", at))
    by_reviewer: dict[str, tuple[int, int, list[float]]] = {}
    for (actor, citation_id), (approving, at) in made.items():
        n, approved, seconds = by_reviewer.get(actor, (0, 0, []))
        first = opened.get((actor, citation_id))
        if first is not None and first <= at:
            seconds.append((at - first).total_seconds())
        by_reviewer[actor] = (n + 1, approved + approving, seconds)
    return [
        ReviewerStats(name, n, approved, seconds)
        for name, (n, approved, seconds) in sorted(by_reviewer.items())
    ]
