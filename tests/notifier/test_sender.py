"""The sender against the file gateway (real files) on SQLite and PostgreSQL: one file per
notice however often it is sent, a sender killed between sending and recording resends under
the same key (still one file), retries back off, and nothing goes out for a citation that is
no longer approved."""

import json
import random
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from notifier.file_gateway import FileGateway
from notifier.outbox import enqueue_unsendable, notice_key
from notifier.sender import LEASE_S, Sender, backoff_s
from pipeline.config import NotifierConfig
from pipeline.store import Role, Status, Store, create_citation, transition
from pipeline.store.models import AuditEntry, SmsStatus
from pipeline.store.registry import add_user, record_violation
from tests.notifier.helpers import Clock, approved_citation, row_of, status_of
from tests.stage_helpers import violation_event


def test_a_notice_becomes_one_file_and_the_citation_notified(store: Store, tmp_path: Path) -> None:
    citation = approved_citation(store)
    sender = Sender(store, FileGateway(tmp_path / "sms"), NotifierConfig())
    assert sender.send_due() == 1
    assert sender.send_due() == 0
    [written] = (tmp_path / "sms").glob("*.json")
    record = json.loads(written.read_text(encoding="utf-8"))
    assert record["to"] == "+8613800138000" and record["body"] == "您好 notice"
    assert record["idempotency_key"] == notice_key(citation)
    assert row_of(store, citation).status == SmsStatus.DELIVERED
    assert status_of(store, citation) == Status.NOTIFIED
    with store.session() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.subject_id == citation)
        ).all()
    assert "sms.queued" in actions and "sms.sent" in actions


def test_a_sender_killed_after_sending_resends_under_the_same_key(
    store: Store, tmp_path: Path
) -> None:
    citation = approved_citation(store)
    clock = Clock()
    gateway = FileGateway(tmp_path / "sms")
    dying = Sender(store, gateway, NotifierConfig(), now=clock)
    [(_, sms)] = dying._claim(10)  # claimed and committed ...
    gateway.send(sms)  # ... sent, and the process dies before recording it
    assert row_of(store, citation).status == SmsStatus.SENDING
    restarted = Sender(store, gateway, NotifierConfig(), now=clock)
    assert restarted.send_due() == 0, "the lease still holds"
    clock.at += timedelta(seconds=LEASE_S + 1)
    assert restarted.send_due() == 1, "the lease ran out: sent again"
    assert len(list((tmp_path / "sms").glob("*.json"))) == 1, "same key, same message"
    row = row_of(store, citation)
    assert row.status == SmsStatus.DELIVERED and row.attempts == 2
    assert status_of(store, citation) == Status.NOTIFIED


def test_failures_back_off_then_die(store: Store, tmp_path: Path) -> None:
    citation = approved_citation(store)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the outbox folder should be")
    clock = Clock()
    sender = Sender(store, FileGateway(blocked), NotifierConfig(max_attempts=3), now=clock)
    for attempt in (1, 2, 3):
        assert sender.send_due() == 1, attempt
        row = row_of(store, citation)
        if attempt < 3:
            assert row.status == SmsStatus.PENDING and row.attempts == attempt
            assert row.next_attempt_at is not None and row.next_attempt_at > clock.at
            assert sender.send_due() == 0, "not due before its backoff"
            clock.at = row.next_attempt_at
    row = row_of(store, citation)
    assert row.status == SmsStatus.DEAD and "cannot write" in (row.last_error or "")
    assert status_of(store, citation) == Status.APPROVED, "not notified"


def test_backoff_doubles_with_jitter_and_a_cap() -> None:
    rng = random.Random(7)
    delays = [backoff_s(n, rng) for n in range(1, 12)]
    assert 1.0 <= delays[0] <= 2.0 and 8.0 <= delays[3] <= 16.0
    assert max(delays) <= 600.0


def test_nothing_goes_out_for_a_citation_no_longer_approved(store: Store, tmp_path: Path) -> None:
    citation = approved_citation(store)
    with store.session() as session:
        add_user(session, "sam", "x", Role.SUPERVISOR)
        transition(session, citation, Status.NOTIFIED, "system:test")
        transition(session, citation, Status.APPEALED, "system:test")
        transition(session, citation, Status.DISMISSED, "sam", "signal fault")
    sender = Sender(store, FileGateway(tmp_path / "sms"), NotifierConfig())
    assert sender.send_due() == 0
    assert not (tmp_path / "sms").exists()
    assert row_of(store, citation).status == SmsStatus.DEAD


def test_an_unsendable_notice_is_kept_for_a_person(store: Store, tmp_path: Path) -> None:
    citation = approved_citation(store)
    with store.session() as session:
        _, created = enqueue_unsendable(session, citation, "no valid phone: +12")
        assert not created, "the notice already has its row: one per citation"
    event = violation_event("v-sender-5")
    with store.session() as session:
        record_violation(session, event)
        other = create_citation(session, event.violation_id, citation_id="cit-5").id
        enqueue_unsendable(session, other, "nobody identified")
    sender = Sender(store, FileGateway(tmp_path / "sms"), NotifierConfig())
    assert sender.send_due() == 1
    assert row_of(store, other).status == SmsStatus.UNSENDABLE
