"""Monitoring reads the review backlog and latencies from the store; reviewers cannot read it."""

from fastapi.testclient import TestClient

from tests.review.conftest import Site, csrf_of, login


def test_metrics_and_health(site: Site, client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    token = login(client, "rita")
    client.post(f"/cases/{site.ids[0]}/approve", data={"csrf_token": token})
    client.post(f"/cases/{site.ids[1]}/reject", data={"csrf_token": token, "reason": "duplicate"})
    assert client.get("/metrics").status_code == 403, "reviewers do not read metrics"
    client.post("/logout", data={"csrf_token": csrf_of(client)})
    login(client, "adam")
    text = client.get("/metrics").text
    assert "stopline_review_queue_length 4.0" in text
    assert 'stopline_review_decisions_last_hour{decision="approved"} 1.0' in text
    assert "stopline_review_approval_ratio 0.5" in text
    assert 'stopline_stage_latency_seconds_count{stage="detect_to_citation"} 6.0' in text
    assert (
        'stopline_review_request_seconds_count{route="POST /cases/{citation_id}/approve"}' in text
    )
