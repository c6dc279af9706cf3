"""Who is asking: logins, throttling, server-side sessions, roles and CSRF tokens.

Sessions live in the database, not in a signed cookie, so logout and disabling an account end
them at once; the cookie carries a random token whose hash is the row's key, so a read of the
sessions table gives nobody a usable cookie. Every unsafe request must carry the session's CSRF
token (a form field or the `X-CSRF-Token` header); the login form, which has no session yet,
uses a double-submit cookie instead.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pipeline.config import ReviewConfig
from pipeline.store import audit
from pipeline.store.models import ID_LEN, NAME_LEN, LoginSession, LoginThrottle, Role, User, utcnow
from pipeline.store.registry import get_user
from pipeline.store.throttles import Limit, Throttle
from pipeline.tokens import token_hash
from review.passwords import hash_password, needs_rehash, verify_password

SESSION_COOKIE = "stopline_session"
LOGIN_CSRF_COOKIE = "stopline_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
TOUCH_EVERY = timedelta(minutes=1)
"""`last_seen_at` is written at most this often: a page view should not always be a write."""
_DUMMY_HASH = hash_password("not-a-password-of-anyone")


@dataclass(frozen=True)
class Viewer:
    """The logged-in user behind a request."""

    user_id: int
    name: str
    role: Role
    csrf_token: str
    token_hash: str


class LoginOutcome(StrEnum):
    OK = "ok"
    WRONG = "wrong"
    WAIT = "wait"
    """Too many wrong passwords from this address or for this name: try again later."""


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    user: User | None = None
    wait_s: float = 0.0


def _throttle(
    session: Session, name: str, ip: str | None, config: ReviewConfig, now: datetime
) -> Throttle:
    """This attempt's counters: its client address's, then the name's."""
    window = timedelta(minutes=config.lockout_minutes)
    limits = [
        Limit(
            "address", ip or "unknown", config.max_failed_logins_per_address, window.total_seconds()
        ),
        Limit("account", name.casefold(), config.max_failed_logins, config.account_wait_max_s),
    ]
    return Throttle(session, limits, window, now)


def attempt_login(
    session: Session,
    name: str,
    password: str,
    config: ReviewConfig,
    ip: str | None,
    now: datetime | None = None,
) -> LoginResult:
    """Check a password, throttling by client address and by name; every attempt is audited.

    Wrong passwords slow the next try down (1 s, doubling) instead of locking the account, and
    never end its open sessions, so nobody can lock an officer out by guessing at their name;
    a name's wait stays short (`account_wait_max_s`), an address's grows to `lockout_minutes`.
    Unknown names are counted and answered exactly as known ones and cost the same hashing
    time, so neither the answers nor their timing tell which names exist.
    """
    now = now or utcnow()
    subject = name[:ID_LEN]
    where = {"ip": ip}
    throttle = _throttle(session, name, ip, config, now)
    if throttle.wait_s > 0:
        audit.append(session, "anonymous", "login.throttled", "user", subject, where)
        return LoginResult(LoginOutcome.WAIT, wait_s=throttle.wait_s)
    user = get_user(session, name)
    usable = user is not None and user.disabled_at is None
    if not verify_password(user.password_hash if usable else _DUMMY_HASH, password) or not usable:
        failures = throttle.failed()
        action = "login.refused_disabled" if user is not None and not usable else "login.failed"
        audit.append(session, "anonymous", action, "user", subject, {**where, **failures})
        return LoginResult(LoginOutcome.WRONG)
    assert user is not None
    throttle.passed()
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    audit.append(session, name, "login", "user", subject, where)
    return LoginResult(LoginOutcome.OK, user)


def open_session(session: Session, user: User, config: ReviewConfig) -> str:
    """A new session for `user`; returns the cookie token (stored only as its hash)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.execute(delete(LoginSession).where(LoginSession.expires_at <= now))
    session.add(
        LoginSession(
            token_hash=token_hash(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + timedelta(hours=config.session_hours),
            last_seen_at=now,
        )
    )
    return token


def close_session(session: Session, viewer: Viewer) -> None:
    session.execute(delete(LoginSession).where(LoginSession.token_hash == viewer.token_hash))
    audit.append(session, viewer.name, "logout", "user", viewer.name[:ID_LEN])


def find_viewer(session: Session, token: str | None, config: ReviewConfig) -> Viewer | None:
    """The session's user, or None when the token is unknown, expired, idle or its user disabled."""
    if not token:
        return None
    now = utcnow()
    row = session.execute(
        select(LoginSession, User)
        .join(User, User.id == LoginSession.user_id)
        .where(LoginSession.token_hash == token_hash(token))
    ).first()
    if row is None:
        return None
    login, user = row
    idle_since = now - timedelta(minutes=config.idle_minutes)
    if login.expires_at <= now or login.last_seen_at <= idle_since or user.disabled_at:
        session.delete(login)
        return None
    if now - login.last_seen_at >= TOUCH_EVERY:
        login.last_seen_at = now
    return Viewer(user.id, user.name, Role(user.role), login.csrf_token, login.token_hash)


def clear_wait(session: Session, name: str, actor: str) -> bool:
    """Forget the wrong passwords counted for a name (an admin's unlock); False if no such user."""
    if get_user(session, name) is None:
        return False
    session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.kind == "account", LoginThrottle.subject == name.casefold()[:NAME_LEN]
        )
    )
    audit.append(session, actor, "user.unlocked", "user", name[:ID_LEN])
    return True


def set_disabled(session: Session, name: str, disabled: bool, actor: str) -> bool:
    """Disable (ending its open sessions) or enable an account; False if no such user."""
    user = get_user(session, name)
    if user is None:
        return False
    user.disabled_at = utcnow() if disabled else None
    if disabled:
        session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    action = "user.disabled" if disabled else "user.enabled"
    audit.append(session, actor, action, "user", name[:ID_LEN])
    return True


def account_waits(session: Session) -> dict[str, datetime]:
    """Name (casefolded) -> until when its next login try must wait, for names that must."""
    rows = session.scalars(
        select(LoginThrottle).where(
            LoginThrottle.kind == "account", LoginThrottle.wait_until > utcnow()
        )
    )
    return {row.subject: row.wait_until for row in rows if row.wait_until is not None}
