"""The console's HTML pages: queue, case, second review, appeals, audit log, users.

Server-rendered (Jinja2); `static/console.js` adds only keyboard shortcuts and the preloading
of the next case. Every form posts with the session's CSRF token and answers with a redirect,
so a reload never repeats a decision.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import FileResponse, RedirectResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.store import IllegalTransition, Status, audit, verify_chain
from pipeline.store.models import AuditEntry, Camera, Citation, Role, SmsOutbox, SmsStatus, User
from review import cases
from review.auth import Viewer
from review.cases import REJECT_LABELS, DecisionError, QueueFilter, RejectReason
from review.web import DECIDERS, HOME, READERS, Console, checked, console, require

router = APIRouter(include_in_schema=False)
T = TypeVar("T")
SUPERVISOR = (Role.SUPERVISOR,)
AUDIT_READERS = (Role.AUDITOR, Role.SUPERVISOR)
NEEDS_A_PERSON = (SmsStatus.UNSENDABLE, SmsStatus.DEAD, SmsStatus.FAILED)
Cons = Annotated[Console, Depends(console)]
Decider = Annotated[Viewer, Depends(require(*DECIDERS))]
DeciderPost = Annotated[Viewer, Depends(checked(*DECIDERS))]
SupervisorPost = Annotated[Viewer, Depends(checked(*SUPERVISOR))]


def _back(path: str, message: str | None = None, error: str | None = None) -> RedirectResponse:
    """Post/redirect/get, with a one-line outcome for the next page to show."""
    outcome = {"done": message} if message else {"error": error} if error else {}
    if outcome:
        path += ("&" if "?" in path else "?") + urlencode(outcome)
    return RedirectResponse(path, status_code=303)


@router.get("/")
def home(who: Annotated[Viewer, Depends(require(*Role))]) -> Response:
    return RedirectResponse(HOME[who.role], status_code=303)


# ---------------------------------------------------------------- queue


def queue_filter(
    camera: str | None = None,
    kind: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    min_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    max_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
) -> QueueFilter:
    return QueueFilter(
        camera=camera or None,
        kind=kind or None,
        date_from=date_from,
        date_to=date_to,
        min_confidence=min_confidence,
        max_confidence=max_confidence,
    )


@router.get("/queue")
def queue_page(
    request: Request,
    cons: Cons,
    who: Decider,
    f: Annotated[QueueFilter, Depends(queue_filter)],
    page: Annotated[int, Query(ge=1)] = 1,
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
            total=total,
            counts=counts,
            cameras=cameras,
            f=f,
            page=page,
            pages=max(1, -(-total // size)),
        )


# ---------------------------------------------------------------- a case


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
        following = (
            cases.next_in_queue(session, case.citation, f)
            if case.citation.status == Status.PENDING_REVIEW
            else None
        )
        preload = cases.preload_refs(session, following) if following else []
        return cons.page(
            request,
            "case.html",
            who,
            case=case,
            next_id=following,
            preload=[f"/evidence/{sha}" for sha in preload],
            f=f,
            reasons=REJECT_LABELS,
            can_decide=who.role in DECIDERS and case.citation.status == Status.PENDING_REVIEW,
            is_supervisor=who.role is Role.SUPERVISOR,
            done=done,
            error=error,
        )


class Refused(str):
    """Why a decision or correction did not happen, for the page the user goes back to."""


def _attempt(cons: Console, work: Callable[[Session], T]) -> T | Refused:
    """Run one decision in its own transaction; a refusal comes back as a message to show."""
    try:
        with cons.session() as session:
            return work(session)
    except LookupError:
        return Refused("no such citation")
    except (DecisionError, IllegalTransition) as exc:
        return Refused(str(exc))


def _outcome(path: str, outcome: object, message: str) -> RedirectResponse:
    if isinstance(outcome, Refused):
        return _back(path, error=outcome)
    return _back(path, message=message)


def _case_url(citation_id: str, query: str = "") -> str:
    return f"/cases/{citation_id}" + (f"?{query}" if query else "")


def _after_decision(cons: Console, citation_id: str, f: QueueFilter) -> str:
    """Where a reviewer goes after deciding: the next pending case, or the queue."""
    with cons.session() as session:
        citation = session.get(Citation, citation_id)
        following = cases.next_in_queue(session, citation, f) if citation else None
    query = f.query_string()
    if following is None:
        return "/queue" + (f"?{query}" if query else "")
    return _case_url(following, query)


def _decided(
    cons: Console, citation_id: str, f: QueueFilter, outcome: object, verb: str
) -> RedirectResponse:
    """After a decision, on to the next case; after a refusal, back to this one."""
    if isinstance(outcome, Refused):
        return _back(_case_url(citation_id), error=outcome)
    return _back(_after_decision(cons, citation_id, f), message=f"{verb} {citation_id[:8]}")


@router.post("/cases/{citation_id}/approve")
def approve(
    cons: Cons, citation_id: str, who: DeciderPost, f: Annotated[QueueFilter, Depends(queue_filter)]
) -> Response:
    outcome = _attempt(cons, lambda session: cases.approve(session, citation_id, who.name))
    return _decided(cons, citation_id, f, outcome, "approved")


@router.post("/cases/{citation_id}/reject")
def reject(
    cons: Cons,
    citation_id: str,
    who: DeciderPost,
    reason: Annotated[RejectReason, Form()],
    f: Annotated[QueueFilter, Depends(queue_filter)],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    outcome = _attempt(cons, lambda session: cases.reject(session, citation_id, who, reason, note))
    return _decided(cons, citation_id, f, outcome, "rejected")


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
    response = FileResponse(path, media_type=_media_type(head))
    # Content-addressed, so never stale; cached privately so the next case can be preloaded.
    response.headers["Cache-Control"] = "private, max-age=600, immutable"
    return response


def _media_type(head: bytes) -> str:
    if head.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if head[4:8] == b"ftyp":
        return "video/mp4"
    if head.startswith(b"\x89PNG"):
        return "image/png"
    return "application/octet-stream"


# ---------------------------------------------------------------- supervision


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
        return cons.page(request, "appeals.html", who, rows=rows, done=done, error=error)


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


# ---------------------------------------------------------------- audit and users


@router.get("/audit")
def audit_page(
    request: Request,
    cons: Cons,
    who: Annotated[Viewer, Depends(require(*AUDIT_READERS))],
    actor: str | None = None,
    action: str | None = None,
    subject: str | None = None,
    verify: bool = False,
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    size = cons.config.review.page_size
    with cons.session() as session:
        query = select(AuditEntry)
        if actor:
            query = query.where(AuditEntry.actor == actor)
        if action:
            query = query.where(AuditEntry.action == action)
        if subject:
            query = query.where(AuditEntry.subject_id == subject)
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(
            query.order_by(AuditEntry.id.desc()).offset((page - 1) * size).limit(size)
        ).all()
        report = verify_chain(session) if verify else None
        if verify:
            audit.append(
                session,
                who.name,
                "audit.verified",
                "audit",
                "chain",
                {"ok": report.ok, "rows": report.rows_checked},
            )
        return cons.page(
            request,
            "audit.html",
            who,
            rows=rows,
            total=total,
            page=page,
            pages=max(1, -(-total // size)),
            report=report,
            actor=actor or "",
            action=action or "",
            subject=subject or "",
        )


@router.get("/admin/users")
def users_page(
    request: Request,
    cons: Cons,
    who: Annotated[Viewer, Depends(require(Role.ADMIN))],
    done: str | None = None,
) -> Response:
    with cons.session() as session:
        users = session.scalars(select(User).order_by(User.name)).all()
        return cons.page(request, "users.html", who, users=users, done=done)


@router.post("/admin/users/{name}/unlock")
def unlock_user(
    cons: Cons, name: str, who: Annotated[Viewer, Depends(checked(Role.ADMIN))]
) -> Response:
    with cons.session() as session:
        user = session.scalar(select(User).where(User.name == name))
        if user is not None:
            user.locked_until, user.failed_logins = None, 0
            audit.append(session, who.name, "user.unlocked", "user", name[:64])
    return _back("/admin/users", message=f"unlocked {name}")
