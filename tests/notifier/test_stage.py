"""From an approval to a notice on disk, on SQLite and PostgreSQL: the approval's announcement
is relayed from the event outbox, the notify stage writes one notice in the person's language,
the sender hands it to the file gateway. Unsendable notices are kept for a person, not sent."""

import json
from pathlib import Path

from sqlalchemy import select

from notifier.file_gateway import FileGateway
from notifier.sender import Sender
from notifier.stage import NoticeStage
from notifier.templates import NoticeTemplates
from pipeline.bus import MemoryBus
from pipeline.config import NotifierConfig
from pipeline.events import CITATIONS_APPROVED
from pipeline.notices import is_notice_number, pin_for
from pipeline.outbox import relay_once
from pipeline.store import Role, Status, Store, create_citation
from pipeline.store.models import Citation, SmsOutbox, SmsStatus
from pipeline.store.registry import add_user, put_camera, put_person, record_violation
from review.auth import Viewer
from review.cases import RejectReason, approve, reject
from tests.stage_helpers import violation_event

CONFIG = NotifierConfig(default_region="CN")
PIN_KEY = bytes(range(32))


def approved(store: Store, name: str, person: tuple[str, str | None, str | None] | None) -> str:
    """A citation for `person` (id, phone, language), approved by a reviewer."""
    event = violation_event(f"v-notice-{name}")
    with store.session() as session:
        put_camera(session, event.camera_id, event.camera_id, "Renmin Rd & 3rd St")
        record_violation(session, event)
        person_id = None
        if person is not None:
            person_id, phone, language = person
            put_person(session, person_id, name, phone=phone, language=language)
        citation = create_citation(
            session, event.violation_id, citation_id=f"c-{name}", person_id=person_id
        )
        add_user(session, f"rev-{name}", "x", Role.REVIEWER)
        approve(session, citation.id, f"rev-{name}")
        return citation.id


def deliver(store: Store, outbox: Path) -> Sender:
    """Relay the approvals, let the notify stage queue notices, send them."""
    bus = MemoryBus()
    stage = NoticeStage(store, CONFIG, NoticeTemplates(CONFIG), PIN_KEY)
    consumer = bus.subscribe(CITATIONS_APPROVED, stage.group, stage.handle)
    relay_once(store, bus)
    while consumer.poll(0.05):
        pass
    consumer.close()
    sender = Sender(store, FileGateway(outbox), CONFIG)
    sender.send_due()
    return sender


def notices(store: Store) -> dict[str, SmsOutbox]:
    with store.session() as session:
        rows = session.scalars(select(SmsOutbox)).all()
        for row in rows:
            session.expunge(row)
        return {row.citation_id: row for row in rows}


def test_an_approval_becomes_one_notice_in_the_persons_language(
    store: Store, tmp_path: Path
) -> None:
    zhang = approved(store, "张伟明", ("P1", "138 0013 8000", "zh-CN"))
    smith = approved(store, "Jo {{ 7*7 }} Smith", ("P2", "+44 7911 123456", "en-GB"))
    deliver(store, tmp_path / "sms")
    deliver(store, tmp_path / "sms")  # a redelivered approval and a second sender pass
    rows = notices(store)
    assert rows[zhang].recipient == "+8613800138000" and rows[zhang].language == "zh-CN"
    assert rows[smith].recipient == "+447911123456" and rows[smith].language == "en"
    files = {json.loads(p.read_text("utf-8"))["to"]: p for p in (tmp_path / "sms").glob("*.json")}
    assert set(files) == {"+8613800138000", "+447911123456"}, "one file per notice"
    chinese = json.loads(files["+8613800138000"].read_text("utf-8"))["body"]
    english = json.loads(files["+447911123456"].read_text("utf-8"))["body"]
    with store.session() as session:
        statuses = set(session.scalars(select(Citation.status)))
        numbers = {c.id: c.notice_number for c in session.scalars(select(Citation))}
    assert statuses == {Status.NOTIFIED}
    for body, citation in ((chinese, zhang), (english, smith)):
        number = numbers[citation]
        assert number is not None and is_notice_number(number) and number in body
        assert pin_for(PIN_KEY, number) in body and CONFIG.portal_url in body
    assert "张伟明" in chinese and "机动车在红灯亮起1.8秒后越过停止线（闯红灯）" in chinese
    assert "Jo {{ 7*7 }} Smith" in english and "49" not in english.split("Smith")[0]
    assert "the car crossed the stop line 1.8 s after the light turned red" in english


def test_a_malformed_phone_or_nobody_is_flagged_and_nothing_sent(
    store: Store, tmp_path: Path
) -> None:
    bad = approved(store, "Bad Number", ("P3", "12345", "en"))
    nobody = approved(store, "Nobody", None)
    deliver(store, tmp_path / "sms")
    rows = notices(store)
    assert rows[bad].status == SmsStatus.UNSENDABLE and "12345" in (rows[bad].last_error or "")
    assert rows[nobody].status == SmsStatus.UNSENDABLE
    assert "nobody identified" in (rows[nobody].last_error or "")
    assert not (tmp_path / "sms").exists(), "nothing sent"
    with store.session() as session:
        statuses = set(session.scalars(select(Citation.status)))
    assert statuses == {Status.APPROVED}


def test_no_notice_exists_for_a_citation_never_approved(store: Store, tmp_path: Path) -> None:
    """Rejected, pending and reopened cases announce nothing the notify stage acts on."""
    approved(store, "Approved Person", ("P7", "+8613800138007", "zh-CN"))
    for name, decide in (("Rejected", True), ("Pending", False)):
        event = violation_event(f"v-never-{name}")
        with store.session() as session:
            record_violation(session, event)
            put_person(session, f"P-{name}", name, phone="+8613800138008", language="en")
            citation = create_citation(
                session, event.violation_id, citation_id=f"c-{name}", person_id=f"P-{name}"
            )
            if decide:
                add_user(session, "rev-never", "x", Role.REVIEWER)
                reject(session, citation.id, viewer("rev-never"), RejectReason.DUPLICATE)
    deliver(store, tmp_path / "sms")
    rows = notices(store)
    assert set(rows) == {"c-Approved Person"}, "only the approved citation has a notice"
    assert len(list((tmp_path / "sms").glob("*.json"))) == 1


def viewer(name: str) -> Viewer:
    return Viewer(user_id=0, name=name, role=Role.REVIEWER, csrf_token="", token_hash="")
