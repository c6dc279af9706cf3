"""A review console on a real SQLite store with real evidence (frames and the H.264 clip of
../shared/data/video/y2.mp4), four users, one per role, and a memory bus to see what it
announces."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from benchmarks import review_cases
from pipeline.bus.memory import MemoryBus
from pipeline.config import StoplineConfig, parse_config
from pipeline.events import Event
from pipeline.evidence import EvidenceStore, load_or_create_key
from pipeline.outbox import relay_once
from pipeline.store import Role, Store
from pipeline.store.models import AuditEntry, Citation
from pipeline.store.registry import add_user
from review.app import create_app
from review.passwords import hash_password
from review.web import Console
from stopline.console import make_console
from stopline.demo.run import DEMO_CONFIG
from tests.shared_data import need

PASSWORD = "correct horse battery staple"
USERS = {"rita": Role.REVIEWER, "sam": Role.SUPERVISOR, "aud": Role.AUDITOR, "adam": Role.ADMIN}
CASES = 6


def site_config(tmp_path: Path, **review: object) -> StoplineConfig:
    data = yaml.safe_load(DEMO_CONFIG.read_text())
    data["storage"] = {
        "database_url": f"sqlite:///{tmp_path / 'stopline.db'}",
        "evidence_dir": str(tmp_path / "evidence"),
        "signing_key_path": str(tmp_path / "key.pem"),
    }
    # The confirmation rule and the double review have their own tests (pages/test_watching.py,
    # pages/test_blind.py); the others approve without playing the clip, each case once.
    data["review"] = {
        "cookie_secure": False,
        "confirm_approval": "none",
        "double_review_share": 0.0,
        **review,
    }
    data.setdefault("identification", {}).setdefault("plates", {})["region"] = "eu"
    return parse_config(data, "site.yaml")


@dataclass
class Site:
    console: Console
    app: FastAPI
    bus: MemoryBus
    ids: list[str]

    @property
    def store(self) -> Store:
        return self.console.store

    @property
    def evidence(self) -> EvidenceStore:
        return self.console.evidence

    def published(self, topic: str) -> list[Event]:
        """Every event the console announced on `topic`: relayed from the outbox to the bus as
        `stopline run` does, then read by a fresh consumer group."""
        relay_once(self.store, self.bus)
        seen: list[Event] = []
        consumer = self.bus.subscribe(topic, f"test-{len(seen)}-{id(seen)}", seen.append)
        try:
            while consumer.poll(0.05):
                pass
        finally:
            consumer.close()
        return seen


def make_site(
    tmp_path: Path, cases: int = CASES, plate_crops: Path | None = None, **review: object
) -> Site:
    need(review_cases.CLIP)
    config = site_config(tmp_path, **review)
    bus = MemoryBus()
    cons = make_console(config, tmp_path)
    with cons.store.session() as session:
        for name, role in USERS.items():
            add_user(session, name, hash_password(PASSWORD), role)
    key = load_or_create_key(Path(config.storage.signing_key_path))
    ids = review_cases.seed(
        cons.store, cons.evidence, cases, signing_key=key, plate_crops=plate_crops
    )
    return Site(cons, create_app(cons), bus, ids)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    made = make_site(tmp_path)
    yield made
    made.bus.close()
    made.store.close()


def citation_of(site: Site, citation_id: str) -> Citation:
    with site.store.session() as session:
        citation = session.get(Citation, citation_id)
        assert citation is not None
        session.expunge(citation)
        return citation


def audit_rows(site: Site, action: str) -> list[AuditEntry]:
    with site.store.session() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()
        for row in rows:
            session.expunge(row)
        return list(rows)


def post_login(client: TestClient, name: str, password: str, follow: bool = True) -> Response:
    """Send the login form as a browser does, with the form's CSRF token."""
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token, form.text
    return client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": token.group(1)},
        follow_redirects=follow,
    )


def login(client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Log in through the form; returns the session's CSRF token from the next page."""
    response = post_login(client, name, password, follow=False)
    assert response.status_code == 303, response.text
    return csrf_of(client)


def csrf_of(client: TestClient, path: str = "/") -> str:
    page = client.get(path)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


@pytest.fixture
def client(site: Site) -> Iterator[TestClient]:
    with TestClient(site.app, base_url="http://127.0.0.1") as made:
        yield made
