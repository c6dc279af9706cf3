"""Who is asking: logins, lockout, server-side sessions, roles and CSRF tokens.

Sessions live in the database, not in a signed cookie, so logout and an account lock end them
at once; the cookie carries a random token whose hash is the row's key, so a read of the
sessions table gives nobody a usable cookie. Every unsafe request must carry the session's CSRF
token (a form field or the `X-CSRF-Token` header); the login form, which has no session yet,
uses a double-submit cookie instead.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pipeline.config import ReviewConfig
from pipeline.store import audit
from pipeline.store.models import ID_LEN, LoginSession, Role, User, utcnow
from pipeline.store.registry import get_user
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
    LOCKED = "locked"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same_token(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def attempt_login(
    session: Session, name: str, password: str, config: ReviewConfig, ip: str | None
) -> tuple[LoginOutcome, User | None]:
    """Check a password, counting failures towards the lockout; every attempt is audited.

    An unknown name costs the same hashing time as a known one, so response times do not tell
    which names exist.
    """
    now = utcnow()
    user = get_user(session, name)
    subject = name[:ID_LEN]
    where = {"ip": ip}
    if user is None:
        verify_password(_DUMMY_HASH, password)
        audit.append(session, "anonymous", "login.failed", "user", subject, where)
        return LoginOutcome.WRONG, None
    if user.locked_until is not None and user.locked_until > now:
        audit.append(session, name, "login.refused_locked", "user", subject, where)
        return LoginOutcome.LOCKED, None
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        audit.append(
            session,
            name,
            "login.failed",
            "user",
            subject,
            {**where, "failures": user.failed_logins},
        )
        if user.failed_logins >= config.max_failed_logins:
            user.locked_until = now + timedelta(minutes=config.lockout_minutes)
            user.failed_logins = 0
            session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
            audit.append(
                session,
                "system:review",
                "user.locked",
                "user",
                subject,
                {
                    "until": user.locked_until.isoformat(),
                    "after_failures": config.max_failed_logins,
                },
            )
            return LoginOutcome.LOCKED, None
        return LoginOutcome.WRONG, None
    user.failed_logins = 0
    user.locked_until = None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    audit.append(session, name, "login", "user", subject, where)
    return LoginOutcome.OK, user


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
    """The session's user, or None when the token is unknown, expired, idle or its user locked."""
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
    locked = user.locked_until is not None and user.locked_until > now
    if login.expires_at <= now or login.last_seen_at <= idle_since or locked:
        session.delete(login)
        return None
    if now - login.last_seen_at >= TOUCH_EVERY:
        login.last_seen_at = now
    return Viewer(user.id, user.name, Role(user.role), login.csrf_token, login.token_hash)
