"""Each role logs in to its own page with a cookie scripts cannot read, and logins are audited."""

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from pipeline.config import ReviewConfig
from pipeline.store.models import LoginThrottle
from review.auth import LoginOutcome, attempt_login
from tests.review.conftest import PASSWORD, Site, audit_rows, csrf_of


def test_login_lands_each_role_on_its_page(site: Site, client: TestClient) -> None:
    for name, home in (("rita", "/queue"), ("aud", "/audit"), ("adam", "/admin/users")):
        form = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
        response = client.post(
            "/login",
            data={"name": name, "password": PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
        assert response.headers["location"] == home
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        client.post("/logout", data={"csrf_token": csrf_of(client)})
    assert len(audit_rows(site, "login")) == 3
    assert len(audit_rows(site, "logout")) == 3
    assert client.get("/queue", follow_redirects=False).status_code == 303, "logged out"


def test_login_goes_on_only_to_a_page_of_this_site(client: TestClient) -> None:
    """`next` after login: a path here is followed, anything naming another host is not."""
    for target, lands in (
        ("/queue?status=pending_review", "/queue?status=pending_review"),
        ("//evil.example/phish", "/queue"),
        ("///evil.example", "/queue"),
        ("https://evil.example/", "/queue"),
        ("/\\evil.example", "/queue"),
    ):
        form = client.get("/login", params={"next": target})
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
        response = client.post(
            "/login",
            data={"name": "rita", "password": PASSWORD, "csrf_token": token, "next": target},
            follow_redirects=False,
        )
        assert response.headers["location"] == lands, target
        client.post("/logout", data={"csrf_token": csrf_of(client)})


ADDRESS_WAITS = [0, 0, 1, 2, 4, 8, 16, 32, 64, 120]


def test_waits_double_per_wrong_password_and_stay_short_for_a_name(site: Site) -> None:
    """Past the free failures each wrong password doubles the wait: for one name never past
    `account_wait_max_s` (guessing never locks its officer out), for one address (any names)
    up to `lockout_minutes`; a right password clears both, and old failures are forgotten."""
    review = ReviewConfig(max_failed_logins=2, max_failed_logins_per_address=3, lockout_minutes=2)
    t0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)

    def at(seconds: float) -> datetime:
        return t0 + timedelta(seconds=seconds)

    with site.store.session() as session:
        for kind, subject, names, ip, expected in (
            ("account", "rita", ["rita"] * 10, None, [0, 1, 2, 4, 8, 16, 32, 60, 60, 60]),
            ("address", "10.0.0.9", [f"n{i}" for i in range(10)], "10.0.0.9", ADDRESS_WAITS),
        ):
            waits: list[float] = []
            for i, name in enumerate(names):  # each try comes just as the last wait ends
                now = at(sum(waits))
                result = attempt_login(session, name, "wrong", review, ip or f"10.1.0.{i}", now)
                assert result.outcome is LoginOutcome.WRONG
                waits.append(_wait(session, kind, subject, now))
            assert waits == expected, kind  # ten addresses guess at rita; one at ten names
        # rita must wait to t0+243 s, the address to t0+127+120 s (its last failure + 2 min).
        waiting = attempt_login(session, "rita", PASSWORD, review, "10.0.0.9", at(128))
        assert (waiting.outcome, waiting.wait_s) == (LoginOutcome.WAIT, 119)
        assert attempt_login(session, "rita", PASSWORD, review, "10.0.0.8", at(243)).user
        assert session.get(LoginThrottle, ("account", "rita")) is None, "cleared by the login"
        assert attempt_login(session, "x", "y", review, "10.0.0.7", at(248)).user is None
        assert session.get(LoginThrottle, ("address", "10.0.0.9")) is None, "forgotten"


def _wait(session: Session, kind: str, subject: str, now: datetime) -> float:
    row = session.get(LoginThrottle, (kind, subject))
    assert row is not None
    return max((row.wait_until - now).total_seconds(), 0) if row.wait_until else 0
