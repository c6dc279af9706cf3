"""Paying a fine through a payment provider: Stripe Checkout, over its real HTTP API.

The portal asks the provider for a hosted payment page for the citation's fine (a Checkout
Session, created with an idempotency key so a double click makes one), records the attempt,
and sends the person there. A fine counts as paid only when the provider's notification says
so and carries a valid signature (`Stripe-Signature`: HMAC-SHA256 over the timestamp and the
raw body, within a tolerance); the browser coming back proves nothing. Notifications are
handled once by their event id and act on the store: the amount and currency must be the
fine's, and the citation must still be payable.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.orm import Session

from pipeline.config import PaymentsConfig
from pipeline.store import audit
from pipeline.store.citations import transition
from pipeline.store.citizen import Payment
from pipeline.store.models import Citation, Status, utcnow

log = logging.getLogger(__name__)

ACTOR = "system:payments"
PAYABLE = frozenset(
    {Status.APPROVED, Status.NOTIFIED, Status.DISPLAYED, Status.DELIVERY_FAILED, Status.UPHELD}
)
SETTLING = frozenset({"checkout.session.completed", "checkout.session.async_payment_succeeded"})
"""A card pays at completion; a bank debit completes unpaid and settles with the second."""
TOLERANCE_S = 300
"""A notification signed longer ago than this is refused: a replayed old one pays nothing."""
ZERO_DECIMAL = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF"})
"""Currencies Stripe counts in whole units; the rest in hundredths."""


class PaymentError(RuntimeError):
    """The provider refused or could not be reached: the person may try again."""


class BadSignature(ValueError):
    """A notification that does not come from the provider."""


@dataclass(frozen=True)
class Checkout:
    id: str
    url: str


def minor_units(amount: float, currency: str) -> int:
    return round(amount) if currency.upper() in ZERO_DECIMAL else round(amount * 100)


def _secret(name: str | None) -> str:
    value = os.environ.get(name or "")
    if not value:
        raise PaymentError(f"the environment variable {name} holding a payment secret is unset")
    return value


class Stripe:
    """The subset of Stripe's API the portal uses: create a Checkout Session."""

    def __init__(self, config: PaymentsConfig) -> None:
        self.endpoint = f"{config.url.rstrip('/')}/v1/checkout/sessions"
        self.client = httpx.Client(timeout=config.timeout_s, auth=(_secret(config.secret_env), ""))
        self.webhook_secret = _secret(config.webhook_secret_env)

    def checkout(
        self,
        citation: Citation,
        amount_minor: int,
        currency: str,
        success_url: str,
        cancel_url: str,
        description: str,
    ) -> Checkout:
        form = {
            "mode": "payment",
            "success_url": success_url,
            "cancel_url": cancel_url,
            "client_reference_id": citation.id,
            "metadata[notice_number]": citation.notice_number or "",
            "line_items[0][quantity]": "1",
            "line_items[0][price_data][currency]": currency.lower(),
            "line_items[0][price_data][unit_amount]": str(amount_minor),
            "line_items[0][price_data][product_data][name]": description,
        }
        # One page per citation and amount: a second click or a retry gets the same session.
        key = f"stopline-{citation.id}-{amount_minor}-{currency}"
        try:
            answer = self.client.post(self.endpoint, data=form, headers={"Idempotency-Key": key})
        except httpx.HTTPError as error:
            raise PaymentError(f"payment provider unreachable: {error}") from error
        if answer.status_code != 200:
            raise PaymentError(f"payment provider answered {answer.status_code}")
        body = answer.json()
        return Checkout(id=str(body["id"]), url=str(body["url"]))

    def verified_event(self, payload: bytes, header: str, now: float | None = None) -> Any:
        """The notification's event, or `BadSignature`."""
        parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
        stamps = [v for k, v in parts if k.strip() == "t"]
        signatures = [v.strip() for k, v in parts if k.strip() == "v1"]
        if len(stamps) != 1 or not stamps[0].strip().isdigit() or not signatures:
            raise BadSignature("no timestamp and v1 signature")
        signed_at = int(stamps[0])
        if abs((now or time.time()) - signed_at) > TOLERANCE_S:
            raise BadSignature("signed outside the tolerance")
        expected = hmac.new(
            self.webhook_secret.encode(), f"{signed_at}.".encode() + payload, hashlib.sha256
        ).hexdigest()
        if not any(hmac.compare_digest(expected, s) for s in signatures):
            raise BadSignature("signature does not match")
        try:
            return json.loads(payload)
        except ValueError as error:
            raise BadSignature("not JSON") from error


def record_checkout(
    session: Session, citation: Citation, checkout: Checkout, amount_minor: int, currency: str
) -> None:
    if session.get(Payment, checkout.id) is None:
        session.add(
            Payment(
                id=checkout.id,
                citation_id=citation.id,
                provider="stripe",
                amount_minor=amount_minor,
                currency=currency,
                status="open",
            )
        )
        audit.append(
            session,
            f"citizen:{citation.notice_number}",
            "payment.started",
            "citation",
            citation.id,
            {"payment": checkout.id, "amount_minor": amount_minor, "currency": currency},
        )


def completed(session: Session, event: Any, now: datetime | None = None) -> str:
    """Apply a verified notification that a checkout was paid; what it did, for the log."""
    if not isinstance(event, dict) or event.get("type") not in SETTLING:
        return f"ignored: {event.get('type') if isinstance(event, dict) else 'not an event'}"
    paid = event.get("data", {}).get("object", {})
    payment = session.get(Payment, str(paid.get("id")))
    if payment is None:
        return f"ignored: unknown checkout {paid.get('id')!r}"
    if payment.status == "paid":
        return f"already paid: {payment.id}"
    if paid.get("payment_status") != "paid":
        return f"not settled yet: {payment.id}"  # a debit: its async_payment_succeeded follows
    # What this page asked for, not today's configured fine, which may have changed since.
    expected = (payment.amount_minor, payment.currency.lower())
    got = (paid.get("amount_total"), str(paid.get("currency", "")).lower())
    if got != expected:
        detail = {"payment": payment.id, "got": list(got), "expected": list(expected)}
        audit.append(session, ACTOR, "payment.refused", "citation", payment.citation_id, detail)
        return f"refused: {detail}"
    payment.status, payment.paid_at, payment.event_id = "paid", now or utcnow(), event.get("id")
    citation = session.get(Citation, payment.citation_id)
    assert citation is not None  # foreign key
    detail = {"payment": payment.id, "event": event.get("id"), "amount_minor": got[0]}
    audit.append(session, ACTOR, "payment.received", "citation", citation.id, detail)
    if citation.status in PAYABLE:
        transition(session, citation.id, Status.PAID, ACTOR, f"paid through stripe {payment.id}")
        return f"paid: {citation.id}"
    # Paid after a dismissal, or twice through two pages: the money is recorded for a refund.
    log.warning("payment %s for citation %s in status %s", payment.id, citation.id, citation.status)
    return f"recorded, citation is {citation.status}"
