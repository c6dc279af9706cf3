"""Evidence retention on SQLite and PostgreSQL with real files: what goes, when, and what stays.

Cases are real rows (violation, citation moved through the state machine by users with roles)
over real JPEG files cropped from a real photo in the shared data; time passes by setting a
citation's last status change in the past and passing `now`.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import yaml
from sqlalchemy import select, update

import pipeline.retention as retention
from pipeline.config import RetentionConfig, load_config
from pipeline.events import EvidenceRef, SignalSnapshot, ViolationDetected, ViolationSuppressed
from pipeline.evidence import EvidenceStore, StoredFile, load_or_create_key
from pipeline.retention import RetentionReport, run_retention
from pipeline.store import Status, Store, create_citation, open_store, transition, verify_chain
from pipeline.store.citizen import add_files
from pipeline.store.models import AuditEntry, Citation, utcnow
from pipeline.store.registry import add_person, ensure_user, put_camera, record_violation
from pipeline.store.suppressed import SuppressedEvent, record_suppressed
from stopline.demo.run import DEMO_CONFIG
from stopline.wiring import Pipeline
from tests.cli import stopline
from tests.shared_data import DATA, need

REVIEWER, SUPERVISOR, STAGE = "rita", "sam", "system:test"
POLICY = RetentionConfig()  # 30 days rejected, 365 closed, 24 h uncited faces
_PATHS = {
    Status.PENDING_REVIEW: [],
    Status.APPROVED: [Status.APPROVED],
    Status.REJECTED: [Status.REJECTED],
    Status.NOTIFIED: [Status.APPROVED, Status.NOTIFIED],
    Status.PAID: [Status.APPROVED, Status.NOTIFIED, Status.PAID],
    Status.DISMISSED: [Status.APPROVED, Status.NOTIFIED, Status.APPEALED, Status.DISMISSED],
}
_ACTORS = {Status.APPROVED: REVIEWER, Status.REJECTED: REVIEWER, Status.DISMISSED: SUPERVISOR}


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    image = cv2.imread(str(need(DATA / "faces" / "t1.jpg")), cv2.IMREAD_COLOR)
    assert image is not None
    return image


@pytest.fixture
def jpegs(photo: np.ndarray) -> Iterator[bytes]:
    """Distinct real JPEGs: crops of the photo at ever new offsets."""

    def crops() -> Iterator[bytes]:
        for n in itertools.count():
            y, x = divmod(n, 40)
            ok, data = cv2.imencode(".jpg", photo[y * 9 : y * 9 + 160, x * 9 : x * 9 + 200])
            assert ok
            yield data.tobytes()

    return crops()


@pytest.fixture
def evidence(tmp_path: Path) -> EvidenceStore:
    return EvidenceStore(tmp_path / "evidence", load_or_create_key(tmp_path / "key.pem"))


@dataclass(frozen=True)
class Case:
    citation_id: str
    violation_id: str
    event_files: frozenset[str]
    crops: frozenset[str]
    face: str | None
    manifest: Path
    manifest_sha256: str

    @property
    def files(self) -> frozenset[str]:
        return self.event_files | self.crops


class Cases:
    """Makes cases in a store: a recorded violation with signed evidence and its citation."""

    def __init__(self, store: Store, evidence: EvidenceStore, jpegs: Iterator[bytes]) -> None:
        self.store, self.evidence, self.jpegs = store, evidence, jpegs
        self.now = utcnow()
        with store.session() as session:
            put_camera(session, "cam-1", "North approach")
            ensure_user(session, REVIEWER, "hash-r", "reviewer")
            ensure_user(session, SUPERVISOR, "hash-s", "supervisor")
            add_person(session, "Ann Example", person_id="p-ann")

    def put(self, role: str, data: bytes | None = None) -> StoredFile:
        return self.evidence.put(data or next(self.jpegs), role, "image/jpeg")

    def violation(self, pedestrian: bool = True, shared: tuple[bytes, ...] = ()) -> Case:
        """A violation recorded without a citation yet (identify has not run)."""
        files = [self.put("key_frame:red"), self.put("crop:offender"), self.put("crop:track")]
        files += [self.put("key_frame:shared", data) for data in shared]
        violation_id = uuid.uuid4().hex
        manifest_sha256 = self.evidence.write_manifest(violation_id, files, {"test": True})
        event = ViolationDetected(
            violation_id=violation_id,
            kind="jaywalk" if pedestrian else "red_light",
            camera_id="cam-1",
            occurred_at=self.now,
            track_id=7,
            object_class="person" if pedestrian else "car",
            rule="zone-1",
            evidence=[
                EvidenceRef(sha256=f.sha256, role=f.role, media_type=f.media_type) for f in files
            ],
            manifest_sha256=manifest_sha256,
        )
        with self.store.session() as session:
            record_violation(session, event)
        return Case(
            citation_id="",
            violation_id=event.violation_id,
            event_files=frozenset(f.sha256 for f in files),
            crops=frozenset(),
            face=None,
            manifest=self.evidence.manifest_path(event.violation_id),
            manifest_sha256=manifest_sha256,
        )

    def suppressed(self, age: timedelta, shared: tuple[bytes, ...] = ()) -> Case:
        """A crossing a safeguard kept from being cited, recorded `age` before `self.now`, with
        its signed evidence, as the review stage records it."""
        files = [self.put("key_frame:stop_line"), self.put("crop:offender")]
        files += [self.put("key_frame:shared", data) for data in shared]
        event_id = uuid.uuid4().hex
        manifest_sha256 = self.evidence.write_manifest(event_id, files, {"suppressed": True})
        event = ViolationSuppressed(
            event_id=event_id,
            kind="red_light",
            safeguard="grace_period",
            reason="committed 0.10 s into red, within the 0.3 s grace period",
            camera_id="cam-1",
            occurred_at=self.now - age,
            track_id=9,
            object_class="car",
            rule="stop-1",
            signal=SignalSnapshot(phase="red", source="fixed_plan", time_into_red_s=0.1),
            judged_s=13.1,
            stream_s=14.6,
            evidence=[
                EvidenceRef(sha256=f.sha256, role=f.role, media_type=f.media_type) for f in files
            ],
            manifest_sha256=manifest_sha256,
        )
        with self.store.session() as session:
            record_suppressed(session, event)
            session.execute(
                update(SuppressedEvent)
                .where(SuppressedEvent.id == event_id)
                .values(recorded_at=self.now - age)
            )
        return Case(
            citation_id=event_id,
            violation_id=event_id,
            event_files=frozenset(f.sha256 for f in files),
            crops=frozenset(),
            face=None,
            manifest=self.evidence.manifest_path(event_id),
            manifest_sha256=manifest_sha256,
        )

    def case(
        self,
        status: Status,
        age: timedelta,
        *,
        pedestrian: bool = True,
        person_id: str | None = None,
        shared: tuple[bytes, ...] = (),
    ) -> Case:
        """A citation in `status` whose last status change was `age` before `self.now`."""
        violation = self.violation(pedestrian, shared)
        crop = self.put("crop:face" if pedestrian else "crop:plate")
        record = "face" if pedestrian else "plate"
        identification = {
            record: {
                "status": "identified" if person_id else "unidentified",
                "crop_sha256": crop.sha256,
            },
            "evidence": [{"sha256": crop.sha256, "role": crop.role, "media_type": "image/jpeg"}],
        }
        with self.store.session() as session:
            citation = create_citation(
                session,
                violation.violation_id,
                person_id=person_id,
                plate_text=None if pedestrian else "AB123CD",
                identification=identification,
            )
            for step in _PATHS[status]:
                transition(session, citation.id, step, _ACTORS.get(step, STAGE), "test case")
            session.execute(
                update(Citation).where(Citation.id == citation.id).values(updated_at=self.now - age)
            )
        return Case(
            citation_id=citation.id,
            violation_id=violation.violation_id,
            event_files=violation.event_files,
            crops=frozenset({crop.sha256}),
            face=crop.sha256 if pedestrian else None,
            manifest=violation.manifest,
            manifest_sha256=violation.manifest_sha256,
        )

    def run(self, *, later: timedelta = timedelta(0), **kwargs: Any) -> RetentionReport:
        return run_retention(self.store, self.evidence, POLICY, now=self.now + later, **kwargs)

    def present(self, digest: str) -> bool:
        return self.evidence.path_of(digest).is_file()

    def intact(self, case: Case) -> bool:
        """Every file of the case on disk and its signed manifest verifying."""
        report = self.evidence.verify_manifest(case.manifest)
        return report.ok and all(self.present(d) for d in case.files)

    def gone(self, case: Case) -> bool:
        return not case.manifest.exists() and not any(self.present(d) for d in case.files)

    def citation(self, case: Case) -> Citation:
        with self.store.session() as session:
            citation = session.get(Citation, case.citation_id)
            assert citation is not None
            return citation

    def audit_rows(self) -> list[AuditEntry]:
        with self.store.session() as session:
            query = select(AuditEntry).where(AuditEntry.actor == retention.ACTOR)
            return list(session.scalars(query.order_by(AuditEntry.id)))


@pytest.fixture
def cases(store: Store, evidence: EvidenceStore, jpegs: Iterator[bytes]) -> Cases:
    return Cases(store, evidence, jpegs)


DAY, HOUR = timedelta(days=1), timedelta(hours=1)


# --- what goes and when -----------------------------------------------------------------------


def test_rejected_evidence_goes_after_its_days_and_younger_stays(cases: Cases) -> None:
    old = cases.case(Status.REJECTED, 31 * DAY, pedestrian=False)  # a car: no face crop
    young = cases.case(Status.REJECTED, 29 * DAY, pedestrian=False)

    report = cases.run()

    assert cases.gone(old)
    assert cases.intact(young)
    assert cases.citation(old).evidence_purged_at is not None
    assert cases.citation(young).evidence_purged_at is None
    assert report.purged == {"rejected": 1}
    assert report.files_deleted == len(old.files) + 1 == 5  # 3 event files, plate crop, manifest
    assert report.bytes_freed > 0


def test_closed_evidence_goes_after_the_closed_days(cases: Cases) -> None:
    paid = cases.case(Status.PAID, 366 * DAY, pedestrian=False, person_id="p-ann")
    dismissed = cases.case(Status.DISMISSED, 366 * DAY, pedestrian=False, person_id="p-ann")
    recent = cases.case(Status.PAID, 364 * DAY, pedestrian=False, person_id="p-ann")

    report = cases.run()

    assert cases.gone(paid) and cases.gone(dismissed)
    assert cases.intact(recent)
    assert report.purged == {"closed": 2}


def test_what_the_portal_added_goes_with_the_evidence(cases: Cases) -> None:
    """The blurred key frame and clip the person watched, and their appeal's attachment."""
    dismissed = cases.case(Status.DISMISSED, 366 * DAY, pedestrian=False, person_id="p-ann")
    recent = cases.case(Status.DISMISSED, 364 * DAY, pedestrian=False, person_id="p-ann")
    added = {}
    for case in (dismissed, recent):
        files = [cases.put(role) for role in ("portal:key_frame:red", "appeal:upload")]
        with cases.store.session() as session:
            citation = session.get(Citation, case.citation_id)
            assert citation is not None
            add_files(citation, files)
        added[case.citation_id] = [f.sha256 for f in files]

    report = cases.run()

    assert cases.gone(dismissed) and cases.intact(recent)
    assert not any(cases.present(d) for d in added[dismissed.citation_id])
    assert all(cases.present(d) for d in added[recent.citation_id])
    assert report.files_deleted == len(dismissed.files) + 2 + 1  # the two added, the manifest


def test_open_cases_are_never_purged(cases: Cases) -> None:
    ancient = 3650 * DAY
    kept = [
        cases.case(Status.PENDING_REVIEW, ancient),  # unidentified, still under review
        cases.case(Status.PENDING_REVIEW, ancient, person_id="p-ann"),
        cases.case(Status.APPROVED, ancient, person_id="p-ann"),
        cases.case(Status.NOTIFIED, ancient, person_id="p-ann"),
        cases.case(Status.APPROVED, ancient, pedestrian=False),
    ]
    strict = RetentionConfig(rejected_evidence_days=0, closed_evidence_days=0, uncited_face_hours=0)

    report = run_retention(cases.store, cases.evidence, strict, now=cases.now)

    assert all(cases.intact(case) for case in kept)
    assert report.purged == {} and report.files_deleted == 0
    assert cases.audit_rows() == []


def test_face_crop_of_people_not_cited_goes_after_hours_the_rest_after_days(cases: Cases) -> None:
    rejected = cases.case(Status.REJECTED, 25 * HOUR)
    unnamed = cases.case(Status.APPROVED, 25 * HOUR)  # approved, but nobody identified
    named = cases.case(Status.APPROVED, 25 * HOUR, person_id="p-ann")
    fresh = cases.case(Status.REJECTED, 23 * HOUR)

    report = cases.run()

    assert report.purged == {"not_cited": 2}
    for case in (rejected, unnamed):
        assert not cases.present(case.face or "")
        assert cases.evidence.verify_manifest(case.manifest).ok  # the evidence stays
        assert all(cases.present(d) for d in case.event_files)
        citation = cases.citation(case)
        assert citation.face_crops_purged_at is not None and citation.evidence_purged_at is None
    assert cases.intact(named) and cases.intact(fresh)

    later = cases.run(later=30 * DAY)

    assert later.purged == {"rejected": 2}  # `fresh` too by now; its face goes with the rest
    assert cases.gone(rejected) and cases.gone(fresh)
    assert cases.intact(named) and all(cases.present(d) for d in unnamed.event_files)
    rows = {(r.action, r.subject_id): r.detail for r in cases.audit_rows()}
    face_row = rows[("face_crops.purged", rejected.citation_id)]
    assert face_row["deleted_sha256"] == [rejected.face]
    assert face_row["policy"] == {"uncited_face_hours": 24}
    assert face_row["reason"] == "not_cited"
    evidence_row = rows[("evidence.purged", rejected.citation_id)]
    assert set(evidence_row["deleted_sha256"]) == rejected.event_files  # the face was audited
    evidence_row = rows[("evidence.purged", fresh.citation_id)]
    assert set(evidence_row["deleted_sha256"]) == fresh.files


def test_a_file_shared_with_a_kept_case_survives_until_that_case_goes(cases: Cases) -> None:
    common = next(cases.jpegs)
    purged = cases.case(Status.REJECTED, 31 * DAY, shared=(common,))
    kept = cases.case(Status.PAID, 300 * DAY, person_id="p-ann", shared=(common,))
    waiting = cases.violation(shared=(common,))  # recorded, no citation yet
    shared = cases.put("key_frame:shared", common).sha256

    report = cases.run()

    assert cases.present(shared)
    assert not any(cases.present(d) for d in purged.files - {shared})
    assert cases.intact(kept) and cases.intact(waiting)
    assert report.files_kept_shared == 1
    (row,) = cases.audit_rows()
    assert row.detail["kept_shared_sha256"] == [shared]
    assert shared not in row.detail["deleted_sha256"]

    with cases.store.session() as session:  # the violation gets its citation, rejected
        citation = create_citation(session, waiting.violation_id)
        transition(session, citation.id, Status.REJECTED, REVIEWER, "not a violation")
    assert cases.run(later=31 * DAY).purged == {"rejected": 1}
    assert cases.present(shared)  # still the paid case's
    assert cases.run(later=400 * DAY).purged == {"closed": 1}
    assert not cases.present(shared)
    assert cases.gone(kept) and cases.gone(purged) and cases.gone(waiting)


def test_suppressed_crossings_lose_their_evidence_on_the_rejected_cases_schedule(
    cases: Cases,
) -> None:
    """A crossing the safeguards held back is against nobody, as a rejected case is: its key
    frames, crops, clip and manifest go `rejected_evidence_days` after it was recorded; the
    row stays, so the supervisors' page still lists it."""
    old = cases.suppressed(31 * DAY)
    young = cases.suppressed(29 * DAY)
    rejected = cases.case(Status.REJECTED, 31 * DAY, pedestrian=False)

    report = cases.run()

    assert cases.gone(old) and cases.gone(rejected)
    assert cases.intact(young)
    assert report.purged == {"suppressed": 1, "rejected": 1}
    assert "purged 1 citation(s) (rejected 1, closed 0, not cited 0) and 1 suppressed" in (
        report.summary()
    )
    with cases.store.session() as session:
        purged_at = dict(
            session.execute(select(SuppressedEvent.id, SuppressedEvent.evidence_purged_at)).all()
        )
    assert purged_at[old.citation_id] is not None and purged_at[young.citation_id] is None
    rows = {r.subject_id: r for r in cases.audit_rows()}
    row = rows[old.citation_id]
    assert (row.action, row.subject_type) == ("evidence.purged", "suppressed_event")
    assert row.detail == {
        "reason": "suppressed",
        "policy": {"rejected_evidence_days": 30},
        "safeguard": "grace_period",
        "deleted_sha256": sorted(old.files),
        "kept_shared_sha256": [],
        "manifest_sha256": old.manifest_sha256,
    }
    assert cases.run().purged == {}, "once"


def test_a_file_shared_between_a_suppressed_crossing_and_a_case_goes_with_the_last(
    cases: Cases,
) -> None:
    common = next(cases.jpegs)
    old = cases.suppressed(31 * DAY, shared=(common,))
    paid = cases.case(Status.PAID, 364 * DAY, person_id="p-ann", shared=(common,))
    young = cases.suppressed(1 * DAY, shared=(common,))
    shared = cases.put("key_frame:shared", common).sha256

    assert cases.run().purged == {"suppressed": 1}
    assert cases.present(shared) and cases.intact(paid) and cases.intact(young)
    assert not any(cases.present(d) for d in old.files - {shared})

    assert cases.run(later=2 * DAY).purged == {"closed": 1}  # the young crossing keeps it
    assert cases.present(shared) and cases.intact(young)
    assert not any(cases.present(d) for d in paid.files - {shared})

    assert cases.run(later=40 * DAY).purged == {"suppressed": 1}
    assert not cases.present(shared) and cases.gone(young)


def test_every_purge_is_an_audit_row_and_the_chain_verifies(cases: Cases) -> None:
    rejected = cases.case(Status.REJECTED, 31 * DAY)
    closed = cases.case(Status.DISMISSED, 400 * DAY, pedestrian=False)

    cases.run()

    rows = {r.subject_id: r for r in cases.audit_rows()}
    assert set(rows) == {rejected.citation_id, closed.citation_id}
    assert {r.action for r in rows.values()} == {"evidence.purged"}
    assert all(r.subject_type == "citation" for r in rows.values())
    assert rows[rejected.citation_id].detail == {
        "reason": "rejected",
        "policy": {"rejected_evidence_days": 30},
        "status": "rejected",
        "deleted_sha256": sorted(rejected.files),
        "kept_shared_sha256": [],
        "manifest_sha256": rejected.manifest_sha256,
    }
    closed_detail = rows[closed.citation_id].detail
    assert closed_detail["policy"] == {"closed_evidence_days": 365}
    assert (closed_detail["reason"], closed_detail["status"]) == ("closed", "dismissed")
    assert closed_detail["manifest_sha256"] == closed.manifest_sha256
    with cases.store.session() as session:
        chain = verify_chain(session)
    assert chain.ok, chain.reason


def test_a_second_run_purges_nothing(cases: Cases) -> None:
    cases.case(Status.REJECTED, 31 * DAY)
    cases.case(Status.REJECTED, 25 * HOUR)
    first = cases.run()
    assert first.purged == {"rejected": 1, "not_cited": 1}

    second = cases.run()

    assert second.purged == {} and second.files_deleted == 0 and second.bytes_freed == 0
    assert len(cases.audit_rows()) == 2


def test_a_dry_run_deletes_and_records_nothing(cases: Cases) -> None:
    old = cases.case(Status.REJECTED, 31 * DAY)
    face = cases.case(Status.REJECTED, 25 * HOUR)

    dry = cases.run(dry_run=True)

    assert cases.intact(old) and cases.intact(face)
    assert cases.audit_rows() == []
    assert cases.citation(old).evidence_purged_at is None
    assert cases.citation(face).face_crops_purged_at is None
    real = cases.run()
    assert dry.as_dict() | {"dry_run": False} == real.as_dict()
    assert dry.purged == {"rejected": 1, "not_cited": 1} and dry.files_deleted == 6


def test_files_left_by_a_crash_after_the_commit_go_on_the_next_run(
    cases: Cases, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = cases.case(Status.REJECTED, 31 * DAY)

    def crash(_path: Path, missing_ok: bool = False) -> None:
        raise OSError("power cut")

    with monkeypatch.context() as patch:
        patch.setattr(Path, "unlink", crash)
        with pytest.raises(OSError, match="power cut"):
            cases.run()
    assert cases.intact(old)  # marked and audited, files still there
    assert cases.citation(old).evidence_purged_at is not None
    assert len(cases.audit_rows()) == 1

    report = cases.run()

    assert cases.gone(old)
    assert report.purged == {} and report.files_deleted == len(old.files) + 1
    assert len(cases.audit_rows()) == 1


def test_a_case_reopened_during_the_run_keeps_its_evidence(
    cases: Cases, monkeypatch: pytest.MonkeyPatch
) -> None:
    common = next(cases.jpegs)
    first = cases.case(Status.REJECTED, 31 * DAY, shared=(common,))
    reopened = cases.case(Status.REJECTED, 31 * DAY, shared=(common,))
    commit: Callable[..., bool] = retention._commit

    def reopen_then_commit(store: Store, purge: Any, *args: Any) -> bool:
        if purge.subject_id == reopened.citation_id:
            with store.session() as session:
                transition(session, reopened.citation_id, Status.PENDING_REVIEW, SUPERVISOR, "x")
        return commit(store, purge, *args)

    monkeypatch.setattr(retention, "_commit", reopen_then_commit)

    report = cases.run()

    assert report.purged == {"rejected": 1} and report.citations_skipped == 1
    assert cases.intact(reopened)  # the shared file included
    assert not first.manifest.exists()
    assert not any(cases.present(d) for d in first.files - reopened.files)
    assert cases.citation(reopened).evidence_purged_at is None
    common_sha256 = cases.put("key_frame:shared", common).sha256
    rows = [(r.action, r.subject_id, r.detail) for r in cases.audit_rows()]
    assert rows[0][:2] == ("evidence.purged", first.citation_id)
    assert common_sha256 in rows[0][2]["deleted_sha256"]  # both were to go when it was written
    assert rows[1][:2] == ("evidence.kept", first.citation_id)  # so it is corrected
    assert rows[1][2]["kept_sha256"] == [common_sha256]
    assert len(rows) == 2


# --- the command and the schedule ------------------------------------------------------------


def _site(tmp_path: Path, run_every_h: float = 24.0) -> Path:
    """The demo config with its store, evidence and key in `tmp_path`, one photo as camera."""
    data = yaml.safe_load(DEMO_CONFIG.read_text())
    data["storage"] = {
        "database_url": "sqlite:///stopline.db",
        "evidence_dir": "evidence",
        "signing_key_path": "key.pem",
    }
    data["retention"] = {"run_every_h": run_every_h}
    frames = tmp_path / "frames"
    frames.mkdir()
    (frames / "0001.jpg").write_bytes(need(DATA / "faces" / "t1.jpg").read_bytes())
    data["cameras"][0]["source"] = "frames"
    (tmp_path / "site.yaml").write_text(yaml.safe_dump(data))
    return tmp_path


@pytest.fixture
def site_cases(tmp_path: Path, jpegs: Iterator[bytes]) -> Iterator[Cases]:
    site = _site(tmp_path)
    store = open_store(f"sqlite:///{site / 'stopline.db'}")
    try:
        yield Cases(
            store, EvidenceStore(site / "evidence", load_or_create_key(site / "key.pem")), jpegs
        )
    finally:
        store.close()


def test_the_retention_command_purges_and_reports_json(site_cases: Cases) -> None:
    site = site_cases.evidence.root.parent
    old = site_cases.case(Status.REJECTED, 31 * DAY)
    young = site_cases.case(Status.REJECTED, 2 * DAY)
    going = [site_cases.evidence.path_of(d) for d in old.files | {young.face or ""}]
    size = sum(path.stat().st_size for path in [*going, old.manifest])

    dry = stopline("retention", "run", "--config", "site.yaml", "--dry-run", cwd=site)
    assert dry.returncode == 0, dry.stderr
    assert "would purge 2 citation(s) (rejected 1, closed 0, not cited 1)" in dry.stdout
    assert site_cases.intact(old) and site_cases.intact(young)

    result = stopline("retention", "run", "--config", "site.yaml", "--json", cwd=site)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "dry_run": False,
        "purged": {"rejected": 1, "closed": 0, "not_cited": 1, "suppressed": 0},
        "files_deleted": len(going) + 1,
        "bytes_freed": size,
        "files_kept_shared": 0,
        "citations_skipped": 0,
    }
    assert site_cases.gone(old) and not site_cases.present(young.face or "")
    assert site_cases.evidence.verify_manifest(young.manifest).ok
    again = stopline("retention", "run", "--config", "site.yaml", cwd=site)
    assert again.returncode == 0, again.stderr
    assert "retention: purged 0 citation(s)" in again.stdout


def test_stopline_run_purges_at_start_and_stops_the_schedule(
    site_cases: Cases, caplog: pytest.LogCaptureFixture
) -> None:
    site = site_cases.evidence.root.parent
    old = site_cases.case(Status.REJECTED, 31 * DAY)
    caplog.set_level(logging.INFO, logger="stopline.wiring")

    with Pipeline(load_config(site / "site.yaml"), base_dir=site) as pipeline:
        summary = pipeline.run_all()  # returns although the next purge is 24 h away

    assert summary.frames == 1
    assert site_cases.gone(old)
    assert [r.action for r in site_cases.audit_rows()] == ["evidence.purged"]
    assert any("retention: purged 1 citation(s)" in m for m in caplog.messages)


def test_the_schedule_purges_again_every_run_every_h(site_cases: Cases) -> None:
    site = site_cases.evidence.root.parent
    first = site_cases.case(Status.REJECTED, 31 * DAY)
    config = load_config(site / "site.yaml")
    config = config.model_copy(
        update={"retention": RetentionConfig(run_every_h=0.01 / 3600)}  # every 10 ms
    )
    stop = threading.Event()
    with Pipeline(config, base_dir=site) as pipeline:
        thread = threading.Thread(target=pipeline._purge, args=(stop,), daemon=True)
        thread.start()
        try:
            _wait_for(lambda: site_cases.gone(first))
            second = site_cases.case(Status.REJECTED, 31 * DAY)
            _wait_for(lambda: site_cases.gone(second))
        finally:
            stop.set()
            thread.join()
    # A pass may purge the second case's face crop first, if it read the face query just after
    # the case was made and the evidence query just before: its evidence goes in the next.
    purged = [r.subject_id for r in site_cases.audit_rows() if r.action == "evidence.purged"]
    assert purged == [first.citation_id, second.citation_id]


def _wait_for(condition: Callable[[], bool], deadline_s: float = 60.0) -> None:
    end = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > end:
            pytest.fail("the scheduled retention never purged the case")
        time.sleep(0.01)
