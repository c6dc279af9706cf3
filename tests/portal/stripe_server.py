"""A real HTTP server on loopback speaking the subset of Stripe's API the portal uses.

`POST /v1/checkout/sessions` (form-encoded, the secret key as Basic auth user, an
`Idempotency-Key` answering a repeat with the session it made) returns a Checkout Session whose
`url` is this server's hosted payment page. Paying there (`POST /c/pay/{id}`) completes the
session, sends a `checkout.session.completed` event signed as Stripe signs them
(`Stripe-Signature: t=...,v1=HMAC-SHA256(secret, "t.body")`) to the webhook URL, and sends the
browser to the session's `success_url`, as Stripe does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs

import httpx

PAY = "/c/pay/"


class StripeServer:
    """`with StripeServer(webhook_url) as stripe:`; point payments.url at `stripe.url`."""

    def __init__(self, secret_key: str = "sk_test_stopline", webhook_secret: str = "whsec_test"):
        self.secret_key = secret_key
        self.webhook_secret = webhook_secret
        self.webhook_url: str | None = None
        self.sessions: dict[str, dict[str, Any]] = {}
        self.by_key: dict[str, str] = {}
        self.deliveries: list[tuple[str, int]] = []
        """(event id, the webhook's answer status) for every notification sent."""
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> StripeServer:
        self.thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.server.shutdown()
        self.server.server_close()

    def signed(self, body: bytes, at: int | None = None, secret: str | None = None) -> str:
        at = int(time.time()) if at is None else at
        key = (secret or self.webhook_secret).encode()
        digest = hmac.new(key, f"{at}.".encode() + body, hashlib.sha256).hexdigest()
        return f"t={at},v1={digest}"

    def completed_event(self, session_id: str) -> bytes:
        session = self.sessions[session_id]
        event = {
            "id": "evt_" + secrets.token_hex(12),
            "object": "event",
            "type": "checkout.session.completed",
            "data": {"object": session},
        }
        return json.dumps(event).encode()

    def pay(self, session_id: str) -> int:
        """Complete the session and notify the webhook; its answer's status."""
        with self.lock:
            self.sessions[session_id].update(status="complete", payment_status="paid")
        body = self.completed_event(session_id)
        assert self.webhook_url, "set webhook_url first"
        answer = httpx.post(
            self.webhook_url,
            content=body,
            headers={"Stripe-Signature": self.signed(body), "Content-Type": "application/json"},
        )
        self.deliveries.append((json.loads(body)["id"], answer.status_code))
        return answer.status_code

    def _create(self, form: dict[str, str], key: str | None) -> dict[str, Any]:
        with self.lock:
            if key and key in self.by_key:
                return self.sessions[self.by_key[key]]
            session_id = "cs_test_" + secrets.token_hex(16)
            amount = int(form["line_items[0][price_data][unit_amount]"])
            session = {
                "id": session_id,
                "object": "checkout.session",
                "url": f"{self.url}{PAY}{session_id}",
                "mode": form["mode"],
                "status": "open",
                "payment_status": "unpaid",
                "amount_total": amount * int(form.get("line_items[0][quantity]", "1")),
                "currency": form["line_items[0][price_data][currency]"],
                "client_reference_id": form.get("client_reference_id"),
                "metadata": {"notice_number": form.get("metadata[notice_number]")},
                "success_url": form["success_url"],
                "cancel_url": form.get("cancel_url"),
                "description": form["line_items[0][price_data][product_data][name]"],
            }
            self.sessions[session_id] = session
            if key:
                self.by_key[key] = session_id
            return session

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stripe = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _answer(self, status: int, body: bytes, kind: str, **headers: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def _json(self, status: int, value: object) -> None:
                self._answer(status, json.dumps(value).encode(), "application/json")

            def do_GET(self) -> None:
                session = stripe.sessions.get(self.path.removeprefix(PAY))
                if not self.path.startswith(PAY) or session is None:
                    return self._json(404, {"error": {"message": "no such page"}})
                amount = f"{session['amount_total'] / 100:.2f} {session['currency'].upper()}"
                page = (
                    f"<!doctype html><title>Pay</title><h1>{html.escape(session['description'])}"
                    f"</h1><p id='amount'>{amount}</p><form method='post'>"
                    "<button id='pay' type='submit'>Pay</button></form>"
                )
                self._answer(200, page.encode(), "text/html; charset=utf-8")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode()
                if self.path.startswith(PAY):
                    session_id = self.path.removeprefix(PAY)
                    if session_id not in stripe.sessions:
                        return self._json(404, {"error": {"message": "no such session"}})
                    stripe.pay(session_id)
                    target = stripe.sessions[session_id]["success_url"]
                    return self._answer(HTTPStatus.SEE_OTHER, b"", "text/plain", Location=target)
                if self.path != "/v1/checkout/sessions":
                    return self._json(404, {"error": {"message": "unknown endpoint"}})
                auth = self.headers.get("Authorization", "")
                user = base64.b64decode(auth.removeprefix("Basic ") or "Og==").decode()
                if user.split(":")[0] != stripe.secret_key:
                    return self._json(401, {"error": {"message": "Invalid API Key provided"}})
                form = {k: v[0] for k, v in parse_qs(body).items()}
                self._json(200, stripe._create(form, self.headers.get("Idempotency-Key")))

        return Handler
