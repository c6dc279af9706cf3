"""The smpp gateway against a real SMPP 3.4 peer on loopback (tests/notifier/smpp_server.py),
driven by the sender on SQLite and PostgreSQL: GSM-7 and UCS-2 notices reach the SMSC as sent,
long ones in concatenated parts, receipts mark citations notified, a refused number is dead, a
dropped link is retried on a new bind, and a wrong password says so."""

import time
from collections.abc import Callable, Iterator

import pytest

from notifier.gateway import PermanentFailure, Sms, TemporaryFailure
from notifier.segments import count_segments
from notifier.sender import Sender
from notifier.smpp_gateway import SmppBindRefused, SmppGateway
from pipeline.config import NotifierConfig
from pipeline.store import Status, Store
from pipeline.store.models import SmsStatus
from tests.notifier.helpers import Clock, approved_citation, row_of, status_of
from tests.notifier.smpp_server import SmppServer

CHINESE = "您好，您的车辆于路口闯红灯，罚款200元。"
ENGLISH = "Stopline: your vehicle ran a red light; fine 200 CNY. Pay at pay.example/cit-1"
LONG_ENGLISH = ("Stopline notice {cit-2}: your vehicle crossed the stop line on red. " * 5).strip()


@pytest.fixture
def smsc() -> Iterator[SmppServer]:
    server = SmppServer(
        bad_destinations=frozenset({"8613800000000"}), undeliverable=frozenset({"8613900000000"})
    )
    yield server
    server.close()


@pytest.fixture
def config(smsc: SmppServer, monkeypatch: pytest.MonkeyPatch) -> NotifierConfig:
    monkeypatch.setenv("TEST_SMPP_PASSWORD", smsc.password)
    return NotifierConfig(
        gateway="smpp",
        url=smsc.url,
        account=smsc.system_id,
        secret_env="TEST_SMPP_PASSWORD",
        sender_id="STOPLINE",
        timeout_s=2.0,
    )


@pytest.fixture
def gateway(config: NotifierConfig) -> Iterator[SmppGateway]:
    opened = SmppGateway(config)
    yield opened
    opened.close()


def collect_until(sender: Sender, done: Callable[[], bool], within_s: float = 5.0) -> None:
    """Receipts (and the SMSC's reading of our answers) come in their own time: keep reading
    until `done`, for a bounded while."""
    deadline = time.monotonic() + within_s
    while not done():
        assert time.monotonic() < deadline, f"no receipt within {within_s} s"
        sender.collect_receipts()
        time.sleep(0.02)


def test_ucs2_and_gsm7_notices_arrive_and_receipts_notify(
    store: Store, smsc: SmppServer, gateway: SmppGateway, config: NotifierConfig
) -> None:
    chinese = approved_citation(store, 0, "+8613800138000", CHINESE)
    english = approved_citation(store, 1, "+447700900123", ENGLISH)
    sender = Sender(store, gateway, config)
    assert sender.send_due() == 2
    by_destination = {m.destination: m for m in smsc.messages}
    assert set(by_destination) == {"8613800138000", "447700900123"}
    zh, en = by_destination["8613800138000"], by_destination["447700900123"]
    assert (zh.text, zh.data_coding, en.text, en.data_coding) == (CHINESE, 0x08, ENGLISH, 0x00)
    for message in (zh, en):
        assert (message.dest_ton, message.dest_npi) == (1, 1), "international, ISDN"
        assert (message.source, message.source_ton) == ("STOPLINE", 5), "alphanumeric sender"
        assert message.registered_delivery == 1 and message.concat is None
    assert row_of(store, chinese).gateway_message_id == zh.message_id
    collect_until(sender, lambda: status_of(store, english) == Status.NOTIFIED)
    collect_until(sender, lambda: status_of(store, chinese) == Status.NOTIFIED)
    assert row_of(store, chinese).status == row_of(store, english).status == SmsStatus.DELIVERED
    collect_until(sender, lambda: len(smsc.receipt_answers) == 2)
    assert [status for _, status in smsc.receipt_answers] == [0, 0], "each receipt answered"


def test_a_long_notice_goes_in_parts_the_smsc_reassembles(
    store: Store, smsc: SmppServer, gateway: SmppGateway, config: NotifierConfig
) -> None:
    assert count_segments(LONG_ENGLISH).segments == 3
    citation = approved_citation(store, 2, "+447700900123", LONG_ENGLISH)
    sender = Sender(store, gateway, config)
    assert sender.send_due() == 1
    assert smsc.texts() == [LONG_ENGLISH]
    parts = smsc.messages
    assert [p.concat[1:] for p in parts if p.concat] == [(3, 1), (3, 2), (3, 3)]
    assert len({p.concat[0] for p in parts if p.concat}) == 1, "one reference"
    assert all(p.esm_class & 0x40 and p.data_coding == 0 for p in parts)
    assert row_of(store, citation).gateway_message_id == parts[-1].message_id
    collect_until(sender, lambda: status_of(store, citation) == Status.NOTIFIED)
    collect_until(sender, lambda: len(smsc.receipt_answers) == 3)


def test_an_invalid_destination_is_dead_and_never_delivered(
    store: Store, smsc: SmppServer, gateway: SmppGateway, config: NotifierConfig
) -> None:
    citation = approved_citation(store, 3, "+8613800000000", ENGLISH)
    sender = Sender(store, gateway, config)
    assert sender.send_due() == 1
    row = row_of(store, citation)
    assert row.status == SmsStatus.DEAD and "0x0B" in (row.last_error or "")
    assert smsc.messages == []
    assert sender.collect_receipts() == 0
    assert status_of(store, citation) == Status.APPROVED


def test_an_undelivered_receipt_fails_the_row_and_the_citation(
    store: Store, smsc: SmppServer, gateway: SmppGateway, config: NotifierConfig
) -> None:
    citation = approved_citation(store, 4, "+8613900000000", CHINESE)
    sender = Sender(store, gateway, config)
    assert sender.send_due() == 1
    collect_until(sender, lambda: row_of(store, citation).status == SmsStatus.FAILED)
    assert "stat:UNDELIV" in (row_of(store, citation).last_error or "")
    assert status_of(store, citation) == Status.DELIVERY_FAILED


def test_a_dropped_link_is_a_temporary_failure_and_the_retry_binds_again(
    store: Store, smsc: SmppServer, gateway: SmppGateway, config: NotifierConfig
) -> None:
    first = approved_citation(store, 5, "+447700900123", ENGLISH)
    second = approved_citation(store, 6, "+447700900124", ENGLISH)
    clock = Clock()
    sender = Sender(store, gateway, config, now=clock)
    smsc.drop_after = 1
    assert sender.send_due() == 2
    assert row_of(store, first).status == SmsStatus.SENT
    row = row_of(store, second)
    assert row.status == SmsStatus.PENDING and "may have taken" in (row.last_error or "")
    assert row.next_attempt_at is not None
    clock.at = row.next_attempt_at
    assert sender.send_due() == 1
    assert smsc.binds == 2 and [m.destination for m in smsc.messages][-1] == "447700900124"
    collect_until(sender, lambda: status_of(store, second) == Status.NOTIFIED)
    collect_until(sender, lambda: status_of(store, first) == Status.NOTIFIED)


def test_no_smsc_is_a_temporary_failure(config: NotifierConfig, smsc: SmppServer) -> None:
    smsc.close()
    gateway = SmppGateway(config)
    with pytest.raises(TemporaryFailure, match="cannot bind"):
        gateway.send(Sms("k", "+447700900123", ENGLISH))
    assert gateway.receipts([]) == [], "a dead link has nothing to report and does not raise"


def test_a_wrong_password_says_so_and_is_not_retried_to_death(
    config: NotifierConfig, smsc: SmppServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_SMPP_PASSWORD", "wrong")
    gateway = SmppGateway(config)
    with pytest.raises(SmppBindRefused, match="0x0E Invalid Password"):
        gateway.send(Sms("k", "+447700900123", ENGLISH))
    assert issubclass(SmppBindRefused, ValueError)
    assert not issubclass(SmppBindRefused, TemporaryFailure | PermanentFailure)
    assert smsc.refused_binds == ["stopline"] and smsc.messages == []


def test_a_missing_password_variable_fails_at_start_up(
    config: NotifierConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEST_SMPP_PASSWORD")
    with pytest.raises(ValueError, match="secret_env"):
        SmppGateway(config)
    with pytest.raises(ValueError, match="smpp://host:port"):
        SmppGateway(config.model_copy(update={"url": "http://127.0.0.1:2775"}))
