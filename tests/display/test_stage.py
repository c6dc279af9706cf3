"""The display stage on SQLite and PostgreSQL: approvals go up on their crossing's screens once,
dismissals and appeals take them down, expired items drop off, and nothing unapproved is ever
drawn, whatever event arrives."""

import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from PIL import Image
from sqlalchemy import func, select

from display import playlist
from display.slide import SHOWABLE, NotShowable
from display.stage import DisplayStage
from identify.people import PeopleFinder
from pipeline.events import CitationApproved, CitationDismissed
from pipeline.store import Status, Store, open_store
from pipeline.store.citations import TRANSITIONS, transition
from pipeline.store.models import AuditEntry, BillboardItem, Citation, Role
from pipeline.store.registry import put_camera
from tests.cli import stopline
from tests.display.conftest import CAMERA, PICTURE_BOX, Crossing, open_crossing, photo, screens


def approval(citation_id: str, at: datetime | None = None) -> CitationApproved:
    return CitationApproved(
        citation_id=citation_id,
        camera_id=CAMERA,
        reviewer="rita",
        **({"created_at": at} if at else {}),
    )


def stage(crossing: Crossing) -> tuple[DisplayStage, list[list[str]]]:
    woken: list[list[str]] = []
    return DisplayStage(crossing.billboards(), woken.append), woken


def test_an_approval_goes_up_on_every_screen_of_its_crossing_once(crossing: Crossing) -> None:
    first = crossing.citation(picture=photo("zidane.jpg", PICTURE_BOX))
    second = crossing.citation(kind="red_light", plate="粤B12345")
    display, woken = stage(crossing)
    t0 = crossing.clock()
    display.handle(approval(first, t0))
    display.handle(approval(second, t0 + timedelta(seconds=5)))
    display.handle(approval(first, t0))  # redelivered
    assert woken == [["led", "big"], ["led", "big"]]
    billboards = crossing.billboards()
    assert billboards.playlist("led") == billboards.playlist("big") == [second, first]
    assert crossing.status(first) == crossing.status(second) == Status.DISPLAYED
    with crossing.store.session() as session:
        items = session.scalar(select(func.count()).select_from(BillboardItem))
        posts = session.scalar(select(func.count()).where(AuditEntry.action == "billboard.posted"))
        item = playlist.item(session, "led", first)
        assert item is not None
        regions = item.regions
    assert (items, posts) == (4, 4)
    # The finder ran on the real photo: Ancelotti, beside Zidane, is a bystander.
    assert regions["offender"] and regions["bystander_faces"] and regions["bystanders"]
    frame = billboards.frame("big", first)
    assert frame.size == (1920, 1080)


def test_a_screen_shows_only_its_own_crossing(
    tmp_path: Path, store: Store, finder: PeopleFinder
) -> None:
    crossing = open_crossing(
        tmp_path,
        store,
        finder,
        screens=[{"id": "elsewhere", "cameras": ["demo-east"], "width_px": 256, "height_px": 128}],
    )
    with crossing.store.session() as session:
        put_camera(session, "other-cam", "other-cam", "Other St")
    citation = crossing.citation()
    with crossing.store.session() as session:
        row = session.get(Citation, citation)
        assert row is not None
        row.camera_id = "other-cam"
    display, woken = stage(crossing)
    display.handle(approval(citation))
    assert woken == [] and crossing.billboards().playlist("elsewhere") == []


def test_a_dismissed_citation_disappears_from_the_playlist(crossing: Crossing) -> None:
    kept = crossing.citation()
    appealed = crossing.citation()
    display, woken = stage(crossing)
    for citation_id in (kept, appealed):
        display.handle(approval(citation_id))
    billboards = crossing.billboards()
    assert billboards.playlist("led") == [appealed, kept]
    billboards.frame("led", appealed)  # drawn (and cached) while it was approved

    with crossing.store.session() as session:
        transition(session, appealed, Status.NOTIFIED, "system:test")
        transition(session, appealed, Status.APPEALED, "system:test")
    # Under appeal: off every screen at once, before any event about it.
    assert billboards.playlist("led") == [kept]
    with pytest.raises(NotShowable):
        billboards.frame("led", appealed)

    # A dismissal the store has not made (a forged or stray event) takes nothing down.
    display.handle(
        CitationDismissed(citation_id=kept, camera_id=CAMERA, supervisor="x", reason="forged")
    )
    assert billboards.playlist("led") == [kept]
    with crossing.store.session() as session:
        transition(session, appealed, Status.DISMISSED, "sam", "the light was green")
    woken.clear()
    display.handle(
        CitationDismissed(
            citation_id=appealed, camera_id=CAMERA, supervisor="sam", reason="light was green"
        )
    )
    assert woken == [["led", "big"]]
    with crossing.store.session() as session:
        items = session.scalars(
            select(BillboardItem).where(BillboardItem.citation_id == appealed)
        ).all()
        assert all(i.removed_at and "dismissed" in (i.removed_reason or "") for i in items)
    assert billboards.playlist("led") == billboards.playlist("big") == [kept]
    with pytest.raises(NotShowable):
        billboards.frame("big", appealed)
    # A late, redelivered approval of the dismissed citation puts nothing back up.
    display.handle(approval(appealed))
    assert billboards.playlist("led") == [kept]


def test_items_expire_after_the_screens_maximum_age(
    tmp_path: Path, store: Store, finder: PeopleFinder
) -> None:
    """Expiry is judged by the injected wall clock, so it holds on any date."""
    crossing = open_crossing(
        tmp_path, store, finder, screens=screens(("led", 256, 128), max_age_h=2)
    )
    citation = crossing.citation()
    billboards = crossing.billboards()
    billboards.post(citation, crossing.clock() - timedelta(hours=1))
    crossing.clock.advance(timedelta(minutes=59, seconds=59))
    assert billboards.playlist("led") == [citation]
    assert billboards.frame("led", citation).size == (256, 128)
    crossing.clock.advance(timedelta(seconds=1))  # exactly max_age_h after the approval
    assert billboards.playlist("led") == []
    with pytest.raises(NotShowable, match="not on"):
        billboards.frame("led", citation)
    with crossing.store.session() as session:
        assert playlist.playlist(session, "led", crossing.clock() - timedelta(seconds=1))


UNAPPROVED = [Status.PENDING_REVIEW, Status.REJECTED, Status.APPEALED, Status.DISMISSED]


@pytest.mark.parametrize("status", UNAPPROVED)
def test_an_unapproved_citation_can_never_be_rendered_to_a_screen(
    crossing: Crossing, status: Status
) -> None:
    citation = crossing.citation(status=status, picture=photo("zidane.jpg", PICTURE_BOX))
    billboards = crossing.billboards()
    display, woken = stage(crossing)
    display.handle(approval(citation))  # a forged or stale approval event
    assert woken == [] and billboards.playlist("led") == []
    assert billboards.post(citation, crossing.clock()) == []
    with pytest.raises(NotShowable, match=r"not approved|not on"):
        billboards.frame("led", citation)
    with pytest.raises(NotShowable, match="not approved"):
        billboards.render_citation(citation, "led")
    # Even an item forced into the table is not drawn.
    with crossing.store.session() as session:
        session.add(
            BillboardItem(
                screen_id="led",
                citation_id=citation,
                approved_at=crossing.clock(),
                expires_at=crossing.clock() + timedelta(hours=1),
                regions={},
            )
        )
    assert billboards.playlist("led") == []
    with pytest.raises(NotShowable):
        billboards.frame("led", citation)
    assert crossing.status(citation) == status


def test_every_showable_status_is_reached_only_through_a_reviewers_approval() -> None:
    """The gate's status set, checked against the state machine: from a new citation, no path
    reaches a showable status without the pending -> approved move, which needs a reviewer."""
    start = {Status.PENDING_REVIEW}
    reachable = set(start)
    frontier = list(start)
    while frontier:
        current = frontier.pop()
        for (src, dst), _ in TRANSITIONS.items():
            if src == current and dst != Status.APPROVED and dst not in reachable:
                reachable.add(dst)
                frontier.append(dst)
    assert not (reachable & SHOWABLE), reachable & SHOWABLE
    rule = TRANSITIONS[(Status.PENDING_REVIEW, Status.APPROVED)]
    assert rule.roles == {Role.REVIEWER, Role.SUPERVISOR}


def test_the_render_command_draws_an_approved_citation_and_refuses_the_rest(
    tmp_path: Path, finder: PeopleFinder
) -> None:
    crossing = open_crossing(
        tmp_path,
        open_store(f"sqlite:///{tmp_path / 'stopline.db'}"),
        finder,
        screens=screens(("led", 256, 128)),
    )
    approved = crossing.citation(picture=photo("zidane.jpg", PICTURE_BOX))
    pending = crossing.citation(status=Status.PENDING_REVIEW)
    config = tmp_path / "crossing.yaml"
    config.write_text(yaml.safe_dump(crossing.config.model_dump(mode="json")))
    out = tmp_path / "frame.png"

    def render(citation: str, screen: str, to: Path) -> subprocess.CompletedProcess[str]:
        command = ["billboard", "render", "-c", str(config), "--citation", citation]
        return stopline(*command, "--screen", screen, "--out", str(to), cwd=tmp_path)

    ok = render(approved, "led", out)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert Image.open(out).size == (256, 128)
    refused = render(pending, "led", tmp_path / "no.png")
    assert refused.returncode == 1 and "not approved" in refused.stderr
    assert not (tmp_path / "no.png").exists()
    unknown = render(approved, "nope", tmp_path / "no.png")
    assert unknown.returncode == 1 and "no screen 'nope'" in unknown.stderr


@pytest.mark.parametrize("before", [Status.NOTIFIED, Status.DELIVERY_FAILED])
def test_posting_never_overwrites_what_the_notice_said(crossing: Crossing, before: Status) -> None:
    """`notified` starts the fine's clock and `delivery_failed` needs a person: a billboard
    posting is recorded in its item and the audit log, not over those statuses."""
    citation = crossing.citation()
    with crossing.store.session() as session:
        transition(session, citation, before, "system:test")
    assert crossing.billboards().post(citation, crossing.clock()) == ["led", "big"]
    assert crossing.status(citation) == before
