"""The sender: delivers SMS outbox rows through a gateway, exactly once as far as it can tell.

A row is claimed (status `sending`, attempts + 1, a lease until `next_attempt_at`) and committed
before the gateway is called, and its outcome is committed after. A sender that dies in between
leaves the row `sending`; once the lease ends, any sender claims it again and sends it with the
same idempotency key, which the gateway uses to drop the second copy. Failures worth a retry
wait an exponentially growing, jittered delay; after `max_attempts` tries, or a permanent
refusal, the row is `dead` and shows in the console. Only a citation that is still approved
(or already on a billboard) is ever sent: a dismissal before the send cancels it.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from notifier.gateway import (
    Accepted,
    DeliveryReport,
    Gateway,
    PermanentFailure,
    Sms,
    TemporaryFailure,
)
from notifier.outbox import ACTOR
from pipeline.config import NotifierConfig
from pipeline.store import Status, Store, audit, transition
from pipeline.store.models import Citation, SmsOutbox, SmsStatus, utcnow

log = logging.getLogger(__name__)

SENDABLE = (Status.APPROVED, Status.DISPLAYED)
"""Citation states whose notice may go out."""
NOTIFIABLE = (*SENDABLE, Status.DELIVERY_FAILED)
"""Citation states a delivered notice makes `notified` (a late receipt clears a failure)."""
LEASE_S = 60.0
"""How long a claimed row is a sender's own; longer than any gateway call's timeout."""
BACKOFF_INITIAL_S = 2.0
BACKOFF_MAX_S = 600.0
POLL_S = 0.2


@dataclass
class SendStats:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    cancelled: int = 0


class RateLimit:
    """At most `per_s` calls a second, spaced evenly (a carrier's contract is per second)."""

    def __init__(self, per_s: float) -> None:
        self.interval = 1.0 / per_s
        self.next_at = 0.0

    def wait(self) -> None:
        now = time.monotonic()
        if self.next_at > now:
            time.sleep(self.next_at - now)
        self.next_at = max(now, self.next_at) + self.interval


def backoff_s(attempts: int, rng: random.Random) -> float:
    """Delay after the `attempts`-th failed try: doubling, capped, with full jitter."""
    ceiling = min(BACKOFF_MAX_S, BACKOFF_INITIAL_S * 2 ** min(attempts - 1, 30))
    return ceiling * (0.5 + 0.5 * rng.random())


class Sender:
    def __init__(
        self,
        store: Store,
        gateway: Gateway,
        config: NotifierConfig,
        now: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.gateway = gateway
        self.config = config
        self.now = now
        self.rng = rng or random.Random()
        self.rate = RateLimit(config.rate_per_s)
        self.stats = SendStats()

    def run(self, stop: threading.Event) -> None:
        """Send and collect receipts until `stop`; a failed pass is logged and retried."""
        while not stop.is_set():
            try:
                busy = self.send_due() + self.collect_receipts()
            except Exception:
                log.exception("sms sender pass failed; retrying")
                busy = 0
            if not busy:
                stop.wait(POLL_S)

    def send_due(self, limit: int = 50) -> int:
        claimed = self._claim(limit)
        for row_id, sms in claimed:
            self.rate.wait()
            try:
                accepted = self.gateway.send(sms)
            except TemporaryFailure as exc:
                self._failed(row_id, str(exc), permanent=False)
            except PermanentFailure as exc:
                self._failed(row_id, str(exc), permanent=True)
            else:
                self._accepted(row_id, accepted)
        return len(claimed)

    def collect_receipts(self, limit: int = 100) -> int:
        with self.store.session() as session:
            awaiting = session.scalars(
                select(SmsOutbox.gateway_message_id)
                .where(
                    SmsOutbox.status == SmsStatus.SENT,
                    SmsOutbox.gateway == self.gateway.name,
                    SmsOutbox.gateway_message_id.is_not(None),
                )
                .order_by(SmsOutbox.sent_at)
                .limit(limit)
            ).all()
        reports = self.gateway.receipts([m for m in awaiting if m is not None])
        for report in reports:
            self._receipt(report)
        return len(reports)

    # ------------------------------------------------------------ transactions

    def _claim(self, limit: int) -> list[tuple[int, Sms]]:
        now = self.now()
        with self.store.session() as session:
            rows = session.scalars(
                select(SmsOutbox)
                .where(
                    or_(
                        SmsOutbox.status == SmsStatus.PENDING,
                        SmsOutbox.status == SmsStatus.SENDING,  # a lease that ran out
                    ),
                    SmsOutbox.next_attempt_at <= now,
                )
                .order_by(SmsOutbox.next_attempt_at, SmsOutbox.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
            claimed = []
            for row in rows:
                if not self._still_sendable(session, row):
                    continue
                row.status = SmsStatus.SENDING
                row.attempts += 1
                row.gateway = self.gateway.name
                row.next_attempt_at = now + timedelta(seconds=LEASE_S)
                assert row.recipient is not None and row.body is not None
                claimed.append((row.id, Sms(row.idempotency_key, row.recipient, row.body)))
            return claimed

    def _still_sendable(self, session: Session, row: SmsOutbox) -> bool:
        status = session.scalar(select(Citation.status).where(Citation.id == row.citation_id))
        if status in SENDABLE:
            return True
        row.status = SmsStatus.DEAD
        row.last_error = f"not sent: the citation is {status}"
        audit.append(
            session, ACTOR, "sms.cancelled", "citation", row.citation_id, {"status": status}
        )
        self.stats.cancelled += 1
        return False

    def _accepted(self, row_id: int, accepted: Accepted) -> None:
        now = self.now()
        with self.store.session() as session:
            row = session.get(SmsOutbox, row_id)
            assert row is not None
            row.gateway_message_id = accepted.gateway_message_id
            row.sent_at = now
            row.last_error = None
            row.status = SmsStatus.DELIVERED if accepted.delivered else SmsStatus.SENT
            detail = {"gateway": row.gateway, "message_id": accepted.gateway_message_id}
            audit.append(session, ACTOR, "sms.sent", "citation", row.citation_id, detail)
            if accepted.delivered:
                row.delivered_at = now
                self._notified(session, row)
        self.stats.sent += 1

    def _failed(self, row_id: int, error: str, permanent: bool) -> None:
        with self.store.session() as session:
            row = session.get(SmsOutbox, row_id)
            assert row is not None
            row.last_error = error[:2000]
            if permanent or row.attempts >= self.config.max_attempts:
                row.status = SmsStatus.DEAD
                row.next_attempt_at = None
                detail = {"attempts": row.attempts, "error": row.last_error}
                audit.append(session, ACTOR, "sms.dead", "citation", row.citation_id, detail)
                self.stats.dead += 1
                log.warning(
                    "sms for %s dead after %d tries: %s", row.citation_id, row.attempts, error
                )
                return
            row.status = SmsStatus.PENDING
            row.next_attempt_at = self.now() + timedelta(seconds=backoff_s(row.attempts, self.rng))
            self.stats.retried += 1

    def _receipt(self, report: DeliveryReport) -> None:
        with self.store.session() as session:
            row = session.scalar(
                select(SmsOutbox).where(SmsOutbox.gateway_message_id == report.gateway_message_id)
            )
            if row is None or row.status not in (SmsStatus.SENT, SmsStatus.SENDING):
                return  # unknown, or a repeated receipt
            detail = {"message_id": report.gateway_message_id, "detail": report.detail}
            if report.delivered:
                row.status, row.delivered_at = SmsStatus.DELIVERED, self.now()
                audit.append(session, ACTOR, "sms.delivered", "citation", row.citation_id, detail)
                self._notified(session, row)
            else:
                row.status, row.last_error = SmsStatus.FAILED, report.detail
                audit.append(
                    session, ACTOR, "sms.delivery_failed", "citation", row.citation_id, detail
                )
                self._move(session, row, SENDABLE, Status.DELIVERY_FAILED, report.detail)

    def _notified(self, session: Session, row: SmsOutbox) -> None:
        self._move(session, row, NOTIFIABLE, Status.NOTIFIED, "sms delivered")

    def _move(
        self,
        session: Session,
        row: SmsOutbox,
        sources: tuple[Status, ...],
        target: Status,
        reason: str,
    ) -> None:
        """The citation follows its notice, unless it moved on meanwhile (e.g. dismissed)."""
        citation = session.get(Citation, row.citation_id)
        if citation is not None and citation.status in sources:
            transition(session, citation.id, target, ACTOR, reason)
