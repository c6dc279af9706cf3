"""Each role logs in to its own page with a cookie scripts cannot read, and logins are audited."""

import re

from fastapi.testclient import TestClient

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
