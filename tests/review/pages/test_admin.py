"""An auditor can check the audit log's chain and read cases, but never decide one."""

from fastapi.testclient import TestClient

from tests.review.conftest import Site, audit_rows, login


def test_auditor_reads_the_log_and_verifies_the_chain(site: Site, client: TestClient) -> None:
    login(client, "aud")
    page = client.get("/audit?verify=true").text
    assert "Chain intact" in page
    assert "citation.created" in page
    case = client.get(f"/cases/{site.ids[0]}").text
    assert "KX00000" in case and 'id="approve-form"' not in case, "auditors only read"
    assert audit_rows(site, "citation.viewed")[-1].detail["purpose"] == "audit"
    assert client.get("/queue").status_code == 403
