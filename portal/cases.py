"""The fined person's own case: what was seen, the fine and its deadlines, and the appeal.

Everything is read from the store, worded by `pipeline.offences` as the SMS and the billboard
word it. A contest is one transaction: the appeal row with what the person wrote and sent, the
citation's move to `appealed` (so the case leaves the billboards and reaches a supervisor's
queue in the console), and the audit row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.config import NotifierConfig
from pipeline.evidence import EvidenceStore
from pipeline.media_types import sniff
from pipeline.notices import due_date, end_of
from pipeline.offences import Offence
from pipeline.store import audit
from pipeline.store.citations import IllegalTransition, approved_at, transition
from pipeline.store.citizen import Appeal, add_files, portal_media
from pipeline.store.models import Camera, Citation, Status, Violation, utcnow

CONTESTABLE = frozenset(
    {Status.APPROVED, Status.NOTIFIED, Status.DISPLAYED, Status.DELIVERY_FAILED}
)
UPLOAD_TYPES = ("image/jpeg", "image/png", "application/pdf")
"""What an appeal may attach, told by the file's first bytes, not by what the browser says."""
MAX_REASON_CHARS = 4000


class AppealRefused(ValueError):
    """Why a contest cannot be filed: shown to the person as it is."""


@dataclass(frozen=True)
class CitizenCase:
    citation: Citation
    offence: Offence
    place: str
    occurred_local: datetime
    pay_by: date
    appeal_by: date
    appeal: Appeal | None
    media: list[dict[str, str]]
    """The blurred key frames and clip (`portal.stage`); empty until made."""

    @property
    def can_appeal(self) -> bool:
        return self.citation.status in CONTESTABLE and self.appeal is None

    @property
    def can_nominate(self) -> bool:
        """Only the keeper of a vehicle can say someone else was driving it."""
        return self.can_appeal and self.offence.kind == "red_light"


def _deadlines(
    session: Session, citation: Citation, config: NotifierConfig
) -> tuple[date, date, datetime]:
    """Pay-by and contest-by dates in the deployment's zone (as the SMS printed them), and the
    end of the contest-by day, when the appeal window closes."""
    approved = approved_at(session, citation.id) or citation.created_at
    appeal_by = due_date(approved, config.appeal_days, config.timezone)
    return (
        due_date(approved, config.payment_days, config.timezone),
        appeal_by,
        end_of(appeal_by, config.timezone),
    )


def load(session: Session, citation_id: str, config: NotifierConfig) -> CitizenCase:
    citation = session.get(Citation, citation_id)
    if citation is None:
        raise LookupError(citation_id)
    violation = session.get(Violation, citation.violation_id)
    camera = session.get(Camera, citation.camera_id)
    assert violation is not None and camera is not None  # foreign keys
    pay_by, appeal_by, _ = _deadlines(session, citation, config)
    appeal = session.scalar(
        select(Appeal).where(Appeal.citation_id == citation_id).order_by(Appeal.id.desc())
    )
    return CitizenCase(
        citation=citation,
        offence=Offence.of(violation.event),
        place=camera.location or camera.name,
        occurred_local=violation.occurred_at.astimezone(ZoneInfo(config.timezone)),
        pay_by=pay_by,
        appeal_by=appeal_by,
        appeal=appeal,
        media=portal_media(citation),
    )


def upload_type(data: bytes) -> str:
    media_type = sniff(data[:12])
    if media_type not in UPLOAD_TYPES:
        raise AppealRefused("attach a photo (JPEG, PNG) or a PDF document")
    return media_type


def contest(
    session: Session,
    citation_id: str,
    actor: str,
    reason: str,
    upload: bytes | None,
    evidence: EvidenceStore,
    config: NotifierConfig,
    now: datetime | None = None,
    nominee: dict[str, str] | None = None,
) -> Appeal:
    """File the person's appeal, or the keeper's nomination of the driver (`nominee`: name,
    national_id, phone), or raise `AppealRefused` and change nothing. Either goes to the
    supervisors' appeals queue; a nomination names a person the registry may not know, so a
    supervisor decides what follows."""
    now = now or utcnow()
    reason = reason.strip()
    if nominee is not None:
        nominee = {k: " ".join(v.split())[:200] for k, v in nominee.items()}
        if not nominee.get("name") or not (nominee.get("national_id") or nominee.get("phone")):
            raise AppealRefused("give the driver's name and an ID number or phone number")
        reason = reason or "the keeper names another driver"
    if not reason:
        raise AppealRefused("say why you contest the fine")
    if len(reason) > MAX_REASON_CHARS:
        raise AppealRefused(f"write at most {MAX_REASON_CHARS} characters")
    citation = session.get(Citation, citation_id)
    if citation is None:
        raise LookupError(citation_id)
    violation = session.get(Violation, citation.violation_id)
    if nominee is not None and (violation is None or violation.kind != "red_light"):
        raise AppealRefused("only a vehicle's keeper can name its driver")
    if citation.status not in CONTESTABLE:
        raise AppealRefused(f"this case is {citation.status} and cannot be contested")
    _, _, closes = _deadlines(session, citation, config)
    if now > closes:
        raise AppealRefused("the appeal window has closed")
    sha256 = media_type = None
    if upload:
        stored = evidence.put(upload, "appeal:upload", upload_type(upload))
        sha256, media_type = stored.sha256, stored.media_type
        add_files(citation, [stored])
    appeal = Appeal(
        citation_id=citation_id,
        kind="contest" if nominee is None else "nomination",
        nominee=nominee,
        reason=reason,
        upload_sha256=sha256,
        upload_media_type=media_type,
        channel="portal",
        created_at=now,
    )
    session.add(appeal)
    why = "contested in the portal" if nominee is None else "driver nominated in the portal"
    try:
        transition(session, citation_id, Status.APPEALED, actor, why)
    except IllegalTransition as refused:  # another tab's appeal, or a decision, came first
        raise AppealRefused("this case can no longer be contested") from refused
    detail = {"kind": appeal.kind, "upload_sha256": sha256, "reason_chars": len(reason)}
    audit.append(session, actor, "appeal.filed", "citation", citation_id, detail)
    return appeal
