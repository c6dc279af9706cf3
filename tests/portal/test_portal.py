"""The citizen portal (issue 19) through its HTTP interface: a notice number and PIN open one
case and nothing else; wrong PINs are throttled and unknown numbers answered alike; a contest
files an appeal the console's supervisors see; the portal's cookie opens no police page."""

import io
from datetime import timedelta

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from pipeline.notices import new_notice_number, pin_for
from pipeline.store import Status
from pipeline.store.citizen import Appeal
from pipeline.store.models import (
    AuditEntry,
    Citation,
    CitationTransition,
    LoginThrottle,
)
from portal.access import COOKIE
from review.app import create_app as console_app
from review.cases import approve
from tests.portal.conftest import Fined, portal_login
from tests.review.conftest import login


def jpeg() -> bytes:
    """A photo the person attaches, as a phone would send it."""
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "#4a7").save(out, "JPEG", quality=85)
    return out.getvalue()


def status_of(fined: Fined) -> str:
    with fined.site.store.session() as session:
        citation = session.get(Citation, fined.citation_id)
        assert citation is not None
        return citation.status


def test_the_notice_number_and_pin_open_the_case_in_either_language(fined: Fined) -> None:
    client = TestClient(fined.portal)
    spaced = f"{fined.notice_number[:4]} {fined.notice_number[4:8]} {fined.notice_number[8:]}"
    answer = portal_login(client, spaced, fined.pin)
    assert answer.status_code == 303 and answer.headers["location"] == "/case"
    english = client.get("/case?lang=en")
    assert english.status_code == 200 and fined.notice_number in english.text
    assert "Ran a red light" in english.text and "after the light turned red" in english.text
    assert english.headers["cache-control"] == "no-store"
    chinese = client.get("/case?lang=zh-CN")
    assert "闯红灯" in chinese.text and "缴款期限" in chinese.text
    assert client.get("/case").text.count("闯红灯") >= 1, "the chosen language is kept"
    with fined.site.store.session() as session:
        actions = set(session.scalars(select(AuditEntry.action)))
    assert "portal.login" in actions


def test_wrong_and_unknown_numbers_get_one_answer_and_wrong_pins_are_throttled(
    fined: Fined,
) -> None:
    client = TestClient(fined.portal)
    wrong_pin = "000000" if fined.pin != "000000" else "111111"
    unknown = new_notice_number(lambda n: n == fined.notice_number)
    answers = [
        portal_login(client, fined.notice_number, wrong_pin),
        portal_login(client, unknown, fined.pin),
        portal_login(client, "12345", fined.pin),
    ]
    assert {a.status_code for a in answers} == {200}
    assert len({a.text.split('name="csrf_token" value="')[0] for a in answers}) == 1
    odd = portal_login(client, fined.notice_number, "１２３４５６")  # full-width digits
    assert odd.status_code == 200 and "not right" in odd.text
    config = fined.site.console.config.portal
    for _ in range(config.max_failed_pins - 1):
        last = portal_login(client, fined.notice_number, wrong_pin)
    assert last.status_code == 429 and "try again in" in last.text.lower()
    refused = portal_login(client, fined.notice_number, fined.pin)
    assert refused.status_code == 429, "even the right PIN waits: no guessing through"
    with fined.site.store.session() as session:
        counted = session.get(LoginThrottle, ("notice", fined.notice_number))
        assert counted is not None and counted.wait_until is not None
        counted.wait_until = counted.wait_until - timedelta(days=1)  # the wait has passed
    assert portal_login(client, fined.notice_number, fined.pin).status_code == 303
    with fined.site.store.session() as session:
        address = session.get(LoginThrottle, ("portal-address", "testclient"))
        assert address is not None and address.failures >= config.max_failed_pins, "kept"
        assert session.get(LoginThrottle, ("notice", fined.notice_number)) is None


def test_a_contest_files_an_appeal_that_supervisors_see(fined: Fined) -> None:
    client = TestClient(fined.portal)
    portal_login(client, fined.notice_number, fined.pin)
    page = client.get("/case?lang=en").text
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    photo = jpeg()
    filed = client.post(
        "/case/appeal",
        data={"reason": "The light was green <b>for me</b>.", "csrf_token": csrf},
        files={"attachment": ("receipt.jpg", photo, "image/jpeg")},
        follow_redirects=True,
    )
    assert filed.status_code == 200 and "Your appeal has been sent." in filed.text
    assert "appeal" in filed.text and 'id="appeal"' not in filed.text, "no second appeal"
    assert status_of(fined) == Status.APPEALED
    with fined.site.store.session() as session:
        appeal = session.scalar(select(Appeal))
        assert appeal is not None and appeal.upload_media_type == "image/jpeg"
        assert fined.site.evidence.get(appeal.upload_sha256 or "") == photo
        actors = set(session.scalars(select(AuditEntry.actor)))
    assert f"citizen:{fined.notice_number}" in actors
    police = TestClient(console_app(fined.site.console))
    login(police, "sam")
    queue = police.get("/appeals").text
    assert "The light was green &lt;b&gt;for me&lt;/b&gt;." in queue
    assert f"/evidence/{appeal.upload_sha256}" in queue and fined.notice_number in queue


def test_an_appeal_needs_a_reason_a_real_file_and_an_open_window(fined: Fined) -> None:
    client = TestClient(fined.portal)
    portal_login(client, fined.notice_number, fined.pin)
    csrf = client.get("/case").text.split('name="csrf_token" value="')[1].split('"')[0]

    def contest(reason: str, upload: bytes | None = None) -> int:
        files = {"attachment": ("a.jpg", upload, "image/jpeg")} if upload else None
        data = {"reason": reason, "csrf_token": csrf}
        return client.post("/case/appeal", data=data, files=files).status_code

    assert contest("   ") == 422
    assert contest("see the file", b"MZ\x90\x00 a program, not a picture") == 422
    assert status_of(fined) == Status.APPROVED
    with fined.site.store.session() as session:
        # The window counts from the approval: move it back past notifier.appeal_days.
        for step in session.scalars(
            select(CitationTransition).where(CitationTransition.citation_id == fined.citation_id)
        ):
            step.at -= timedelta(days=fined.site.console.config.notifier.appeal_days + 1)
    assert contest("late, but I was not there") == 422
    assert status_of(fined) == Status.APPROVED
    with fined.site.store.session() as session:
        assert session.scalar(select(Appeal)) is None


def test_the_portal_cookie_opens_nothing_in_the_console(fined: Fined) -> None:
    client = TestClient(fined.portal)
    portal_login(client, fined.notice_number, fined.pin)
    cookie = client.cookies.get(COOKIE)
    assert cookie
    police = TestClient(console_app(fined.site.console), follow_redirects=False)
    for name in (COOKIE, "stopline_session"):
        police.cookies.set(name, cookie)
        for path in ("/", "/appeals", f"/cases/{fined.citation_id}", "/api/v1/citations"):
            assert police.get(path).status_code in (303, 401), (name, path)
    other = fined.site.ids[0]
    assert other not in client.get("/case").text, "one citation per login"


PUBLIC = {("GET", "/"), ("POST", "/login"), ("GET", "/healthz"), ("POST", "/payments/stripe")}
"""The routes a stranger may reach; every other one needs a portal login and its CSRF token
(the payment notifications need the provider's signature instead)."""


def test_every_route_without_a_login_leads_back_to_the_login(fined: Fined) -> None:
    routes = {
        (method, route.path)
        for route in fined.portal.routes
        for method in getattr(route, "methods", None) or ()
        if method != "HEAD"
    }
    private = routes - PUBLIC
    assert private == {
        ("GET", "/case"),
        ("POST", "/case/appeal"),
        ("GET", "/media/{sha256}"),
        ("POST", "/case/nominate"),
        ("POST", "/case/pay"),
        ("POST", "/logout"),
    }, "a new route: decide who may reach it, and add it here"
    stranger = TestClient(fined.portal, follow_redirects=False)
    stranger.cookies.set(COOKIE, "forged-token")
    for method, path in sorted(private):
        form = {"reason": "x", "name": "x", "csrf_token": "x"}
        answer = stranger.request(method, path, data=form)
        assert answer.status_code == 303 and answer.headers["location"] == "/", (method, path)
    assert stranger.post("/payments/stripe", content=b"{}").status_code == 404, "payments off"
    with fined.site.store.session() as session:
        assert session.scalar(select(Appeal)) is None


def test_the_keeper_of_a_vehicle_names_the_driver(fined: Fined) -> None:
    client = TestClient(fined.portal)
    portal_login(client, fined.notice_number, fined.pin)
    csrf = client.get("/case").text.split('name="csrf_token" value="')[1].split('"')[0]
    missing = {"name": "Lee Wei", "csrf_token": csrf}
    assert client.post("/case/nominate", data=missing).status_code == 422, "name and ID/phone"
    named = {**missing, "national_id": "110101199003071234", "phone": "+86 138 0013 8000"}
    assert client.post("/case/nominate", data=named).status_code == 200
    assert status_of(fined) == Status.APPEALED
    with fined.site.store.session() as session:
        appeal = session.scalar(select(Appeal))
        assert appeal is not None and appeal.kind == "nomination"
        assert appeal.nominee == {
            "name": "Lee Wei",
            "national_id": "110101199003071234",
            "phone": "+86 138 0013 8000",
        }
    police = TestClient(console_app(fined.site.console))
    login(police, "sam")
    assert (
        "Driver named by the keeper:</strong> Lee Wei, ID 110101199003071234"
        in police.get("/appeals").text
    )


def test_nobody_names_a_driver_for_a_pedestrian(fined: Fined) -> None:
    """A jaywalk has no vehicle and no keeper: the form is not offered and the post refused."""
    walker = fined.site.ids[0]
    with fined.site.store.session() as session:
        approve(session, walker, "rita")
        number = session.get(Citation, walker).notice_number  # type: ignore[union-attr]
    assert number is not None
    client = TestClient(fined.portal)
    portal_login(client, number, pin_for(fined.portal.state.portal.pin_key, number))
    page = client.get("/case").text
    assert 'id="nominate"' not in page and 'id="appeal"' in page
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post(
        "/case/nominate", data={"name": "A", "phone": "+8613800138000", "csrf_token": csrf}
    )
    assert answer.status_code == 422 and "keeper" in answer.text


def test_a_body_larger_than_an_appeal_is_refused_before_it_is_read(fined: Fined) -> None:
    """A stranger's upload is refused by its length, before the form parser spools it."""
    stranger = TestClient(fined.portal)
    limit = fined.site.console.config.portal.max_upload_bytes
    huge = stranger.post(
        "/case/appeal",
        files={"attachment": ("big.jpg", b"\xff\xd8\xff" + b"0" * (limit + 100_000), "image/jpeg")},
        data={"reason": "x"},
    )
    assert huge.status_code == 413
    assert portal_login(stranger, fined.notice_number, fined.pin).status_code == 303
