"""Who may use each route of the console, checked over every route the app serves (issue 18).

`ACCESS` is the policy, written out role by role rather than taken from the code it checks: a
route the app serves that is not in it fails the test, so a new route cannot ship without
someone deciding who may use it. For each route and method: anonymous (and a forged session
cookie) is refused, every role the policy leaves out gets 403, every role it names gets past
the check. Evidence files, served by hash from the evidence store, are refused to anonymous
and to the admin, and no spelling of a path reaches a file outside the store.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from starlette.routing import Mount, Route

from pipeline.store import Role
from review.app import routes
from review.auth import SESSION_COOKIE
from tests.review.conftest import USERS, Site, login, make_site

REVIEWER, SUPERVISOR, AUDITOR, ADMIN = Role.REVIEWER, Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN
DECIDE = {REVIEWER, SUPERVISOR}
READ = {REVIEWER, SUPERVISOR, AUDITOR}
SUPERVISE = {SUPERVISOR}
PUBLIC = None
ACCESS: dict[tuple[str, str], set[Role] | None] = {
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,  # load balancers ask; it says only "ok"
    ("POST", "/logout"): set(Role),
    ("GET", "/"): set(Role),
    ("GET", "/queue"): DECIDE,
    ("GET", "/cases/{citation_id}"): READ,
    ("GET", "/cases/{citation_id}/thumb"): DECIDE,
    ("POST", "/cases/{citation_id}/approve"): DECIDE,
    ("POST", "/cases/{citation_id}/reject"): DECIDE,
    ("POST", "/cases/{citation_id}/plate"): DECIDE,
    ("POST", "/cases/{citation_id}/person"): DECIDE,
    ("GET", "/evidence/{sha256}"): READ,
    ("GET", "/second-review"): SUPERVISE,
    ("GET", "/reviewers"): SUPERVISE,
    ("GET", "/assignments"): SUPERVISE,
    ("POST", "/assignments"): SUPERVISE,
    ("POST", "/assignments/remove"): SUPERVISE,
    ("POST", "/cases/{citation_id}/second-review"): SUPERVISE,
    ("POST", "/cases/{citation_id}/reopen"): SUPERVISE,
    ("GET", "/appeals"): SUPERVISE,
    ("POST", "/cases/{citation_id}/appeal"): SUPERVISE,
    ("POST", "/cases/{citation_id}/appeal-decision"): SUPERVISE,
    ("GET", "/notices"): SUPERVISE,
    ("GET", "/audit"): {AUDITOR, SUPERVISOR},
    ("GET", "/not-cited"): {AUDITOR, SUPERVISOR},
    ("GET", "/not-cited/{event_id}"): {AUDITOR, SUPERVISOR},
    ("GET", "/admin/users"): {ADMIN},
    ("POST", "/admin/users/{name}/unlock"): {ADMIN},
    ("POST", "/admin/users/{name}/disable"): {ADMIN},
    ("GET", "/metrics"): {ADMIN, AUDITOR},  # or a scraper with review.metrics_token
    ("GET", "/api/v1/citations"): READ,
    ("GET", "/api/v1/citations/{citation_id}"): READ,
    ("GET", "/api/v1/citations/{citation_id}/decisions"): READ,
    ("POST", "/api/v1/citations/{citation_id}/decisions"): DECIDE,
    ("GET", "/api/v1/evidence/{sha256}"): READ,
    ("GET", "/api/v1/openapi.json"): READ,
    ("GET", "/api/v1/docs"): READ,
}
PUBLIC_MOUNTS = {"/static": "/static/console.css"}
"""The console's own stylesheet and script: the login page needs them before anyone logs in."""


def served(site: Site) -> list[tuple[str, str]]:
    """(method, path template) of every route, logout last (it ends the session it uses)."""
    found = []
    for route in routes(site.app):
        if isinstance(route, Mount):
            assert route.path in PUBLIC_MOUNTS, f"mount {route.path} is in no policy"
            continue
        assert isinstance(route, Route), f"{route!r}: a kind of route this test cannot check"
        found += [(method, route.path) for method in sorted(route.methods or [])]
    return sorted(found, key=lambda key: key == ("POST", "/logout"))


def url(site: Site, path: str) -> str:
    """A template filled with real objects; a name nobody has, so an admin's unlock or disable
    changes no account the checks log in with."""
    return path.format(
        citation_id=site.ids[0], sha256=evidence_hashes(site)[0], name="nobody", event_id="0" * 32
    )


def evidence_hashes(site: Site) -> list[str]:
    return sorted(p.name for p in (site.evidence.root / "sha256").rglob("*") if p.is_file())


def refused_anonymously(method: str, path: str, response: Response) -> bool:
    if path.startswith(("/api/", "/metrics")) or method != "GET":
        return response.status_code == 401
    location = response.headers.get("location", "")
    return response.status_code == 303 and location.startswith("/login?")


@pytest.fixture
def clients(site: Site) -> Iterator[dict[Role, tuple[TestClient, str]]]:
    """A logged-in client and its CSRF token for each role."""
    made = {}
    for name, role in USERS.items():
        client = TestClient(site.app, base_url="http://127.0.0.1")
        made[role] = (client, login(client, name))
    yield made
    for client, _ in made.values():
        client.close()


def test_every_route_is_in_the_policy_and_the_policy_names_only_routes(site: Site) -> None:
    assert set(served(site)) == set(ACCESS)


def test_anonymous_and_forged_sessions_are_refused_everywhere_but_the_public_routes(
    site: Site, client: TestClient
) -> None:
    forged = TestClient(site.app, base_url="http://127.0.0.1")
    forged.cookies.set(SESSION_COOKIE, "not-a-session-anyone-was-given")
    checked = 0
    for method, template in served(site):
        path = url(site, template)
        for who in (client, forged):
            response = who.request(method, path, follow_redirects=False)
            if ACCESS[(method, template)] is PUBLIC:
                assert not refused_anonymously(method, path, response), (method, path)
                assert response.status_code not in (401, 403), (method, path)
            else:
                assert refused_anonymously(method, path, response), (method, path, response)
                checked += 1
    for sample in PUBLIC_MOUNTS.values():
        assert client.get(sample).status_code == 200
    assert checked == 2 * sum(roles is not PUBLIC for roles in ACCESS.values())


def test_each_role_reaches_exactly_the_routes_the_policy_gives_it(
    site: Site, clients: dict[Role, tuple[TestClient, str]]
) -> None:
    """403 for a role left out; past the check (any answer but 401 and 403) for one named.
    Unsafe requests carry the role's real CSRF token, so it is the role that is refused."""
    for method, template in served(site):
        roles = ACCESS[(method, template)]
        if roles is PUBLIC:
            continue
        path = url(site, template)
        for role, (client, token) in clients.items():
            response = client.request(
                method, path, headers={"X-CSRF-Token": token}, follow_redirects=False
            )
            if role in roles:
                assert response.status_code not in (401, 403), (role, method, path)
            else:
                assert response.status_code == 403, (role, method, path, response.status_code)


def test_metrics_take_the_scrapers_token_and_nothing_like_it(tmp_path: Path) -> None:
    token = "scrape-" + "x" * 32
    site = make_site(tmp_path, cases=1, metrics_token=token)
    with TestClient(site.app, base_url="http://127.0.0.1") as scraper:
        ok = scraper.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200 and "stopline_review_queue_length" in ok.text
        for header in (
            f"Bearer {token[:-1]}",
            f"Bearer {token}x",
            token,
            "Bearer ",
            f"Basic {token}",
        ):
            refused = scraper.get("/metrics", headers={"Authorization": header})
            assert refused.status_code == 401, header
    site.store.close()


TRAVERSALS = [
    "/evidence/..",
    "/evidence/%2e%2e",
    "/evidence/..%2F..%2Fkey.pem",
    "/evidence/%2e%2e%2f%2e%2e%2fstopline.db",
    "/evidence/%2e%2e%5c%2e%2e%5ckey.pem",
    "/evidence/%2Fetc%2Fpasswd",
    "/evidence//etc/passwd",
    "/evidence/{tmp}%2Fkey.pem",
    "/evidence/{sha}%2F..%2F..%2F..%2F..%2F..%2Fkey.pem",
    "/evidence/{sha}%00.jpg",
    "/evidence/sha256%2F{sha2}%2F{sha4}%2F{sha}",
    "/api/v1/evidence/..%2Fkey.pem",
    "/api/v1/evidence/%2e%2e%2f%2e%2e%2fstopline.db",
    "/api/v1/evidence/%2Fetc%2Fpasswd",
    "/api/v1/evidence/{tmp}%2Fstopline.db",
    "/cases/{case}/evidence/{sha}",
    "/cases/{case}/..%2F..%2Fevidence%2F{sha}",
    "/cases/..%2F..%2Fstopline.db",
    "/static/..%2Fapp.py",
    "/static/%2e%2e/web.py",
    "/static/%2e%2e%2f%2e%2e%2fpipeline%2fconfig%2freview.py",
    "/static//etc/passwd",
    "/static/%2Fetc%2Fpasswd",
]
SECRETS = (b"PRIVATE KEY", b"SQLite format", b"root:x:", b"import ", b"ftyp")
"""What a leaked key, database, system file, source file or video would start or carry."""


@pytest.mark.parametrize("as_reviewer", [False, True], ids=["anonymous", "reviewer"])
def test_no_spelling_of_a_path_reaches_a_file_outside_the_evidence_store(
    site: Site, client: TestClient, as_reviewer: bool
) -> None:
    """Anonymous, nothing is served at all; logged in, still nothing but evidence by its hash
    (the store takes 64 hex digits and nothing else before it makes a path)."""
    if as_reviewer:
        login(client, "rita")
    sha = evidence_hashes(site)[0]
    tmp = str(site.evidence.root.parent).lstrip("/").replace("/", "%2F")
    for template in TRAVERSALS:
        path = template.format(sha=sha, sha2=sha[:2], sha4=sha[2:4], tmp=tmp, case=site.ids[1])
        response = client.get(path, follow_redirects=False)
        assert response.status_code in (303, 400, 401, 404, 422), (path, response.status_code)
        assert not any(secret in response.content for secret in SECRETS), path


def test_evidence_files_reach_readers_only(site: Site, client: TestClient) -> None:
    hashes = evidence_hashes(site)
    assert len(hashes) == 5, "four frames and the clip"
    for sha in hashes:
        for path in (f"/evidence/{sha}", f"/api/v1/evidence/{sha}"):
            response = client.get(path, follow_redirects=False)
            assert refused_anonymously("GET", path, response), path
    login(client, "adam")
    assert {client.get(f"/api/v1/evidence/{sha}").status_code for sha in hashes} == {403}
    client.cookies.clear()
    login(client, "aud")
    assert {client.get(f"/evidence/{sha}").status_code for sha in hashes} == {200}
