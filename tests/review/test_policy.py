"""The review gate: nothing is approved without a person unless config explicitly says so."""

from sqlalchemy import select

from identify.stage import IdentifyStage
from pipeline.bus import MemoryBus
from pipeline.config import IdentificationConfig, ReviewConfig
from pipeline.events import CITATIONS_APPROVED, VIOLATIONS_IDENTIFIED, CitationApproved, Event
from pipeline.outbox import relay_once
from pipeline.store import Status, Store, transition
from pipeline.store.models import AuditEntry, Citation
from pipeline.store.registry import add_user
from review.policy import AutoReviewer
from tests.stage_helpers import never_loaded, violation_event, with_camera


def run_chain(store: Store, review: ReviewConfig) -> tuple[MemoryBus, list[Event]]:
    bus = MemoryBus()
    IdentifyStage(with_camera(store), bus, IdentificationConfig(), plates=never_loaded).handle(
        violation_event()
    )
    reviewer = AutoReviewer(store, review)
    reviewer.ensure_user()
    consumer = bus.subscribe(VIOLATIONS_IDENTIFIED, reviewer.group, reviewer.handle)
    while consumer.poll(0.05):
        pass
    relay_once(store, bus)
    approved: list[Event] = []
    out = bus.subscribe(CITATIONS_APPROVED, "t", approved.append)
    while out.poll(0.05):
        pass
    return bus, approved


def status(store: Store) -> str:
    with store.session() as session:
        return session.scalars(select(Citation.status)).one()


def test_default_config_leaves_the_case_for_a_person(store: Store) -> None:
    _, approved = run_chain(store, ReviewConfig())
    assert status(store) == Status.PENDING_REVIEW
    assert approved == []


def test_demo_reviewer_approves_and_the_audit_says_so(store: Store) -> None:
    _, approved = run_chain(store, ReviewConfig(demo_reviewer="demo-reviewer"))
    assert status(store) == Status.APPROVED
    [event] = approved
    assert isinstance(event, CitationApproved) and event.auto and event.reviewer == "demo-reviewer"
    with store.session() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert any(r.action == "user.created" and r.detail == {"mode": "demo_reviewer"} for r in rows)
    decision = [r for r in rows if r.detail.get("to") == Status.APPROVED]
    assert decision[0].actor == "demo-reviewer"
    assert "demo reviewer" in decision[0].detail["reason"]


def test_policy_never_overrides_a_human_rejection(store: Store) -> None:
    bus = MemoryBus()
    IdentifyStage(with_camera(store), bus, IdentificationConfig(), plates=never_loaded).handle(
        violation_event()
    )
    reviewer = AutoReviewer(store, ReviewConfig(auto_approve=True))
    reviewer.ensure_user()
    with store.session() as session:
        add_user(session, "officer", "x", "reviewer")
        citation_id = session.scalars(select(Citation.id)).one()
        transition(session, citation_id, Status.REJECTED, "officer", "not_a_violation")
    consumer = bus.subscribe(VIOLATIONS_IDENTIFIED, reviewer.group, reviewer.handle)
    while consumer.poll(0.05):
        pass
    assert status(store) == Status.REJECTED
