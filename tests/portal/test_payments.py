"""Paying a fine from the portal (issue 19) through a real local server speaking Stripe's API:
in a browser, from the Pay button to the provider's page and back, the citation paid by the
provider's signed notification; and the notifications that must pay nothing (forged, replayed,
of another amount, repeated)."""

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Browser, expect
from pydantic import ValidationError
from sqlalchemy import func, select

from pipeline.config import PaymentsConfig
from pipeline.store import Status
from pipeline.store.citizen import Payment
from pipeline.store.models import AuditEntry, Citation, CitationTransition
from portal.app import Portal, create_app
from portal.payments import PaymentError, Stripe
from tests.detectors.live_camera import free_port
from tests.fixtures.browser import ARTIFACTS, serving
from tests.portal.conftest import Fined
from tests.portal.stripe_server import StripeServer


@dataclass
class Paying:
    fined: Fined
    stripe: StripeServer
    portal_url: str

    def status(self) -> str:
        with self.fined.site.store.session() as session:
            citation = session.get(Citation, self.fined.citation_id)
            assert citation is not None
            return citation.status

    def paid_transitions(self) -> int:
        with self.fined.site.store.session() as session:
            return session.scalar(
                select(func.count()).where(CitationTransition.to_state == Status.PAID)
            )


@pytest.fixture
def paying(fined: Fined, monkeypatch: pytest.MonkeyPatch) -> Iterator[Paying]:
    monkeypatch.setenv("TEST_STRIPE_KEY", "sk_test_stopline")
    monkeypatch.setenv("TEST_STRIPE_WEBHOOK", "whsec_test")
    with StripeServer() as stripe:
        config = fined.site.console.config
        payments = config.portal.payments.model_copy(
            update={
                "provider": "stripe",
                "url": stripe.url,
                "page_origin": stripe.url,
                "secret_env": "TEST_STRIPE_KEY",
                "webhook_secret_env": "TEST_STRIPE_WEBHOOK",
            }
        )
        portal_config = config.portal.model_copy(
            update={"payments": payments, "cookie_secure": False}
        )
        port = free_port()
        back = f"http://127.0.0.1:{port}"  # where the provider sends the person back
        notifier = config.notifier.model_copy(update={"portal_url": back})
        config = config.model_copy(update={"portal": portal_config, "notifier": notifier})
        old = fined.portal.state.portal
        portal = Portal(
            config=config,
            store=old.store,
            evidence=old.evidence,
            pin_key=old.pin_key,
            payments=Stripe(payments),
        )
        with serving(create_app(portal), port) as url:
            stripe.webhook_url = f"{url}/payments/stripe"
            yield Paying(fined, stripe, url)


def test_a_person_pays_on_the_providers_page_and_the_case_is_paid(
    paying: Paying, browser: Browser
) -> None:
    fined = paying.fined
    page = browser.new_page(locale="en-US")
    page.goto(paying.portal_url)
    page.fill("#notice-number", fined.notice_number)
    page.fill("#pin", fined.pin)
    page.click("#open")
    expect(page.locator("#pay-button")).to_contain_text("Pay the fine: 200 USD")
    page.click("#pay-button")
    expect(page.locator("#amount")).to_have_text("200.00 USD")  # the provider's page
    page.click("#pay")
    expect(page.locator("#message")).to_contain_text("Thank you")
    expect(page.locator("#status")).to_have_text("Paid")
    expect(page.locator("#pay")).to_have_count(0)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "portal-paid.png"), full_page=True)
    assert paying.status() == Status.PAID and paying.paid_transitions() == 1
    with fined.site.store.session() as session:
        payment = session.scalar(select(Payment))
        assert payment is not None and payment.status == "paid"
        assert (payment.amount_minor, payment.currency) == (20000, "USD")
        received = session.scalar(
            select(func.count()).where(AuditEntry.action == "payment.received")
        )
    assert received == 1 and [status for _, status in paying.stripe.deliveries] == [200]


def started(paying: Paying) -> str:
    """Log in and press Pay twice (a double click): the provider's session id."""
    client = httpx.Client(base_url=paying.portal_url, follow_redirects=False)
    form = client.get("/").text
    token = form.split('name="csrf_token" value="')[1].split('"')[0]
    fined = paying.fined
    client.post(
        "/login", data={"notice_number": fined.notice_number, "pin": fined.pin, "csrf_token": token}
    )
    csrf = client.get("/case").text.split('name="csrf_token" value="')[1].split('"')[0]
    # A client's Host header does not choose where the provider sends the person back.
    first = client.post("/case/pay", data={"csrf_token": csrf}, headers={"Host": "phish.example"})
    second = client.post("/case/pay", data={"csrf_token": csrf})
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"], "one page per fine"
    assert len(paying.stripe.sessions) == 1
    (session,) = paying.stripe.sessions.values()
    assert session["success_url"] == f"{paying.portal_url}/case?paid=1"
    return next(iter(paying.stripe.sessions))


def notify(paying: Paying, body: bytes, signature: str) -> int:
    return httpx.post(
        f"{paying.portal_url}/payments/stripe",
        content=body,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    ).status_code


def test_forged_replayed_and_wrong_notifications_pay_nothing(paying: Paying) -> None:
    session_id = started(paying)
    stripe = paying.stripe
    stripe.sessions[session_id].update(status="complete", payment_status="paid")
    body = stripe.completed_event(session_id)
    assert notify(paying, body, stripe.signed(body, secret="whsec_somebody_else")) == 400
    assert notify(paying, body, stripe.signed(body, at=int(time.time()) - 3600)) == 400
    assert notify(paying, body, "t=1,v1=") == 400
    cheaper = json.loads(body)
    cheaper["data"]["object"]["amount_total"] = 100
    forged = json.dumps(cheaper).encode()
    assert notify(paying, forged, stripe.signed(forged)) == 200  # signed, but not the fine
    assert paying.status() == Status.APPROVED and paying.paid_transitions() == 0
    with paying.fined.site.store.session() as session:
        refused = session.scalar(select(func.count()).where(AuditEntry.action == "payment.refused"))
    assert refused == 1
    assert notify(paying, body, stripe.signed(body)) == 200
    assert notify(paying, body, stripe.signed(body)) == 200  # delivered again
    assert paying.status() == Status.PAID and paying.paid_transitions() == 1


def test_a_payment_provider_needs_its_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="needs secret_env and webhook_secret_env"):
        PaymentsConfig(provider="stripe")
    monkeypatch.delenv("UNSET_STRIPE_KEY", raising=False)
    config = PaymentsConfig(
        provider="stripe", secret_env="UNSET_STRIPE_KEY", webhook_secret_env="UNSET_STRIPE_KEY"
    )
    with pytest.raises(PaymentError, match="UNSET_STRIPE_KEY"):
        Stripe(config)


def test_a_debit_completes_unpaid_and_is_paid_when_it_settles(paying: Paying) -> None:
    """Stripe's delayed methods: `completed` with payment_status unpaid pays nothing; the later
    `async_payment_succeeded` pays the fine, once."""
    session_id = started(paying)
    stripe = paying.stripe
    stripe.sessions[session_id].update(status="complete", payment_status="unpaid")
    body = stripe.completed_event(session_id)
    assert notify(paying, body, stripe.signed(body)) == 200
    assert paying.status() == Status.APPROVED
    stripe.sessions[session_id].update(payment_status="paid")
    settled = json.loads(stripe.completed_event(session_id))
    settled["type"] = "checkout.session.async_payment_succeeded"
    data = json.dumps(settled).encode()
    assert notify(paying, data, stripe.signed(data)) == 200
    assert paying.status() == Status.PAID and paying.paid_transitions() == 1
