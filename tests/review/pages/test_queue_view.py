"""The queue at a glance (issue 20): a small picture of each case, audited, and each case's
deadline to decide (`review.decide_within_days` after the offence), marked when near or past."""

from __future__ import annotations

import io
import re
from pathlib import Path

from fastapi.testclient import TestClient
from PIL import Image

from pipeline.store import Status
from tests.review.conftest import Site, audit_rows, citation_of, login, make_site


def test_each_pending_case_has_a_small_audited_picture(site: Site, client: TestClient) -> None:
    token = login(client, "rita")
    queue = client.get("/queue").text
    assert len(re.findall(r'<img src="/cases/[0-9a-f]+/thumb"', queue)) == 6
    first = site.ids[0]
    picture = client.get(f"/cases/{first}/thumb")
    assert picture.headers["content-type"] == "image/jpeg"
    assert picture.headers["cache-control"] == "no-store"
    with Image.open(io.BytesIO(picture.content)) as image:
        assert image.size == (160, 128), "y2's 450x360 key frame, 160 px wide"
    (row,) = [r for r in audit_rows(site, "evidence.viewed") if r.detail]
    assert (row.actor, row.detail) == ("rita", {"purpose": "queue thumbnail", "citation_id": first})
    client.post(f"/cases/{first}/approve", data={"csrf_token": token})
    assert citation_of(site, first).status == Status.APPROVED
    assert client.get(f"/cases/{first}/thumb").status_code == 404, "pending cases only"


def test_the_queue_shows_each_deadline(tmp_path: Path) -> None:
    # review_cases' offences are on 2026-11-20: 14 days later is past, 60 days is not.
    for days, mark in ((14, "overdue"), (60, "")):
        made = make_site(tmp_path / str(days), cases=2, decide_within_days=days)
        try:
            with TestClient(made.app, base_url="http://127.0.0.1") as client:
                login(client, "rita")
                queue = client.get("/queue").text
        finally:
            made.bus.close()
            made.store.close()
        cells = re.findall(r'<td class="deadline ([a-z]*)">([^<]+)</td>', queue)
        assert len(cells) == 2 and {c for c, _ in cells} == {mark}, cells
        day = "12-04" if days == 14 else "01-19"
        assert cells[0][1].startswith(f"{day} 08:00"), cells
        assert ("overdue" in cells[0][1]) == (days == 14)
