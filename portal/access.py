"""Who is asking: a fined person, by notice number and PIN, for one citation only.

A portal login opens exactly one case and nothing of the console: its sessions are a table of
their own and its cookie another name. PIN guessing is throttled by notice number and by client
address (`pipeline.store.throttles`); a malformed number, an unknown one and a wrong PIN get the
same answer, so the portal never tells whether a notice number exists.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pipeline.config import PortalConfig
from pipeline.notices import is_notice_number, pin_matches
from pipeline.store import audit
from pipeline.store.citizen import PortalSession
from pipeline.store.models import Citation, utcnow
from pipeline.store.throttles import Limit, Throttle
from pipeline.tokens import token_hash

COOKIE = "stopline_portal"
LOGIN_COOKIE = "stopline_portal_login"
"""Double-submit CSRF token of the login form, which has no session yet."""
THROTTLE_WINDOW = timedelta(days=1)
"""Counters idle this long are dropped."""


class Outcome(StrEnum):
    OK = "ok"
    WRONG = "wrong"
    WAIT = "wait"


@dataclass(frozen=True)
class Visitor:
    citation_id: str
    notice_number: str
    csrf_token: str
    token_hash: str

    @property
    def actor(self) -> str:
        """How the audit log names the person: by notice, never by a name they typed."""
        return f"citizen:{self.notice_number}"


@dataclass(frozen=True)
class Attempt:
    outcome: Outcome
    citation_id: str | None = None
    wait_s: float = 0.0


def normalised(notice_number: str) -> str:
    """As printed (`1234 5678 903`) or typed with dashes: the digits."""
    return re.sub(r"[\s\-]", "", notice_number)[:32]


def attempt(
    session: Session,
    notice_number: str,
    pin: str,
    key: bytes,
    config: PortalConfig,
    address: str | None,
    now: datetime | None = None,
) -> Attempt:
    """Check a notice number and PIN; every attempt is audited under the number tried."""
    now = now or utcnow()
    number = normalised(notice_number)
    limits = [
        Limit(
            "portal-address",
            address or "unknown",
            config.max_failed_pins_per_address,
            config.pin_wait_max_s,
        ),
        Limit("notice", number, config.max_failed_pins, config.pin_wait_max_s),
    ]
    throttle = Throttle(session, limits, THROTTLE_WINDOW, now)
    where = {"ip": address}
    if throttle.wait_s > 0:
        # Not audited one by one: the counters hold it, and a stranger's flood of tries must
        # not grow the hash-chained log (nor queue on its lock).
        return Attempt(Outcome.WAIT, wait_s=throttle.wait_s)
    citation_id = None
    if is_notice_number(number):
        citation_id = session.scalar(select(Citation.id).where(Citation.notice_number == number))
    if citation_id is None or not pin_matches(key, number, pin):
        failures = throttle.failed()
        audit.append(
            session, "anonymous", "portal.login_failed", "notice", number, where | failures
        )
        return Attempt(Outcome.WRONG)
    throttle.passed()
    audit.append(session, f"citizen:{number}", "portal.login", "citation", citation_id, where)
    return Attempt(Outcome.OK, citation_id)


def open_session(
    session: Session, citation_id: str, config: PortalConfig, now: datetime | None = None
) -> str:
    """A new login for the citation; returns the cookie's token (only its hash is stored)."""
    now = now or utcnow()
    session.execute(delete(PortalSession).where(PortalSession.expires_at < now))
    token = secrets.token_urlsafe(32)
    session.add(
        PortalSession(
            token_hash=token_hash(token),
            citation_id=citation_id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + timedelta(minutes=config.session_minutes),
        )
    )
    return token


def find_visitor(
    session: Session, token: str | None, now: datetime | None = None
) -> Visitor | None:
    if not token:
        return None
    row = session.get(PortalSession, token_hash(token))
    if row is None or row.expires_at <= (now or utcnow()):
        return None
    citation = session.get(Citation, row.citation_id)
    if citation is None or citation.notice_number is None:
        return None
    return Visitor(row.citation_id, citation.notice_number, row.csrf_token, row.token_hash)


def close_session(session: Session, visitor: Visitor) -> None:
    session.execute(delete(PortalSession).where(PortalSession.token_hash == visitor.token_hash))
