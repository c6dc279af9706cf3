"""The reviewer's pages: the queue, one case and the decisions on it, the evidence they show."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import FileResponse, RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.media_types import SNIFFED, sniff
from pipeline.store import Status, audit
from pipeline.store.models import Camera, Citation, Role, Violation, utcnow
from review import cases
from review.auth import Viewer
from review.cases import REJECT_LABELS, QueueFilter, RejectReason, assignments, blind, leases
from review.cases.key_frames import key_frames
from review.cases.reviewed import approve_case, reject_case, required_watch
from review.cases.thumbnails import key_frame_of, thumbnail
from review.pages.common import (
    Cons,
    Decider,
    DeciderPost,
    PageNumber,
    _attempt,
    _case_url,
    _decided,
    _outcome,
    queue_filter,
)
from review.web import DECIDERS, HOME, READERS, require

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(who: Annotated[Viewer, Depends(require(*Role))]) -> Response:
    return RedirectResponse(HOME[who.role], status_code=303)


@router.get("/queue")
def queue_page(
    request: Request,
    cons: Cons,
    who: Decider,
    f: Annotated[QueueFilter, Depends(queue_filter)],
    page: PageNumber = 1,
) -> Response:
    size = cons.config.review.page_size
    with cons.session() as session:
        rows, total = cases.queue(session, f, page, size, who)
        counts = cases.queue_counts(session)
        cameras = session.scalars(select(Camera.id).order_by(Camera.id)).all()
        return cons.page(
            request,
            "queue.html",
            who,
            rows=rows,
            holds=leases.holds(session, [c.id for c, _ in rows]),
            total=total,
            counts=counts,
            cameras=cameras,
            mine=assignments.cameras_of(session, who.name),
            f=f,
            page=page,
            pages=max(1, -(-total // size)),
            waiting=partial(_waiting, utcnow()),
            due=partial(_due, utcnow(), cons.config.review.decide_within_days),
        )


def _waiting(now: datetime, since: datetime) -> str:
    """How long a case has waited for review, as a reviewer reads it: 45 min, 3 h, 2 d."""
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes // 60} h" if minutes < 48 * 60 else f"{minutes // 1440} d"


def _due(now: datetime, days: float, occurred: datetime) -> tuple[str, str]:
    """A case's deadline (`review.decide_within_days` after the offence) and how near it is:
    the text and a class, `due` within a day, `overdue` past it."""
    deadline = occurred + timedelta(days=days)
    left = (deadline - now).total_seconds()
    when = deadline.strftime("%m-%d %H:%M")
    if left < 0:
        return f"{when} (overdue {_waiting(now, deadline)})", "overdue"
    return f"{when} (in {_waiting(deadline, now)})", "due" if left < 86_400 else ""


@router.get("/cases/{citation_id}")
def case_page(
    request: Request,
    cons: Cons,
    citation_id: str,
    who: Annotated[Viewer, Depends(require(*READERS))],
    f: Annotated[QueueFilter, Depends(queue_filter)],
    done: str | None = None,
    error: str | None = None,
) -> Response:
    purpose = "review" if who.role in DECIDERS else "audit"
    with cons.session() as session:
        try:
            case = cases.load_case(session, citation_id, who, purpose)
        except LookupError:
            return cons.page(request, "error.html", who, 404, message="No such citation.")
        pending = case.citation.status == Status.PENDING_REVIEW
        corrector = case.citation.corrected_by == who.name
        hold = None
        taken = blind.barred(session, citation_id, who) if pending else None
        if pending and who.role in DECIDERS and not corrector and taken is None:
            minutes = cons.config.review.lease_minutes
            hold = leases.take(session, citation_id, who.name, minutes)
            taken = hold.taken() if hold.holder != who.name else None
        elif pending and corrector:
            taken = "you changed whom this case names: another person decides it"
        following = cases.next_in_queue(session, case.citation, f, who.name) if pending else None
        preload = cases.preload_refs(session, following) if following else []
        facts = cons.evidence.facts(case.violation.id)
        return cons.page(
            request,
            "case.html",
            who,
            case=case,
            frames=key_frames(
                cons.evidence,
                facts,
                case.violation.kind,
                case.evidence,
                cons.config.camera(case.citation.camera_id),
            ),
            clip_fps=facts.get("clip_fps"),
            next_id=following,
            preload=[f"/evidence/{sha}" for sha in preload],
            f=f,
            reasons=REJECT_LABELS,
            can_decide=hold is not None and hold.holder == who.name,
            watch=required_watch(session, citation_id, cons.config.review, cons.evidence)
            if pending
            else None,
            taken=taken,
            is_supervisor=who.role is Role.SUPERVISOR,
            done=done,
            error=error,
        )


@router.post("/cases/{citation_id}/approve")
def approve(
    cons: Cons,
    citation_id: str,
    who: DeciderPost,
    f: Annotated[QueueFilter, Depends(queue_filter)],
    watched_s: Annotated[float, Form(ge=0, le=3600)] = 0.0,
) -> Response:
    """Approve, under the confirmation rule: with `clip_watched`, only once the browser says
    the clip played through the violation; how far it played goes into the approval's reason."""

    def decide(session: Session) -> str:
        review = cons.config.review
        return approve_case(session, citation_id, who, review, cons.evidence, watched_s)

    outcome = _attempt(cons, decide)
    return _decided(cons, citation_id, f, outcome, _said(outcome, "approved"), who.name)


@router.post("/cases/{citation_id}/reject")
def reject(
    cons: Cons,
    citation_id: str,
    who: DeciderPost,
    reason: Annotated[RejectReason, Form()],
    f: Annotated[QueueFilter, Depends(queue_filter)],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    def decide(session: Session) -> str:
        return reject_case(session, citation_id, who, reason, note, cons.config.review)

    outcome = _attempt(cons, decide)
    return _decided(cons, citation_id, f, outcome, _said(outcome, "rejected"), who.name)


def _said(outcome: object, verb: str) -> str:
    """What the reviewer is told after a decision: a blind one's note, or the verb."""
    return outcome if isinstance(outcome, str) and outcome else verb


@router.post("/cases/{citation_id}/plate")
def correct_plate(
    cons: Cons,
    citation_id: str,
    who: DeciderPost,
    plate: Annotated[str, Form(min_length=1, max_length=32)],
) -> Response:
    outcome = _attempt(
        cons, lambda session: cases.correct_plate(session, citation_id, who, plate, cons.plate_key)
    )
    return _outcome(_case_url(citation_id), outcome, "plate corrected")


@router.post("/cases/{citation_id}/person")
def correct_person(
    cons: Cons,
    citation_id: str,
    who: DeciderPost,
    person_id: Annotated[str, Form(min_length=1, max_length=64)],
) -> Response:
    outcome = _attempt(
        cons, lambda session: cases.correct_person(session, citation_id, who, person_id)
    )
    return _outcome(_case_url(citation_id), outcome, "identity corrected")


@router.get("/cases/{citation_id}/thumb")
def case_thumbnail(cons: Cons, citation_id: str, who: Decider) -> Response:
    """The queue's picture of a pending case (audited as a view of its first key frame)."""
    with cons.session() as session:
        found = session.execute(
            select(Violation.event)
            .join(Citation, Citation.violation_id == Violation.id)
            .where(Citation.id == citation_id, Citation.status == Status.PENDING_REVIEW)
        ).first()
        sha256 = None if found is None else key_frame_of(found[0])
        image = None if sha256 is None else thumbnail(cons.evidence, sha256)
        if image is None:
            return Response("no picture", status_code=404, media_type="text/plain")
        detail = {"purpose": "queue thumbnail", "citation_id": citation_id}
        audit.append(session, who.name, "evidence.viewed", "evidence", sha256, detail)
    return Response(image, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.get("/evidence/{sha256}")
def evidence_file(
    cons: Cons, sha256: str, who: Annotated[Viewer, Depends(require(*READERS))]
) -> Response:
    """A stored file by its hash; the evidence store refuses anything but 64 hex digits before
    it makes a path, so no `..` or other path can reach the file system."""
    try:
        path = cons.evidence.path_of(sha256)
    except ValueError:
        return Response("not an evidence hash", status_code=400, media_type="text/plain")
    if not path.is_file():
        return Response("no such evidence", status_code=404, media_type="text/plain")
    with cons.session() as session:
        audit.append(session, who.name, "evidence.viewed", "evidence", sha256)
    with path.open("rb") as file:
        head = file.read(12)
    response = FileResponse(path, media_type=sniff(head) or "application/octet-stream")
    # Faces and plates of people not yet found guilty: never kept in a browser's or proxy's cache
    # (a shared police PC), so every view is fetched, checked and audited again.
    response.headers["Cache-Control"] = "no-store"
    return response


EVIDENCE_MEDIA_TYPES = (*SNIFFED, "application/octet-stream")
"""What the evidence route answers; the API's document lists them."""
