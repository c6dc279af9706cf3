"""Supervisors' pages: second reviews, reopening, appeals, notices that need a person, and the
crossings the safeguards kept from being cited."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from sqlalchemy import select

from pipeline.store import Status
from pipeline.store.citizen import Appeal
from pipeline.store.models import Camera, Citation, SmsOutbox, utcnow
from review import cases, suppressed
from review.auth import Viewer
from review.cases.blind import agreement
from review.cases.stats import reviewer_stats
from review.pages.common import (
    AUDIT_READERS,
    NEEDS_A_PERSON,
    SUPERVISOR,
    Cons,
    PageNumber,
    Refused,
    SupervisorPost,
    _attempt,
    _back,
    _case_url,
    _outcome,
)
from review.web import require

router = APIRouter(include_in_schema=False)


@router.get("/second-review")
def second_review_page(
    request: Request,
    cons: Cons,
    who: Annotated[Viewer, Depends(require(*SUPERVISOR))],
    done: str | None = None,
    error: str | None = None,
) -> Response:
    with cons.session() as session:
        rows = session.execute(cases.second_review_query().limit(200)).all()
        return cons.page(request, "second_review.html", who, rows=rows, done=done, error=error)


@router.get("/reviewers")
def reviewers_page(
    request: Request,
    cons: Cons,
    who: Annotated[Viewer, Depends(require(*SUPERVISOR))],
    days: Annotated[int, Query(ge=1, le=366)] = 7,
) -> Response:
    """Each reviewer's decisions, approval ratio and time per case, and the double review's
    agreement: for supervisors to see the review itself."""
    with cons.session() as session:
        stats = reviewer_stats(session, utcnow() - timedelta(days=days))
        agreed, pairs = agreement(session)
    values = {"stats": stats, "agreed": agreed, "pairs": pairs, "days": days}
    return cons.page(request, "reviewers.html", who, **values)


@router.post("/cases/{citation_id}/second-review")
def confirm_second_review(
    cons: Cons,
    citation_id: str,
    who: SupervisorPost,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    outcome = _attempt(
        cons, lambda session: cases.confirm_second_review(session, citation_id, who, note)
    )
    return _outcome("/second-review", outcome, f"confirmed {citation_id[:8]}")


@router.post("/cases/{citation_id}/reopen")
def reopen(
    cons: Cons,
    citation_id: str,
    who: SupervisorPost,
    reason: Annotated[str, Form(min_length=1, max_length=2000)],
) -> Response:
    outcome = _attempt(cons, lambda session: cases.reopen(session, citation_id, who, reason))
    return _outcome("/second-review", outcome, f"reopened {citation_id[:8]}")


@router.get("/appeals")
def appeals_page(
    request: Request,
    cons: Cons,
    who: Annotated[Viewer, Depends(require(*SUPERVISOR))],
    done: str | None = None,
    error: str | None = None,
) -> Response:
    with cons.session() as session:
        rows = session.scalars(
            select(Citation)
            .where(Citation.status == Status.APPEALED)
            .order_by(Citation.updated_at)
            .limit(200)
        ).all()
        filed = session.scalars(
            select(Appeal).where(Appeal.citation_id.in_([c.id for c in rows])).order_by(Appeal.id)
        )
        appeals = {appeal.citation_id: appeal for appeal in filed}
        return cons.page(
            request, "appeals.html", who, rows=rows, appeals=appeals, done=done, error=error
        )


@router.post("/cases/{citation_id}/appeal")
def record_appeal(
    cons: Cons,
    citation_id: str,
    who: SupervisorPost,
    reason: Annotated[str, Form(min_length=1, max_length=2000)],
) -> Response:
    outcome = _attempt(cons, lambda session: cases.record_appeal(session, citation_id, who, reason))
    if isinstance(outcome, Refused):
        return _back(_case_url(citation_id), error=outcome)
    return _back("/appeals", message=f"appeal recorded for {citation_id[:8]}")


@router.post("/cases/{citation_id}/appeal-decision")
def decide_appeal(
    cons: Cons,
    citation_id: str,
    who: SupervisorPost,
    decision: Annotated[str, Form(pattern="^(uphold|dismiss)$")],
    reason: Annotated[str, Form(min_length=1, max_length=2000)],
) -> Response:
    uphold = decision == "uphold"
    outcome = _attempt(
        cons, lambda session: cases.decide_appeal(session, citation_id, who, uphold, reason)
    )
    return _outcome("/appeals", outcome, f"appeal {decision}d: {citation_id[:8]}")


@router.get("/notices")
def notices_page(
    request: Request, cons: Cons, who: Annotated[Viewer, Depends(require(*SUPERVISOR))]
) -> Response:
    """SMS notices that need a person: never sendable, given up, or reported undelivered."""
    with cons.session() as session:
        rows = session.scalars(
            select(SmsOutbox)
            .where(SmsOutbox.status.in_(NEEDS_A_PERSON))
            .order_by(SmsOutbox.created_at)
            .limit(500)
        ).all()
        return cons.page(request, "notices.html", who, rows=rows)


@router.get("/not-cited")
def not_cited_page(
    request: Request,
    cons: Cons,
    who: Annotated[Viewer, Depends(require(*AUDIT_READERS))],
    camera: Annotated[str | None, Query(max_length=64)] = None,
    safeguard: Annotated[str | None, Query(max_length=32)] = None,
    page: PageNumber = 1,
) -> Response:
    """Why not cited: the crossings each safeguard held back, newest first, for supervisors and
    auditors to check the safeguards themselves."""
    f = suppressed.NotCitedFilter(camera or None, safeguard or None)
    size = cons.config.review.page_size
    with cons.session() as session:
        rows, total = suppressed.listing(session, f, page, size)
        values = {
            "rows": rows,
            "total": total,
            "counts": suppressed.counts(session, f),
            "cameras": session.scalars(select(Camera.id).order_by(Camera.id)).all(),
            "f": f,
            "page": page,
            "pages": max(1, -(-total // size)),
            "labels": suppressed.SAFEGUARD_LABELS,
            "thumbnail": suppressed.thumbnail,
        }
        return cons.page(request, "not_cited.html", who, **values)


@router.get("/not-cited/{event_id}")
def not_cited_one(
    request: Request,
    cons: Cons,
    event_id: str,
    who: Annotated[Viewer, Depends(require(*AUDIT_READERS))],
) -> Response:
    """One suppressed crossing with its key frames and clip; opening it is audited."""
    with cons.session() as session:
        try:
            row = suppressed.open_suppressed(session, event_id, who)
        except LookupError:
            return cons.page(request, "error.html", who, 404, message="No such event.")
        labels = suppressed.SAFEGUARD_LABELS
        return cons.page(request, "not_cited_event.html", who, row=row, labels=labels)
