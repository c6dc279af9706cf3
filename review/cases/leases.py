"""Case leases: opening a pending case leases it to the reviewer for `review.lease_minutes`,
so two reviewers never decide one case. Another reviewer sees it as taken and cannot decide
it; the queue's "next" passes it by. A lease ends with the decision, or expires (a reviewer
who closed the tab holds nobody up for longer than that), and is then anybody's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import ColumnElement, and_, delete, exists, select
from sqlalchemy.orm import Session

from pipeline.store.models import Citation, utcnow
from pipeline.store.reviewing import CaseLease
from pipeline.store.rows import insert_once


@dataclass(frozen=True)
class Hold:
    holder: str
    until: datetime

    def taken(self) -> str:
        """What another reviewer is told."""
        return (
            f"{self.holder} is reviewing this case until {self.until:%H:%M:%S} UTC; "
            "one reviewer at a time decides a case"
        )


def take(
    session: Session, citation_id: str, reviewer: str, minutes: float, now: datetime | None = None
) -> Hold:
    """Lease the case to `reviewer` (renewed if theirs), unless another reviewer's lease is
    live: the lease in force is returned either way."""
    now = now or utcnow()
    until = now + timedelta(minutes=minutes)
    find = partial(
        session.get, CaseLease, citation_id, with_for_update=True, populate_existing=True
    )
    new = {"citation_id": citation_id, "holder": reviewer, "taken_at": now, "expires_at": until}
    lease, _ = insert_once(session, find, partial(CaseLease, **new))
    if lease.holder != reviewer and lease.expires_at > now:
        return Hold(lease.holder, lease.expires_at)
    if lease.holder != reviewer:
        lease.holder, lease.taken_at = reviewer, now
    lease.expires_at = until
    return Hold(reviewer, until)


def held_by_another(
    session: Session, citation_id: str, reviewer: str, now: datetime | None = None
) -> Hold | None:
    """Another reviewer's live lease on the case, if there is one."""
    lease = session.get(CaseLease, citation_id)
    if lease is not None and lease.holder != reviewer and lease.expires_at > (now or utcnow()):
        return Hold(lease.holder, lease.expires_at)
    return None


def release(session: Session, citation_id: str) -> None:
    """The case is decided: nobody holds it any more."""
    session.execute(delete(CaseLease).where(CaseLease.citation_id == citation_id))


def taken_by_others(reviewer: str, now: datetime | None = None) -> ColumnElement[bool]:
    """A filter: the citation is held by someone else now."""
    return exists().where(
        and_(
            CaseLease.citation_id == Citation.id,
            CaseLease.holder != reviewer,
            CaseLease.expires_at > (now or utcnow()),
        )
    )


def holds(
    session: Session, citation_ids: Iterable[str], now: datetime | None = None
) -> dict[str, Hold]:
    """The live leases of these citations, for a list to mark them taken."""
    rows = session.scalars(
        select(CaseLease).where(
            CaseLease.citation_id.in_(list(citation_ids)), CaseLease.expires_at > (now or utcnow())
        )
    )
    return {row.citation_id: Hold(row.holder, row.expires_at) for row in rows}
