"""What a deployment keeps off its public screens (issue 19): a case inside its appeal window,
unless it is settled against the person, and a case that names nobody, unless the privacy
policy says otherwise. Judged on SQLite and PostgreSQL by the store's query, with the injected
wall clock."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from display.slide import NotShowable
from identify.people import PeopleFinder
from pipeline.store import Status, Store
from pipeline.store.citations import transition
from pipeline.store.models import AuditEntry
from tests.display.conftest import Crossing, open_crossing, screens

WINDOW = timedelta(days=15)
"""notifier.appeal_days of the demo config the crossings start from."""
SHOWN_FROM = datetime(2026, 12, 6, 16, 0, tzinfo=UTC)
"""Approved 2026-11-21 08:00 UTC (16:00 in Shanghai, the crossings' zone): the notice's
contest-by date is 2026-12-06, open all that day, so the case goes up at midnight after it."""


def held_crossing(tmp_path: Path, store: Store, finder: PeopleFinder) -> Crossing:
    return open_crossing(
        tmp_path, store, finder, screens=screens(("led", 256, 128)), hold_for_appeal=True
    )


def notified(crossing: Crossing, citation: str) -> None:
    with crossing.store.session() as session:
        transition(session, citation, Status.NOTIFIED, "system:test")


def test_a_case_goes_up_only_when_its_appeal_window_has_passed(
    tmp_path: Path, store: Store, finder: PeopleFinder
) -> None:
    crossing = held_crossing(tmp_path, store, finder)
    assert crossing.config.notifier.appeal_days == WINDOW.days
    citation = crossing.citation()
    billboards = crossing.billboards()
    approved_at = crossing.clock()
    assert billboards.post(citation, approved_at) == ["led"], "posted at once, held"
    assert crossing.status(citation) == Status.APPROVED, "not marked displayed while held"
    notified(crossing, citation)
    assert billboards.playlist("led") == []
    with pytest.raises(NotShowable, match="not on"):
        billboards.frame("led", citation)
    crossing.clock.advance(WINDOW)
    assert billboards.playlist("led") == [], "the contest-by day is not over yet"
    crossing.clock.at = SHOWN_FROM - timedelta(seconds=1)
    assert billboards.playlist("led") == []
    crossing.clock.at = SHOWN_FROM
    assert billboards.playlist("led") == [citation]
    assert billboards.frame("led", citation).size == (256, 128)
    # The screen's maximum age counts from when it went up, not from the approval.
    crossing.clock.advance(timedelta(hours=72) - timedelta(seconds=1))
    assert billboards.playlist("led") == [citation]
    crossing.clock.advance(timedelta(seconds=1))
    assert billboards.playlist("led") == []
    with crossing.store.session() as session:
        detail = session.scalar(
            select(AuditEntry.detail).where(AuditEntry.action == "billboard.posted")
        )
    assert detail is not None and detail["shown_from"] == SHOWN_FROM.isoformat()


@pytest.mark.parametrize("status", [None, Status.DELIVERY_FAILED])
def test_a_person_never_told_is_never_shown_after_the_window(
    tmp_path: Path, store: Store, finder: PeopleFinder, status: Status | None
) -> None:
    """No SMS went out (nobody's phone on record), or the carrier reported it undelivered: the
    person never had the window to appeal in, so the window's end shows nothing."""
    crossing = held_crossing(tmp_path, store, finder)
    citation = crossing.citation()
    billboards = crossing.billboards()
    billboards.post(citation, crossing.clock())
    if status is not None:
        with crossing.store.session() as session:
            transition(session, citation, status, "system:test")
    crossing.clock.at = SHOWN_FROM + timedelta(hours=1)
    assert billboards.playlist("led") == []


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ([Status.NOTIFIED], False),
        ([Status.NOTIFIED, Status.APPEALED], False),
        ([Status.NOTIFIED, Status.APPEALED, Status.UPHELD], True),
        ([Status.NOTIFIED, Status.PAID], True),
        ([Status.NOTIFIED, Status.APPEALED, Status.DISMISSED], False),
    ],
)
def test_a_case_settled_against_the_person_goes_up_at_once(
    tmp_path: Path, store: Store, finder: PeopleFinder, path: list[Status], shown: bool
) -> None:
    crossing = held_crossing(tmp_path, store, finder)
    citation = crossing.citation()
    billboards = crossing.billboards()
    billboards.post(citation, crossing.clock())
    with crossing.store.session() as session:
        for status in path:
            supervisor = status in (Status.UPHELD, Status.DISMISSED)
            actor, reason = ("sam", "decided") if supervisor else ("system:test", None)
            transition(session, citation, status, actor, reason)
    assert billboards.playlist("led") == ([citation] if shown else [])


def test_a_case_naming_nobody_stays_off_unless_the_policy_shows_it(
    tmp_path: Path, store: Store, finder: PeopleFinder
) -> None:
    hidden = open_crossing(tmp_path, store, finder, screens=screens(("led", 256, 128)))
    nobody = hidden.citation(person=None)
    named = hidden.citation()
    billboards = hidden.billboards()
    assert billboards.post(nobody, hidden.clock()) == []
    assert billboards.post(named, hidden.clock()) == ["led"]
    assert billboards.playlist("led") == [named]
    with pytest.raises(NotShowable, match="names nobody"):
        billboards.render_citation(nobody, "led")
    policy = hidden.config.display.privacy.model_copy(update={"unidentified": "shown"})
    display = hidden.config.display.model_copy(update={"privacy": policy})
    shown = replace(hidden, config=hidden.config.model_copy(update={"display": display}))
    assert shown.billboards().post(nobody, hidden.clock()) == ["led"]
    assert set(shown.billboards().playlist("led")) == {named, nobody}
