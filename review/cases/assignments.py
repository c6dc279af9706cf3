"""Assignment by camera: a supervisor puts reviewers on cameras, so each reviewer works the
junctions they know and no camera's cases are left to chance. A reviewer's queue and "next"
show only their cameras' cases unless they ask for every camera; one with no camera
assigned sees every case, so nothing waits unseen for want of an assignment."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, exists, or_, select
from sqlalchemy.orm import Session

from pipeline.store import audit
from pipeline.store.models import Camera, Citation, Role, User
from pipeline.store.reviewing import CameraAssignment
from review.cases.decisions import DecisionError


def mine(reviewer: str) -> Any:
    """SQL: the citation is on one of `reviewer`'s cameras, or they have none assigned."""
    theirs = CameraAssignment.reviewer == reviewer
    return or_(
        ~exists().where(theirs),
        Citation.camera_id.in_(select(CameraAssignment.camera_id).where(theirs)),
    )


def cameras_of(session: Session, reviewer: str) -> list[str]:
    query = select(CameraAssignment.camera_id).where(CameraAssignment.reviewer == reviewer)
    return list(session.scalars(query.order_by(CameraAssignment.camera_id)))


def by_camera(session: Session) -> dict[str, list[str]]:
    """Every camera the store knows, with its reviewers (none: everybody's)."""
    found: dict[str, list[str]] = {
        c: [] for c in session.scalars(select(Camera.id).order_by(Camera.id))
    }
    rows = session.execute(
        select(CameraAssignment.camera_id, CameraAssignment.reviewer).order_by(
            CameraAssignment.reviewer
        )
    )
    for camera, reviewer in rows:
        found.setdefault(camera, []).append(reviewer)
    return found


def assign(session: Session, camera_id: str, reviewer: str, by: str) -> None:
    """Put `reviewer` (a reviewer or supervisor who may log in) on a known camera; audited."""
    if session.get(Camera, camera_id) is None:
        raise DecisionError(f"no camera {camera_id!r}")
    user = session.scalar(select(User).where(User.name == reviewer))
    if (
        user is None
        or user.disabled_at is not None
        or user.role
        not in (
            Role.REVIEWER,
            Role.SUPERVISOR,
        )
    ):
        raise DecisionError(f"{reviewer!r} is not an active reviewer or supervisor")
    if session.get(CameraAssignment, (camera_id, reviewer)) is None:
        session.add(CameraAssignment(camera_id=camera_id, reviewer=reviewer, assigned_by=by))
        audit.append(session, by, "camera.assigned", "camera", camera_id, {"reviewer": reviewer})


def unassign(session: Session, camera_id: str, reviewer: str, by: str) -> None:
    gone = session.execute(
        delete(CameraAssignment).where(
            CameraAssignment.camera_id == camera_id, CameraAssignment.reviewer == reviewer
        )
    )
    if gone.rowcount:  # type: ignore[attr-defined]
        audit.append(session, by, "camera.unassigned", "camera", camera_id, {"reviewer": reviewer})
