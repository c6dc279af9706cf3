"""The review console: one FastAPI application serving the police pages and the JSON API.

`create_app` only assembles; the routes live in `pages`, `api` and `metrics`, the rules in
`cases` and `auth`. Security headers go on every response: no framing, no MIME sniffing, a
content security policy that allows only the console's own scripts and styles, and no caching
of pages that show personal data.
"""

from __future__ import annotations

import math
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated

from fastapi import Depends, FastAPI, Form, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.routing import BaseRoute

from pipeline.store.models import Role
from pipeline.tokens import same_token
from pipeline.webpages import SECURITY_HEADERS
from review import api, metrics, pages
from review.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    LoginOutcome,
    Viewer,
    attempt_login,
    close_session,
    open_session,
)
from review.web import HOME, STATIC, BadCsrf, Console, Forbidden, NotLoggedIn, checked

ANY_ROLE = tuple(Role)


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: a login link must not bounce a user to another site. A second
    slash (`//evil.example`) would make it a scheme-relative URL to another host."""
    return target if target and re.fullmatch(r"/(?!/)[A-Za-z0-9/_\-?=&.%]*", target) else None


def create_app(cons: Console) -> FastAPI:
    app = FastAPI(
        title="stopline review API",
        version="1",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # served behind a login by `api`
    )
    app.state.console = cons

    @app.middleware("http")
    async def headers_and_timing(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        start = time.perf_counter()
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        cons.timings.add(f"{request.method} {path}", time.perf_counter() - start)
        return response

    @app.exception_handler(NotLoggedIn)
    async def not_logged_in(request: Request, _: NotLoggedIn) -> Response:
        if request.url.path.startswith(("/api/", "/metrics")) or request.method != "GET":
            return JSONResponse({"detail": "login required"}, status_code=401)
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, _: Forbidden) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": "your role may not do this"}, status_code=403)
        return cons.page(request, "error.html", None, 403, message="Your role may not open this.")

    @app.exception_handler(BadCsrf)
    async def bad_csrf(request: Request, _: BadCsrf) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": "missing or wrong CSRF token"}, status_code=403)
        message = "The form was missing its security token. Reload the page and try again."
        return cons.page(request, "error.html", None, 403, message=message)

    @app.get("/login", include_in_schema=False)
    def login_form(request: Request, next: str | None = None, error: str | None = None) -> Response:
        token = secrets.token_urlsafe(32)
        response = cons.page(
            request, "login.html", None, next=_safe_next(next), error=error, login_csrf=token
        )
        _cookie(response, cons, LOGIN_CSRF_COOKIE, token)
        return response

    @app.post("/login", include_in_schema=False)
    def login(
        request: Request,
        name: Annotated[str, Form(max_length=200)],
        password: Annotated[str, Form(max_length=1024)],
        csrf_token: Annotated[str, Form()] = "",
        next: Annotated[str, Form()] = "",
    ) -> Response:
        if not same_token(csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE)):
            raise BadCsrf
        ip = request.client.host if request.client else None
        with cons.session() as session:
            result = attempt_login(session, name, password, cons.config.review, ip)
            user = result.user
            token = open_session(session, user, cons.config.review) if user else None
            role = Role(user.role) if user else None
        if token is None or role is None:
            error = (
                f"Too many wrong passwords. Try again in {math.ceil(result.wait_s)} s."
                if result.outcome is LoginOutcome.WAIT
                else "Wrong name or password."
            )
            return login_form(request, next or None, error)
        response = RedirectResponse(_safe_next(next) or HOME[role], status_code=303)
        _cookie(response, cons, SESSION_COOKIE, token)
        response.delete_cookie(LOGIN_CSRF_COOKIE)
        return response

    @app.post("/logout", include_in_schema=False)
    def logout(who: Annotated[Viewer, Depends(checked(*ANY_ROLE))]) -> Response:
        with cons.session() as session:
            close_session(session, who)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        """Anonymous on purpose (load balancers ask): says only whether the store answers."""
        with cons.session() as session:
            session.execute(text("SELECT 1"))
        return {"status": "ok"}

    app.include_router(pages.router)
    app.include_router(api.router)
    app.include_router(metrics.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def _cookie(response: Response, cons: Console, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="strict",
        secure=cons.config.review.cookie_secure,
        max_age=round(cons.config.review.session_hours * 3600),
        path="/",
    )


def routes(app: FastAPI) -> Iterator[BaseRoute]:
    """Every route the app serves, also those of included routers, and its mounts (for checks
    over all: a check that skipped mounts or websockets would not see a new one)."""
    stack: list[BaseRoute] = list(app.router.routes)
    while stack:
        route = stack.pop(0)
        included = getattr(route, "original_router", None)
        if included is not None:
            stack.extend(included.routes)
        else:
            yield route
