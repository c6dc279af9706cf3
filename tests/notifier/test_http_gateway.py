"""The sender through the http gateway against a real local Twilio-like server, on SQLite and
PostgreSQL: one notice is one message on the carrier however the sending goes wrong (server
errors, an answer that comes too late, a worker killed between send and commit), a refused
number dies at once, and receipts turn `sent` into `delivered` or `failed`."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from notifier.gateway import Sms, TemporaryFailure
from notifier.gateways import make_gateway
from notifier.http_gateway import HttpGateway
from notifier.outbox import notice_key
from notifier.sender import LEASE_S, Sender
from pipeline.config import NotifierConfig
from pipeline.store import Status, Store
from pipeline.store.models import SmsStatus
from tests.notifier.helpers import Clock, approved_citation, row_of, status_of
from tests.notifier.twilio_server import WEBHOOK, TwilioServer

ROOT = Path(__file__).resolve().parents[2]
TOKEN_ENV = "STOPLINE_TEST_SMS_TOKEN"
FROM = "+15005550006"
TO = "+8613800138000"
"""The recipient `approved_citation` queues the notice for."""

# A worker that dies after the carrier accepted the message and before the outcome is
# committed: os._exit skips every cleanup, like a SIGKILL would.
DYING_WORKER = """
import os, sys
from notifier.http_gateway import HttpGateway
from notifier.sender import Sender
from pipeline.config import NotifierConfig
from pipeline.store import open_store

class DiesAfterSending(HttpGateway):
    def send(self, sms):
        super().send(sms)
        os._exit(1)

config = NotifierConfig.model_validate_json(sys.argv[2])
Sender(open_store(sys.argv[1]), DiesAfterSending(config, receipt_poll_s=0), config).send_due()
"""

OpenGateway = Callable[[NotifierConfig], HttpGateway]


@pytest.fixture
def twilio(monkeypatch: pytest.MonkeyPatch) -> Iterator[TwilioServer]:
    with TwilioServer() as server:
        monkeypatch.setenv(TOKEN_ENV, server.token)
        yield server


@pytest.fixture
def open_gateway() -> Iterator[OpenGateway]:
    """Gateways that poll receipts on every call (tests cannot wait 30 s), closed after."""
    opened: list[HttpGateway] = []

    def open_(config: NotifierConfig) -> HttpGateway:
        opened.append(HttpGateway(config, receipt_poll_s=0))
        return opened[-1]

    yield open_
    for gateway in opened:
        gateway.close()


def twilio_config(server: TwilioServer, **changes: object) -> NotifierConfig:
    return NotifierConfig.model_validate(
        {
            "gateway": "http",
            "http_api": "twilio",
            "url": server.url,
            "account": server.account,
            "secret_env": TOKEN_ENV,
            "sender_id": FROM,
            "rate_per_s": 1000.0,
            **changes,
        }
    )


def test_a_notice_is_one_twilio_message_and_its_receipt_notifies(
    store: Store, twilio: TwilioServer, open_gateway: OpenGateway
) -> None:
    citation = approved_citation(store)
    config = twilio_config(twilio)
    sender = Sender(store, open_gateway(config), config)
    assert sender.send_due() == 1
    [message] = twilio.delivered()
    assert (message.to, message.from_, message.body) == (TO, FROM, "您好 notice")
    assert message.idempotency_key == notice_key(citation)
    assert re.fullmatch(r"SM[0-9a-f]{32}", message.sid)
    row = row_of(store, citation)
    assert row.status == SmsStatus.SENT and row.gateway_message_id == message.sid
    assert status_of(store, citation) == Status.APPROVED, "accepted is not yet delivered"
    assert sender.collect_receipts() == 1
    assert row_of(store, citation).status == SmsStatus.DELIVERED
    assert status_of(store, citation) == Status.NOTIFIED
    assert sender.collect_receipts() == 0, "a final status is not polled again"


def test_a_restarted_sender_polls_the_receipts_the_store_still_waits_on(
    store: Store, twilio: TwilioServer, open_gateway: OpenGateway
) -> None:
    citation = approved_citation(store)
    config = twilio_config(twilio)
    Sender(store, open_gateway(config), config).send_due()  # then this process goes away
    assert row_of(store, citation).status == SmsStatus.SENT
    restarted = Sender(store, open_gateway(config), config)
    assert restarted.collect_receipts() == 1
    assert status_of(store, citation) == Status.NOTIFIED


def test_server_errors_are_retried_until_one_message_goes_out(
    store: Store, twilio: TwilioServer, open_gateway: OpenGateway
) -> None:
    citation = approved_citation(store)
    twilio.fail_posts = 3
    clock = Clock()
    config = twilio_config(twilio)
    sender = Sender(store, open_gateway(config), config, now=clock)
    for attempt in (1, 2, 3):
        assert sender.send_due() == 1
        row = row_of(store, citation)
        assert row.status == SmsStatus.PENDING and row.attempts == attempt
        assert "HTTP 500" in (row.last_error or "")
        assert sender.send_due() == 0, "not due before its backoff"
        assert row.next_attempt_at is not None
        clock.at = row.next_attempt_at
    assert sender.send_due() == 1
    assert len(twilio.posts()) == 4 and len(twilio.delivered()) == 1
    row = row_of(store, citation)
    assert row.status == SmsStatus.SENT and row.attempts == 4 and row.last_error is None
    assert sender.collect_receipts() == 1
    assert row_of(store, citation).status == SmsStatus.DELIVERED


def test_an_answer_too_late_is_retried_under_the_same_token_and_sent_once(
    store: Store, twilio: TwilioServer, open_gateway: OpenGateway
) -> None:
    citation = approved_citation(store)
    twilio.slow_posts, twilio.slow_s = 1, 1.5
    clock = Clock()
    config = twilio_config(twilio, timeout_s=0.5)
    sender = Sender(store, open_gateway(config), config, now=clock)
    assert sender.send_due() == 1
    row = row_of(store, citation)
    assert row.status == SmsStatus.PENDING and "in time" in (row.last_error or "")
    assert len(twilio.delivered()) == 1, "the carrier accepted it before the client gave up"
    assert row.next_attempt_at is not None
    clock.at = row.next_attempt_at
    assert sender.send_due() == 1
    first, second = twilio.posts()
    key = notice_key(citation)
    assert first.headers["I-Twilio-Idempotency-Token"] == key
    assert second.headers["I-Twilio-Idempotency-Token"] == key
    [message] = twilio.delivered()
    row = row_of(store, citation)
    assert row.status == SmsStatus.SENT and row.gateway_message_id == message.sid
    assert sender.collect_receipts() == 1
    assert status_of(store, citation) == Status.NOTIFIED


def test_a_worker_killed_between_send_and_commit_resends_once_under_the_same_token(
    store: Store, database_url: str, twilio: TwilioServer, open_gateway: OpenGateway
) -> None:
    citation = approved_citation(store)
    config = twilio_config(twilio)
    died = subprocess.run(
        [sys.executable, "-c", DYING_WORKER, database_url, config.model_dump_json()],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert died.returncode == 1, died.stderr
    assert len(twilio.delivered()) == 1, "the carrier has it ..."
    row = row_of(store, citation)
    assert row.status == SmsStatus.SENDING and row.attempts == 1, "... the store does not"
    clock = Clock()
    restarted = Sender(store, open_gateway(config), config, now=clock)
    assert restarted.send_due() == 0, "the dead worker's lease still holds"
    clock.at += timedelta(seconds=LEASE_S + 1)
    assert restarted.send_due() == 1
    assert len(twilio.posts()) == 2
    [message] = twilio.delivered()
    row = row_of(store, citation)
    assert row.status == SmsStatus.SENT and row.attempts == 2
    assert row.gateway_message_id == message.sid
    assert restarted.collect_receipts() == 1
    assert row_of(store, citation).status == SmsStatus.DELIVERED
    assert status_of(store, citation) == Status.NOTIFIED


def test_an_invalid_number_is_dead_after_one_try(
    store: Store, monkeypatch: pytest.MonkeyPatch, open_gateway: OpenGateway
) -> None:
    citation = approved_citation(store)
    with TwilioServer(invalid=frozenset({TO})) as twilio:
        monkeypatch.setenv(TOKEN_ENV, twilio.token)
        config = twilio_config(twilio)
        sender = Sender(store, open_gateway(config), config)
        assert sender.send_due() == 1
        assert len(twilio.posts()) == 1 and twilio.delivered() == []
    row = row_of(store, citation)
    assert row.status == SmsStatus.DEAD and row.attempts == 1
    assert "HTTP 400" in (row.last_error or "") and "21211" in (row.last_error or "")
    assert status_of(store, citation) == Status.APPROVED


def test_an_undelivered_receipt_fails_the_row_and_the_citation(
    store: Store, monkeypatch: pytest.MonkeyPatch, open_gateway: OpenGateway
) -> None:
    citation = approved_citation(store)
    with TwilioServer(undeliverable=frozenset({TO}), hold_receipts=True) as twilio:
        monkeypatch.setenv(TOKEN_ENV, twilio.token)
        config = twilio_config(twilio)
        sender = Sender(store, open_gateway(config), config)
        assert sender.send_due() == 1
        assert sender.collect_receipts() == 0, "still 'sent': polled again later"
        twilio.hold_receipts = False  # the carrier gives up on the number
        assert sender.collect_receipts() == 1
        assert twilio.delivered() == []
    row = row_of(store, citation)
    assert row.status == SmsStatus.FAILED and "30003" in (row.last_error or "")
    assert status_of(store, citation) == Status.DELIVERY_FAILED


def test_the_webhook_gets_json_the_key_and_the_bearer_token(
    store: Store, twilio: TwilioServer, open_gateway: OpenGateway
) -> None:
    citation = approved_citation(store)
    config = twilio_config(twilio, http_api="webhook", url=twilio.url + WEBHOOK, account=None)
    sender = Sender(store, open_gateway(config), config)
    assert sender.send_due() == 1
    [request] = twilio.posts()
    assert request.path == WEBHOOK
    assert request.headers["Idempotency-Key"] == notice_key(citation)
    assert request.headers["Authorization"] == f"Bearer {twilio.token}"
    [message] = twilio.delivered()
    assert (message.to, message.from_, message.body) == (TO, FROM, "您好 notice")
    row = row_of(store, citation)
    assert row.status == SmsStatus.SENT and row.gateway_message_id == message.sid


def test_configuration_mistakes_are_said_at_start(
    twilio: TwilioServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = twilio_config(twilio)
    gateway = make_gateway(config, tmp_path)
    assert isinstance(gateway, HttpGateway)
    gateway.close()
    monkeypatch.delenv(TOKEN_ENV)
    with pytest.raises(ValueError, match=TOKEN_ENV):
        make_gateway(config, tmp_path)
    with pytest.raises(ValueError, match="sender_id"):
        HttpGateway(twilio_config(twilio, sender_id=None, secret_env=None))
    with pytest.raises(ValueError, match="smpp://"):
        make_gateway(NotifierConfig(gateway="smpp"), tmp_path)


def test_an_unreachable_carrier_is_a_temporary_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    with TwilioServer() as gone:
        config = twilio_config(gone)
        monkeypatch.setenv(TOKEN_ENV, gone.token)
    gateway = HttpGateway(config)
    try:
        with pytest.raises(TemporaryFailure, match="cannot reach"):
            gateway.send(Sms("notice:fine:x", TO, "hello"))
    finally:
        gateway.close()
