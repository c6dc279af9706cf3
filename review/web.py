"""What every console route shares: the console's state, the logged-in viewer, role checks,
CSRF checks and page rendering.

A route declares what it needs (`Depends(require(Role.REVIEWER))`, `Depends(checked(...))` for
unsafe methods), so a route without them is visible in review; `tests/review/test_security.py`
walks every registered route anonymously to catch one that forgot.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from jinja2 import Environment
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse

from pipeline.config import StoplineConfig
from pipeline.evidence import EvidenceStore
from pipeline.store import Store
from pipeline.store.models import Role
from pipeline.tokens import same_token
from pipeline.webpages import html_templates
from review.auth import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE, Viewer, find_viewer

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


class NotLoggedIn(Exception):
    """No valid session: pages redirect to the login form, the API answers 401."""


class Forbidden(Exception):
    """Logged in, but the role may not do this."""


class BadCsrf(Exception):
    """An unsafe request without the session's CSRF token."""


@dataclass
class Timings:
    """Server time per route, for /metrics; kept in memory, reset with the process."""

    count: dict[str, int] = field(default_factory=dict)
    total_s: dict[str, float] = field(default_factory=dict)

    def add(self, route: str, seconds: float) -> None:
        self.count[route] = self.count.get(route, 0) + 1
        self.total_s[route] = self.total_s.get(route, 0.0) + seconds


@dataclass
class Console:
    """Everything the routes use, made once by `create_app`."""

    config: StoplineConfig
    store: Store
    evidence: EvidenceStore
    plate_key: Callable[[str], str | None]
    """A typed plate in the form the registry keeps (the reader's normalisation)."""
    timings: Timings = field(default_factory=Timings)
    env: Environment = field(default_factory=lambda: html_templates(TEMPLATES))

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.store.session() as session:
            yield session

    def page(
        self,
        request: Request,
        template: str,
        viewer: Viewer | None,
        status: int = 200,
        **values: Any,
    ) -> HTMLResponse:
        body = self.env.get_template(template).render(
            request=request,
            viewer=viewer,
            csrf_token=viewer.csrf_token if viewer else "",
            deployment=self.config.deployment,
            **values,
        )
        return HTMLResponse(body, status_code=status)


def console(request: Request) -> Console:
    return request.app.state.console


def viewer(request: Request) -> Viewer:
    cons = console(request)
    with cons.session() as session:
        found = find_viewer(session, request.cookies.get(SESSION_COOKIE), cons.config.review)
    if found is None:
        raise NotLoggedIn
    return found


def require(*roles: Role) -> Callable[..., Viewer]:
    """A dependency: the viewer, if their role is one of `roles`."""

    def allowed(who: Annotated[Viewer, Depends(viewer)]) -> Viewer:
        if who.role not in roles:
            raise Forbidden
        return who

    return allowed


def checked(*roles: Role) -> Callable[..., Any]:
    """`require` plus the CSRF token, for every unsafe request."""

    role_check = require(*roles)

    async def allowed(request: Request, who: Annotated[Viewer, Depends(role_check)]) -> Viewer:
        sent = request.headers.get(CSRF_HEADER)
        if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            sent = (await request.form()).get(CSRF_FIELD)
        if not same_token(str(sent) if sent is not None else None, who.csrf_token):
            raise BadCsrf
        return who

    return allowed


DECIDERS = (Role.REVIEWER, Role.SUPERVISOR)
READERS = (Role.REVIEWER, Role.SUPERVISOR, Role.AUDITOR)
"""Who may see cases and their personal data (every view is audited)."""
HOME = {
    Role.REVIEWER: "/queue",
    Role.SUPERVISOR: "/queue",
    Role.AUDITOR: "/audit",
    Role.ADMIN: "/admin/users",
}
"""Where each role lands after login."""
