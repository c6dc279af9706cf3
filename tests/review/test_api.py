"""Back-office systems get citations and decide them under the console's login and CSRF rules."""

from fastapi.testclient import TestClient

from benchmarks import review_cases
from tests.review.conftest import Site, login


def test_json_api_lists_gets_and_decides(site: Site, client: TestClient) -> None:
    token = login(client, "rita")
    listing = client.get("/api/v1/citations?page_size=4").json()
    assert listing["total"] == 6 and len(listing["items"]) == 4
    assert [item["id"] for item in listing["items"]] == site.ids[:4]
    rest = client.get(listing["next"]).json()
    assert [item["id"] for item in rest["items"]] == site.ids[4:] and rest["next"] is None
    detail = client.get(f"/api/v1/citations/{site.ids[0]}").json()
    assert detail["person"]["name"] == "Keeper 0" and detail["plate_text"] == "KX00000"
    ref = next(e for e in detail["evidence"] if e["role"] == "clip")
    assert client.get(ref["url"]).content == review_cases.CLIP.read_bytes()
    refused = client.post(
        f"/api/v1/citations/{site.ids[0]}/decisions", json={"decision": "approve"}
    )
    assert refused.status_code == 403, "no CSRF header"
    decided = client.post(
        f"/api/v1/citations/{site.ids[0]}/decisions",
        json={"decision": "approve"},
        headers={"X-CSRF-Token": token},
    )
    assert decided.status_code == 200
    assert [t["to_state"] for t in decided.json()] == ["detected", "pending_review", "approved"]
    conflict = client.post(
        f"/api/v1/citations/{site.ids[0]}/decisions",
        json={"decision": "reject", "reason": "duplicate"},
        headers={"X-CSRF-Token": token},
    )
    assert conflict.status_code == 409
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/citations/{citation_id}/decisions" in spec["paths"]
    assert "/api/v1/citations" in client.get("/api/v1/docs").text
