"""Writing notices into the SMS outbox: once per citation and notice type, whatever repeats.

The key `notice:<type>:<citation id>` is the row's unique key and the idempotency key handed to
the gateway, so a redelivered approval finds its row and a retried send is recognised by the
carrier. A notice that cannot be sent (nobody identified, no valid phone) is still a row, in
state `unsendable`, so the console shows it to a person instead of it vanishing.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.store import audit
from pipeline.store.models import SmsOutbox, SmsStatus, utcnow
from pipeline.store.rows import insert_once

FINE_NOTICE = "fine"
ACTOR = "system:notifier"


def notice_key(citation_id: str, notice_type: str = FINE_NOTICE) -> str:
    return f"notice:{notice_type}:{citation_id}"


def enqueue_notice(
    session: Session,
    citation_id: str,
    recipient: str,
    language: str,
    body: str,
    segments: int,
    notice_type: str = FINE_NOTICE,
) -> tuple[SmsOutbox, bool]:
    """The notice's outbox row, made due now if new; True when this call wrote it."""
    row, created = _once(
        session,
        citation_id,
        notice_type,
        recipient=recipient,
        language=language,
        body=body,
        segments=segments,
        status=SmsStatus.PENDING,
        next_attempt_at=utcnow(),
    )
    if created:
        detail = {"to": recipient, "language": language, "segments": segments}
        audit.append(session, ACTOR, "sms.queued", "citation", citation_id, detail)
    return row, created


def enqueue_unsendable(
    session: Session, citation_id: str, why: str, notice_type: str = FINE_NOTICE
) -> tuple[SmsOutbox, bool]:
    """Record that the notice cannot go out, for a person to resolve; nothing is sent."""
    row, created = _once(
        session, citation_id, notice_type, status=SmsStatus.UNSENDABLE, last_error=why
    )
    if created:
        audit.append(session, ACTOR, "sms.unsendable", "citation", citation_id, {"why": why})
    return row, created


def _once(
    session: Session, citation_id: str, notice_type: str, **values: object
) -> tuple[SmsOutbox, bool]:
    key = notice_key(citation_id, notice_type)
    return insert_once(
        session,
        lambda: session.scalar(select(SmsOutbox).where(SmsOutbox.idempotency_key == key)),
        lambda: SmsOutbox(
            idempotency_key=key,
            citation_id=citation_id,
            notice_type=notice_type,
            attempts=0,
            **values,
        ),
    )
