"""`stopline users add`: console users with Argon2id hashes, passwords only from stdin."""

import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from pipeline.store import open_store
from pipeline.store.models import AuditEntry, LoginThrottle, User, utcnow
from review.passwords import needs_rehash, verify_password
from review.policy import NO_LOGIN
from tests.cli import COMMAND

PASSWORD = "correct horse battery"


def _add(site: Path, name: str, role: str, password: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, "users", "add", name, "--role", role, "--config", "site.yaml"],
        cwd=site,
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_user_is_stored_with_an_argon2id_hash_and_audited(site: Path) -> None:
    result = _add(site, "rita", "reviewer", PASSWORD)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "user rita added as reviewer"
    assert PASSWORD not in result.stdout + result.stderr
    store = open_store(f"sqlite:///{site / 'stopline.db'}")
    with store.session() as session:
        user = session.scalars(select(User)).one()
        assert (user.name, user.role) == ("rita", "reviewer")
        assert user.password_hash.startswith("$argon2id$")
        assert verify_password(user.password_hash, PASSWORD)
        assert not verify_password(user.password_hash, PASSWORD + "!")
        assert not needs_rehash(user.password_hash)
        added = session.scalars(select(AuditEntry).where(AuditEntry.action == "user_added")).one()
        assert (added.subject_id, added.detail) == ("rita", {"role": "reviewer"})
    store.close()


@pytest.mark.parametrize(
    ("name", "role", "password", "message"),
    [
        ("sam", "reviewer", "short", "password too short: at least 12 characters"),
        ("sam", "chief", PASSWORD, "'chief' is not one of"),
        ("rita", "admin", PASSWORD, "user 'rita' exists"),
        # Names that would read as the system in the audit log (issue 18).
        ("system:display", "reviewer", PASSWORD, "(which marks system actors)"),
        ("cli:root", "admin", PASSWORD, "(which marks system actors)"),
        ("auto-approve-policy", "reviewer", PASSWORD, "is the auto-approve policy's"),
        (" rita", "reviewer", PASSWORD, "starting with a letter or digit"),
        ("rita\tx", "reviewer", PASSWORD, "no control characters"),
    ],
)
def test_refusals_are_one_line_and_store_nothing(
    site: Path, name: str, role: str, password: str, message: str
) -> None:
    assert _add(site, "rita", "reviewer", PASSWORD).returncode == 0
    result = _add(site, name, role, password)
    assert result.returncode != 0 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    store = open_store(f"sqlite:///{site / 'stopline.db'}")
    with store.session() as session:
        assert [u.name for u in session.scalars(select(User))] == ["rita"]
    store.close()


def test_the_policy_actor_can_never_log_in() -> None:
    assert not verify_password(NO_LOGIN, PASSWORD)
    assert not verify_password(NO_LOGIN, NO_LOGIN)


def _users(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, "users", *args, "--config", "site.yaml"],
        cwd=site,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_list_unlock_disable_and_enable_are_audited(site: Path) -> None:
    assert _add(site, "rita", "reviewer", PASSWORD).returncode == 0
    assert _add(site, "adam", "admin", PASSWORD).returncode == 0
    store = open_store(f"sqlite:///{site / 'stopline.db'}")
    until = utcnow() + timedelta(hours=1)
    with store.session() as session:  # as after many wrong passwords for her name
        row = LoginThrottle(kind="account", subject="rita", failures=30, last_failure_at=utcnow())
        session.add(row)
        row.wait_until = until
    listed = _users(site, "list").stdout.splitlines()
    rita = f"rita\treviewer\tactive\twait until {until.isoformat()}"
    assert listed == ["adam\tadmin\tactive", rita]
    assert _users(site, "unlock", "rita").stdout.strip() == "user rita unlocked"
    assert _users(site, "disable", "rita").stdout.strip() == "user rita disabled"
    assert _users(site, "list").stdout.splitlines()[1] == "rita\treviewer\tdisabled"
    assert _users(site, "enable", "rita").returncode == 0
    missing = _users(site, "disable", "nobody")
    assert missing.returncode == 1 and "no user 'nobody'" in missing.stderr
    with store.session() as session:
        actions = session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.action.like("user.%"))
            .order_by(AuditEntry.id)
        ).all()
        assert actions == ["user.unlocked", "user.disabled", "user.enabled"]
        assert session.scalar(select(User.disabled_at).where(User.name == "rita")) is None
    store.close()
