"""A citizen portal and a review console on one store: cases seeded with the real evidence of
tests/review, one approved by a reviewer, so that it has a notice number and its PIN."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from identify.people import PeopleFinder
from pipeline.config import PortalMediaConfig
from pipeline.notices import load_or_create_pin_key, pin_for
from pipeline.store.models import Citation
from portal.app import Portal, create_app
from portal.stage import PortalMediaStage
from review.cases import approve
from stopline.deployment import people_finder
from tests.review.conftest import Site, make_site, site_config


@dataclass
class Fined:
    """A site whose first case is approved: what its SMS would tell the person."""

    site: Site
    portal: FastAPI
    citation_id: str
    notice_number: str
    pin: str


def open_portal(site: Site, tmp_path: Path) -> tuple[FastAPI, bytes]:
    config = site.console.config.model_copy(
        update={"portal": site.console.config.portal.model_copy(update={"cookie_secure": False})}
    )
    key = load_or_create_pin_key(tmp_path / "pin.key")
    portal = Portal(config=config, store=site.store, evidence=site.evidence, pin_key=key)
    return create_app(portal), key


@pytest.fixture(scope="session")
def finder(tmp_path_factory: pytest.TempPathFactory) -> PeopleFinder:
    """The deployment's people finder (models load once for the whole session)."""
    return people_finder(site_config(tmp_path_factory.mktemp("finder")))


@pytest.fixture
def media_stage(fined: Fined, finder: PeopleFinder) -> PortalMediaStage:
    """The portal's stage on the fined person's site; one searched frame a second keeps the
    y2 clip's 292 frames to a dozen searches."""
    config = PortalMediaConfig(sample_fps=1.0)
    return PortalMediaStage(fined.site.store, fined.site.evidence, config, lambda: finder)


@pytest.fixture
def fined(tmp_path: Path) -> Iterator[Fined]:
    site = make_site(tmp_path, cases=2)
    app, key = open_portal(site, tmp_path)
    citation_id = site.ids[1]  # a red-light case (benchmarks.review_cases: every third is not)
    with site.store.session() as session:
        approve(session, citation_id, "rita")
        number = session.get(Citation, citation_id).notice_number  # type: ignore[union-attr]
    assert number is not None
    yield Fined(site, app, citation_id, number, pin_for(key, number))
    site.bus.close()
    site.store.close()


def portal_login(client: TestClient, number: str, pin: str) -> Response:
    """Send the login form as a browser does, with the form's CSRF token."""
    form = client.get("/")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token, form.text
    return client.post(
        "/login",
        data={"notice_number": number, "pin": pin, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
