"""Supervisors put reviewers on cameras (`review.cases.assignments`); every change audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from sqlalchemy import select

from pipeline.store.models import Role, User
from review.auth import Viewer
from review.cases import assignments
from review.pages.common import SUPERVISOR, Cons, SupervisorPost, _attempt, _outcome
from review.web import require

router = APIRouter(include_in_schema=False)
CameraId = Annotated[str, Form(min_length=1, max_length=64)]
Reviewer = Annotated[str, Form(min_length=1, max_length=200)]


@router.get("/assignments")
def assignments_page(
    request: Request,
    cons: Cons,
    who: Annotated[Viewer, Depends(require(*SUPERVISOR))],
    done: str | None = None,
    error: str | None = None,
) -> Response:
    with cons.session() as session:
        cameras = assignments.by_camera(session)
        people = session.scalars(
            select(User.name)
            .where(User.role.in_((Role.REVIEWER, Role.SUPERVISOR)), User.disabled_at.is_(None))
            .order_by(User.name)
        ).all()
    values = {"cameras": cameras, "people": people, "done": done, "error": error}
    return cons.page(request, "assignments.html", who, **values)


@router.post("/assignments")
def assign(cons: Cons, who: SupervisorPost, camera_id: CameraId, reviewer: Reviewer) -> Response:
    outcome = _attempt(
        cons, lambda session: assignments.assign(session, camera_id, reviewer, who.name)
    )
    return _outcome("/assignments", outcome, f"{reviewer} on {camera_id}")


@router.post("/assignments/remove")
def unassign(cons: Cons, who: SupervisorPost, camera_id: CameraId, reviewer: Reviewer) -> Response:
    outcome = _attempt(
        cons, lambda session: assignments.unassign(session, camera_id, reviewer, who.name)
    )
    return _outcome("/assignments", outcome, f"{reviewer} off {camera_id}")
