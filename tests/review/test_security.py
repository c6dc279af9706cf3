"""What the console refuses: anonymous requests to every route, roles reaching past their
pages, forms without the CSRF token, markup in data, paths out of the evidence store, password
guessing; and that only an approval makes a citation approved, and only approved citations
are announced for SMS and billboards."""

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from pipeline.events import CITATIONS_APPROVED
from pipeline.store import TRANSITIONS, Role, Status
from pipeline.store.models import AuditEntry, Citation, Person, User
from review.app import routes
from tests.review.conftest import PASSWORD, Site, csrf_of, login

PUBLIC = {("GET", "/login"), ("POST", "/login"), ("GET", "/healthz")}
"""Reachable without a login: the login form itself, and a health check that says only ok."""


def every_route(site: Site) -> list[tuple[str, str]]:
    found = []
    for route in routes(site.app):
        path = route.path.replace("{citation_id}", site.ids[0]).replace("{name}", "rita")
        path = path.replace("{sha256}", "0" * 64)
        found += [(method, path) for method in sorted(route.methods or []) if method != "HEAD"]
    return found


def test_anonymous_requests_to_every_route_are_refused(site: Site, client: TestClient) -> None:
    checked = 0
    for method, path in every_route(site):
        if (method, path) in PUBLIC:
            continue
        response = client.request(method, path, follow_redirects=False)
        if path.startswith(("/api/", "/metrics")) or method != "GET":
            assert response.status_code == 401, (method, path, response.status_code)
        else:
            assert response.status_code == 303, (method, path)
            assert response.headers["location"].startswith("/login"), (method, path)
        checked += 1
    assert checked >= 25
    with site.store.session() as session:
        statuses = set(session.scalars(select(Citation.status)))
    assert statuses == {Status.PENDING_REVIEW}, "nothing anonymous changed anything"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/admin/users"),
        ("POST", "/admin/users/rita/unlock"),
        ("GET", "/metrics"),
        ("GET", "/audit"),
        ("GET", "/second-review"),
        ("GET", "/appeals"),
    ],
)
def test_a_reviewer_cannot_reach_admin_or_supervisor_routes(
    site: Site, client: TestClient, method: str, path: str
) -> None:
    token = login(client, "rita")
    data = {"csrf_token": token} if method == "POST" else None
    response = client.request(method, path, data=data, follow_redirects=False)
    assert response.status_code == 403


def test_admin_cannot_see_cases(site: Site, client: TestClient) -> None:
    """Separation of duties: who manages accounts does not read personal data."""
    login(client, "adam")
    assert client.get(f"/cases/{site.ids[0]}").status_code == 403
    assert client.get("/api/v1/citations").status_code == 403


def test_a_form_without_the_csrf_token_is_refused(site: Site, client: TestClient) -> None:
    token = login(client, "rita")
    case = site.ids[0]
    for data in ({}, {"csrf_token": "forged"}, {"csrf_token": token[:-1]}):
        response = client.post(f"/cases/{case}/approve", data=data, follow_redirects=False)
        assert response.status_code == 403
    response = client.post(
        f"/cases/{case}/plate", data={"plate": "KX00002"}, follow_redirects=False
    )
    assert response.status_code == 403
    with site.store.session() as session:
        citation = session.get(Citation, case)
        assert citation is not None
        assert citation.status == Status.PENDING_REVIEW and citation.plate_text == "KX00000"
    # And the login form's own token: a login from another site's form does not log in.
    refused = client.post("/login", data={"name": "rita", "password": PASSWORD})
    assert refused.status_code == 403


def test_markup_in_plates_and_names_is_escaped(site: Site, client: TestClient) -> None:
    case = site.ids[0]
    with site.store.session() as session:
        citation = session.get(Citation, case)
        assert citation is not None
        citation.plate_text = "<script>alert(1)</script>"
        person = session.get(Person, citation.person_id)
        assert person is not None
        person.name = '<img src=x onerror="alert(2)">'
    login(client, "rita")
    for path in (f"/cases/{case}", "/queue"):
        html = client.get(path).text
        assert "<script>alert(1)" not in html and "<img src=x" not in html
    html = client.get(f"/cases/{case}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;" in html
    assert "script-src 'self'" in client.get("/queue").headers["content-security-policy"]


@pytest.mark.parametrize(
    "path",
    [
        "/evidence/..%2F..%2Fstopline.db",
        "/evidence/../stopline.db",
        "/evidence/%2e%2e%2fkey.pem",
        "/api/v1/evidence/..%2Fkey.pem",
        "/evidence/" + "a" * 63 + "/",
        "/evidence/" + "A" * 64,
    ],
)
def test_evidence_paths_other_than_a_hash_are_refused(
    site: Site, client: TestClient, path: str
) -> None:
    login(client, "rita")
    response = client.get(path)  # a trailing slash is redirected to the bare (refused) path
    assert response.status_code in (400, 404)
    assert b"SQLite" not in response.content and b"PRIVATE KEY" not in response.content


def test_ten_wrong_passwords_lock_the_account(site: Site, client: TestClient) -> None:
    for attempt in range(10):
        form = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
        page = client.post(
            "/login", data={"name": "rita", "password": f"guess {attempt}", "csrf_token": token}
        )
        assert page.status_code == 200 and "/queue" not in str(page.url)
    assert "locked" in page.text
    with site.store.session() as session:
        user = session.scalar(select(User).where(User.name == "rita"))
        assert user is not None and user.locked_until is not None
        locks = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.locked")).all()
        assert len(locks) == 1
        failures = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "login.failed")
        ).all()
        assert len(failures) == 10
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    right = client.post(
        "/login",
        data={"name": "rita", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert right.status_code == 200 and "locked" in right.text, "even the right password"
    login(client, "adam")
    client.post("/admin/users/rita/unlock", data={"csrf_token": csrf_of(client)})
    client.post("/logout", data={"csrf_token": csrf_of(client)})
    login(client, "rita")


def test_approval_is_the_only_path_to_approved() -> None:
    into = {pair: rule for pair, rule in TRANSITIONS.items() if pair[1] == Status.APPROVED}
    assert list(into) == [(Status.PENDING_REVIEW, Status.APPROVED)]
    rule = into[(Status.PENDING_REVIEW, Status.APPROVED)]
    assert rule.roles == {Role.REVIEWER, Role.SUPERVISOR}, "a person who reviews, never a stage"


def test_no_action_but_approve_approves_or_announces(site: Site, client: TestClient) -> None:
    """Every other POST a reviewer and supervisor can make, on every case: none approves, and
    nothing reaches the approvals topic the notifier and billboards consume."""
    token = login(client, "rita")
    first, second, third = site.ids[:3]
    client.post(f"/cases/{first}/plate", data={"csrf_token": token, "plate": "KX00004"})
    client.post(f"/cases/{first}/person", data={"csrf_token": token, "person_id": "P000002"})
    client.post(f"/cases/{second}/reject", data={"csrf_token": token, "reason": "duplicate"})
    client.post("/logout", data={"csrf_token": csrf_of(client)})
    token = login(client, "sam")
    for case in (first, second, third):
        for action, data in (
            ("second-review", {"note": "seen"}),
            ("reopen", {"reason": "again"}),
            ("appeal", {"reason": "letter"}),
            ("appeal-decision", {"decision": "uphold", "reason": "x"}),
            ("appeal-decision", {"decision": "dismiss", "reason": "x"}),
        ):
            client.post(f"/cases/{case}/{action}", data={"csrf_token": token, **data})
    with site.store.session() as session:
        approved = session.scalars(
            select(Citation.id).where(Citation.status != Status.PENDING_REVIEW)
        ).all()
        assert Status.APPROVED not in set(session.scalars(select(Citation.status)))
    assert site.published(CITATIONS_APPROVED) == []
    assert set(approved) <= {second}
