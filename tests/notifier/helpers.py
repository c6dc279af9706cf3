"""Approved citations with their notice due, and readers of what the sender did."""

from datetime import datetime

from sqlalchemy import select

from notifier.outbox import enqueue_notice
from notifier.segments import count_segments
from pipeline.store import Role, Status, Store, create_citation, transition
from pipeline.store.models import Citation, SmsOutbox, utcnow
from pipeline.store.registry import add_user, put_camera, record_violation
from tests.stage_helpers import violation_event


def approved_citation(
    store: Store, n: int = 0, phone: str = "+8613800138000", body: str = "您好 notice"
) -> str:
    """An approved citation whose notice waits in the outbox, due now."""
    event = violation_event(f"v-notice-{n}")
    with store.session() as session:
        put_camera(session, event.camera_id, event.camera_id)
        record_violation(session, event)
        citation = create_citation(session, event.violation_id, citation_id=f"cit-{n}")
        add_user(session, f"rita-{n}", "x", Role.REVIEWER)
        transition(session, citation.id, Status.APPROVED, f"rita-{n}", "ok")
        count = count_segments(body)
        language = "en" if count.encoding == "GSM-7" else "zh-CN"
        enqueue_notice(session, citation.id, phone, language, body, count.segments)
        return citation.id


class Clock:
    def __init__(self) -> None:
        self.at = utcnow()

    def __call__(self) -> datetime:
        return self.at


def row_of(store: Store, citation_id: str) -> SmsOutbox:
    with store.session() as session:
        row = session.scalar(select(SmsOutbox).where(SmsOutbox.citation_id == citation_id))
        assert row is not None
        session.expunge(row)
        return row


def status_of(store: Store, citation_id: str) -> str:
    with store.session() as session:
        return session.scalar(select(Citation.status).where(Citation.id == citation_id))
