"""Schemathesis against the review API's own OpenAPI document (issue 18): every operation, fed
requests generated from its declared parameters and bodies (valid and invalid ones), by a
logged-in reviewer, never answers 5xx, and every answer matches what the document declares.

The document is loaded from the running app through schemathesis' ASGI loader, behind the same
login as the API. Its pytest integration for fixture-made apps (`schemathesis.pytest.
from_fixture`) fails on pytest 9.2 (it sets a node attribute that no longer exists), so each
operation's cases come from `as_strategy` under Hypothesis' own `given`; the checks are the same
`call_and_validate` runs.
"""

from collections import Counter
from collections.abc import Iterator

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode

from review.auth import SESSION_COOKIE
from review.pages.common import MAX_PAGE
from tests.review.conftest import Site, login, make_site

FUZZ = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
"""Few examples, the same ones on every run: repeatable in CI and quick on a small machine."""


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    made = make_site(tmp_path_factory.mktemp("fuzz"))
    yield made
    made.bus.close()
    made.store.close()


@pytest.fixture(scope="module")
def reviewer(fuzzed: Site) -> dict[str, str]:
    """A real reviewer's session cookie and CSRF token, as a back-office client sends them."""
    with TestClient(fuzzed.app, base_url="http://127.0.0.1") as client:
        csrf = login(client, "rita")
        cookie = client.cookies[SESSION_COOKIE]
    return {"Cookie": f"{SESSION_COOKIE}={cookie}", "X-CSRF-Token": csrf}


@pytest.fixture(scope="module")
def known(fuzzed: Site, reviewer: dict[str, str]) -> dict[str, list[str]]:
    """Path parameters that name real objects, so generated requests reach past the 404s."""
    with TestClient(fuzzed.app, base_url="http://127.0.0.1", headers=reviewer) as client:
        detail = client.get(f"/api/v1/citations/{fuzzed.ids[0]}").json()
    return {"citation_id": fuzzed.ids, "sha256": [e["sha256"] for e in detail["evidence"]]}


@pytest.mark.parametrize("mode", list(GenerationMode))
def test_no_operation_fails_or_breaks_its_schema(
    fuzzed: Site, reviewer: dict[str, str], known: dict[str, list[str]], mode: GenerationMode
) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", fuzzed.app, headers=reviewer)
    tried: Counter[str] = Counter()
    failed: dict[str, BaseException] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        strategies = [operation.as_strategy(mode)]
        if mode is GenerationMode.POSITIVE:
            strategies += [
                operation.as_strategy(mode, path_parameters={parameter.name: value})
                for parameter in operation.path_parameters
                for value in known.get(parameter.name, [])
            ]

        @FUZZ
        @given(case=st.one_of(strategies))
        def exercise(case: schemathesis.Case) -> None:
            tried[case.operation.label] += 1
            case.call_and_validate(headers=reviewer)

        try:
            exercise()
        except (Exception, FailureGroup) as exc:  # each operation's failure, not only the first
            failed[operation.label] = exc
    print(f"{mode}: {dict(tried)}")
    assert len(tried) >= 5, tried
    assert not failed, "\n\n".join(f"{label}: {exc}" for label, exc in failed.items())


@pytest.mark.parametrize(
    ("user", "path"),
    [("rita", "/api/v1/citations"), ("rita", "/queue"), ("aud", "/audit")],
)
def test_a_page_number_past_any_list_is_refused_not_a_server_error(
    site: Site, client: TestClient, user: str, path: str
) -> None:
    """It overflowed the database's 64-bit OFFSET and answered 500."""
    login(client, user)
    assert client.get(f"{path}?page={MAX_PAGE}").status_code == 200
    assert client.get(f"{path}?page={MAX_PAGE + 1}").status_code == 422
    assert client.get(f"{path}?page=99999999999999999999").status_code == 422


def test_the_document_says_a_rejection_needs_its_reason(site: Site, client: TestClient) -> None:
    """Its reason was optional in the document, so a valid-looking rejection got a 422 whose
    body did not have the validation error's documented shape."""
    token = login(client, "rita")
    spec = client.get("/api/v1/openapi.json").json()
    assert "reason" in spec["components"]["schemas"]["Rejection"]["required"]
    decisions = f"/api/v1/citations/{site.ids[0]}/decisions"
    reply = client.post(decisions, json={"decision": "reject"}, headers={"X-CSRF-Token": token})
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"] == ["body", "reject", "reason"]
