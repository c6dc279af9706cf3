"""The audit log and the console's users."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from sqlalchemy import func, select

from pipeline.store import audit, verify_chain
from pipeline.store.models import AuditEntry, Role, User
from review.auth import Viewer, account_waits, clear_wait, set_disabled
from review.pages.common import AUDIT_READERS, Cons, PageNumber, _back
from review.web import checked, require

router = APIRouter(include_in_schema=False)


@router.get("/audit")
def audit_page(
    request: Request,
    cons: Cons,
    who: Annotated[Viewer, Depends(require(*AUDIT_READERS))],
    actor: str | None = None,
    action: str | None = None,
    subject: str | None = None,
    verify: bool = False,
    page: PageNumber = 1,
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
        waits = account_waits(session)
        return cons.page(request, "users.html", who, users=users, waits=waits, done=done)


@router.post("/admin/users/{name}/unlock")
def unlock_user(
    cons: Cons, name: str, who: Annotated[Viewer, Depends(checked(Role.ADMIN))]
) -> Response:
    with cons.session() as session:
        clear_wait(session, name, who.name)
    return _back("/admin/users", message=f"unlocked {name}")


@router.post("/admin/users/{name}/disable")
def disable_user(
    cons: Cons,
    name: str,
    who: Annotated[Viewer, Depends(checked(Role.ADMIN))],
    enable: Annotated[bool, Form()] = False,
) -> Response:
    with cons.session() as session:
        set_disabled(session, name, not enable, who.name)
    return _back("/admin/users", message=f"{'enabled' if enable else 'disabled'} {name}")
