"""The citizen portal: a FastAPI application of its own, for fined people, in zh-CN and en.

It runs as its own process on its own port (`stopline portal serve`) and shares nothing with
the console but the store: its cookie, sessions and templates are its own, and a visitor only
ever reaches the one citation their notice number and PIN open. The console's security headers
go on every answer, and no page is cached.
"""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, File, Form, Request, Response, UploadFile
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
)
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment
from sqlalchemy import text
from sqlalchemy.orm import Session

from pipeline.config import StoplineConfig
from pipeline.evidence import EvidenceStore
from pipeline.offences import Language, language_of
from pipeline.store import Store
from pipeline.store.citizen import portal_media
from pipeline.store.models import Citation
from pipeline.tokens import same_token
from pipeline.webpages import SECURITY_HEADERS, html_templates
from portal import access, cases, payments
from portal.texts import STATUSES, TEXTS

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
LANGUAGE_COOKIE = "stopline_portal_lang"
FORM_OVERHEAD_BYTES = 64 * 1024
"""Room for an appeal's text and the multipart framing around its attachment."""
HEADERS = {**SECURITY_HEADERS, "Referrer-Policy": "no-referrer"}
"""The console's, and no referrer at all: the portal's addresses carry nothing to leak, and
the person's next site need not know where they came from."""


@dataclass
class Portal:
    """Everything the routes use, made once."""

    config: StoplineConfig
    store: Store
    evidence: EvidenceStore
    pin_key: bytes
    payments: payments.Stripe | None = None
    """None where the deployment takes no payment in the portal."""
    env: Environment = field(default_factory=lambda: html_templates(TEMPLATES))

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.store.session() as session:
            yield session

    def page(self, request: Request, template: str, status: int = 200, **values: Any) -> Response:
        language = _language(request)

        def t(key: str, **fields: Any) -> str:
            return TEXTS[key][language].format(**fields)

        body = self.env.get_template(template).render(
            request=request, lang=language, t=t, statuses=STATUSES, **values
        )
        response = HTMLResponse(body, status_code=status)
        if request.query_params.get("lang") in ("zh-CN", "en"):
            self.cookie(response, LANGUAGE_COOKIE, language)
        return response

    def cookie(self, response: Response, name: str, value: str) -> None:
        response.set_cookie(
            name,
            value,
            httponly=True,
            samesite="strict",
            secure=self.config.portal.cookie_secure,
        )


def _language(request: Request) -> Language:
    """?lang= chosen on the page, else the cookie of an earlier choice, else the browser's."""
    chosen = request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    if chosen in ("zh-CN", "en"):
        return chosen  # type: ignore[return-value]
    first = request.headers.get("accept-language", "").split(",")[0].split(";")[0].strip()
    return language_of(first)


def create_app(portal: Portal) -> FastAPI:
    app = FastAPI(title="stopline portal", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.portal = portal
    notifier = portal.config.notifier
    headers = dict(HEADERS)
    if portal.payments is not None:
        # Browsers hold a form's redirect to its policy: the pay form ends on the provider's page.
        origin = portal.config.portal.payments.page_origin
        policy = headers["Content-Security-Policy"]
        headers["Content-Security-Policy"] = policy.replace(
            "form-action 'self'", f"form-action 'self' {origin}"
        )

    largest = portal.config.portal.max_upload_bytes + FORM_OVERHEAD_BYTES

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        # Before anything reads the body: a form is parsed (and spooled to disk) before the
        # route checks the login, so a stranger's huge body must be refused by its length.
        if request.method == "POST":
            length = request.headers.get("content-length")
            if length is None or not length.isdigit() or int(length) > largest:
                response: Response = PlainTextResponse("request body too large", 413)
                response.headers["Connection"] = "close"
                for name, value in headers.items():
                    response.headers.setdefault(name, value)
                return response
        response = await call_next(request)
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response

    def visitor(request: Request) -> access.Visitor | None:
        with portal.session() as session:
            return access.find_visitor(session, request.cookies.get(access.COOKIE))

    def login_page(request: Request, error: str | None = None, status: int = 200) -> Response:
        token = secrets.token_urlsafe(32)
        response = portal.page(request, "login.html", status, error=error, login_csrf=token)
        portal.cookie(response, access.LOGIN_COOKIE, token)
        return response

    def case_page(
        request: Request, who: access.Visitor, message: str | None = None, status: int = 200
    ) -> Response:
        with portal.session() as session:
            case = cases.load(session, who.citation_id, notifier)
            return portal.page(
                request,
                "case.html",
                status,
                case=case,
                notice_number=who.notice_number,
                csrf_token=who.csrf_token,
                fine=notifier.fine_text,
                can_pay=portal.payments is not None and case.citation.status in payments.PAYABLE,
                message=message,
            )

    @app.get("/")
    def home(request: Request) -> Response:
        if visitor(request) is not None:
            return RedirectResponse("/case", status_code=303)
        return login_page(request)

    @app.get("/media/{sha256}")
    def media(request: Request, sha256: str) -> Response:
        """A blurred picture or clip of the visitor's own case, and nothing else: any other
        hash, evidence of other cases included, is not found."""
        who = visitor(request)
        if who is None:
            return RedirectResponse("/", status_code=303)
        with portal.session() as session:
            citation = session.get(Citation, who.citation_id)
            files = {f["sha256"]: f for f in portal_media(citation)} if citation else {}
        if sha256 not in files:
            return Response("not found", status_code=404, media_type="text/plain")
        path = portal.evidence.path_of(sha256)
        if not path.is_file():
            return Response("not found", status_code=404, media_type="text/plain")
        response = FileResponse(path, media_type=files[sha256]["media_type"])
        response.headers["Cache-Control"] = "private, no-store"
        return response

    @app.post("/login")
    def login(
        request: Request,
        notice_number: Annotated[str, Form(max_length=64)],
        pin: Annotated[str, Form(max_length=64)],
        csrf_token: Annotated[str, Form(max_length=128)] = "",
    ) -> Response:
        if not same_token(csrf_token, request.cookies.get(access.LOGIN_COOKIE)):
            return login_page(request, TEXTS["wrong"][_language(request)], 403)
        address = request.client.host if request.client else None
        with portal.session() as session:
            tried = access.attempt(
                session, notice_number, pin, portal.pin_key, portal.config.portal, address
            )
            token = None
            if tried.citation_id is not None:
                token = access.open_session(session, tried.citation_id, portal.config.portal)
        if token is None:
            language = _language(request)
            error = TEXTS["wrong"][language]
            if tried.outcome is access.Outcome.WAIT:
                error = TEXTS["wait"][language].format(seconds=math.ceil(tried.wait_s))
            return login_page(request, error, 429 if tried.outcome is access.Outcome.WAIT else 200)
        response = RedirectResponse("/case", status_code=303)
        portal.cookie(response, access.COOKIE, token)
        response.delete_cookie(access.LOGIN_COOKIE)
        return response

    @app.get("/case", name="case")
    def case(request: Request) -> Response:
        who = visitor(request)
        if who is None:
            return RedirectResponse("/", status_code=303)
        said = next((k for k in ("filed", "paid") if request.query_params.get(k) == "1"), None)
        return case_page(request, who, TEXTS[said][_language(request)] if said else None)

    @app.post("/case/appeal")
    async def appeal(
        request: Request,
        reason: Annotated[str, Form(max_length=cases.MAX_REASON_CHARS * 4)],
        csrf_token: Annotated[str, Form(max_length=128)] = "",
        attachment: Annotated[UploadFile | None, File()] = None,
    ) -> Response:
        who = visitor(request)
        if who is None or not same_token(csrf_token, who.csrf_token):
            return RedirectResponse("/", status_code=303)
        limit = portal.config.portal.max_upload_bytes
        upload = await attachment.read(limit + 1) if attachment is not None else b""
        if len(upload) > limit:
            return case_page(request, who, f"the file is larger than {limit // 2**20} MiB", 413)
        try:
            with portal.session() as session:
                cases.contest(
                    session,
                    who.citation_id,
                    who.actor,
                    reason,
                    upload or None,
                    portal.evidence,
                    notifier,
                )
        except cases.AppealRefused as refused:
            return case_page(request, who, str(refused), 422)
        return RedirectResponse("/case?filed=1", status_code=303)

    @app.post("/case/nominate")
    def nominate(
        request: Request,
        name: Annotated[str, Form(max_length=200)],
        national_id: Annotated[str, Form(max_length=64)] = "",
        phone: Annotated[str, Form(max_length=32)] = "",
        reason: Annotated[str, Form(max_length=cases.MAX_REASON_CHARS * 4)] = "",
        csrf_token: Annotated[str, Form(max_length=128)] = "",
    ) -> Response:
        """The keeper names who was driving; a supervisor takes it from there."""
        who = visitor(request)
        if who is None or not same_token(csrf_token, who.csrf_token):
            return RedirectResponse("/", status_code=303)
        nominee = {"name": name, "national_id": national_id, "phone": phone}
        try:
            with portal.session() as session:
                cases.contest(
                    session,
                    who.citation_id,
                    who.actor,
                    reason,
                    None,
                    portal.evidence,
                    notifier,
                    nominee=nominee,
                )
        except cases.AppealRefused as refused:
            return case_page(request, who, str(refused), 422)
        return RedirectResponse("/case?filed=1", status_code=303)

    @app.post("/case/pay")
    def pay(request: Request, csrf_token: Annotated[str, Form(max_length=128)] = "") -> Response:
        """To the provider's payment page for this citation's fine; back to /case after."""
        who = visitor(request)
        if who is None or not same_token(csrf_token, who.csrf_token):
            return RedirectResponse("/", status_code=303)
        if portal.payments is None:
            return case_page(request, who, TEXTS["no_payments"][_language(request)], 404)
        amount = payments.minor_units(notifier.fine_amount, notifier.currency)
        # The configured address, never the request's Host header, which a client chooses.
        back = notifier.portal_url.rstrip("/") + "/case"
        with portal.session() as session:
            citation = session.get(Citation, who.citation_id)
            assert citation is not None  # the session's foreign key
            if citation.status not in payments.PAYABLE:
                return case_page(request, who, TEXTS["not_payable"][_language(request)], 409)
            try:
                checkout = portal.payments.checkout(
                    citation,
                    amount,
                    notifier.currency,
                    success_url=f"{back}?paid=1",
                    cancel_url=back,
                    description=f"{TEXTS['fine']['en']} {who.notice_number}",
                )
            except payments.PaymentError as error:
                log.warning("payment for %s not started: %s", who.citation_id, error)
                return case_page(request, who, TEXTS["pay_later"][_language(request)], 503)
            payments.record_checkout(session, citation, checkout, amount, notifier.currency)
        return RedirectResponse(checkout.url, status_code=303)

    @app.post("/payments/stripe")
    async def stripe_webhook(request: Request) -> Response:
        """The provider's notifications: signed, applied once, acted on by the store's state."""
        if portal.payments is None:
            return JSONResponse({"detail": "payments are off"}, status_code=404)
        body = await request.body()
        try:
            event = portal.payments.verified_event(
                body, request.headers.get("stripe-signature", "")
            )
        except payments.BadSignature as error:
            log.warning("payment notification refused: %s", error)
            return JSONResponse({"detail": "bad signature"}, status_code=400)
        with portal.session() as session:
            done = payments.completed(session, event)
        log.info("payment notification %s: %s", event.get("id"), done)
        return JSONResponse({"received": True})

    @app.post("/logout")
    def logout(request: Request, csrf_token: Annotated[str, Form(max_length=128)] = "") -> Response:
        who = visitor(request)
        if who is not None and same_token(csrf_token, who.csrf_token):
            with portal.session() as session:
                access.close_session(session, who)
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(access.COOKIE)
        return response

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        with portal.session() as session:
            session.execute(text("SELECT 1"))
        return {"status": "ok"}

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
