"""What one slide says and shows, read from the store for an approved citation only.

This is the one gate between the case file and a public screen: `showable` refuses every
citation that a reviewer has not approved (or that was since appealed or dismissed), and every
render goes through it, whatever the playlist or an event says. Text passes through the privacy
policy here, so a layout can only print what the policy lets out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from PIL import Image
from sqlalchemy.orm import Session

from display.picture import People, decode, redact
from display.privacy import shown_name, shown_national_id, shown_plate
from pipeline.config import PrivacyPolicy
from pipeline.evidence import EvidenceStore
from pipeline.offences import Offence
from pipeline.store.models import Camera, Citation, Status, Violation
from pipeline.store.registry import get_person

SHOWABLE = frozenset(
    {
        Status.APPROVED,
        Status.NOTIFIED,
        Status.DISPLAYED,
        Status.DELIVERY_FAILED,
        Status.UPHELD,
        Status.PAID,
    }
)
"""Approved by a reviewer and not under appeal: pending, rejected, appealed and dismissed
citations are never shown."""
PICTURE_ROLE = "crop:offender"
RECORD_FIELDS = frozenset({"place", "plate", "name", "national_id"})
"""Fields read from records (the registry, the camera table) rather than from the deployment's
config: no start-up check bounds their length, so a renderer may cut them to fit."""


class NotShowable(LookupError):
    """A citation a screen must not show."""


@dataclass(frozen=True)
class Locale:
    """Deployment facts a slide prints that the display section does not own."""

    timezone: str
    fine_text: str
    message: str


@dataclass(frozen=True)
class Slide:
    citation_id: str | None
    """None: the idle slide."""
    fields: dict[str, str | None]
    """Template fields; None where the privacy policy hides the value."""
    picture: Image.Image | None
    """Already redacted."""


def why_hidden(status: str, person_id: str | None, policy: PrivacyPolicy) -> str | None:
    """Why a case may be on no screen; None when it may."""
    if status not in SHOWABLE:
        return f"is {status}, not approved"
    if person_id is None and policy.unidentified == "hidden":
        return "names nobody (display.privacy.unidentified: hidden)"
    return None


def showable(session: Session, citation_id: str, policy: PrivacyPolicy) -> Citation:
    citation = session.get(Citation, citation_id)
    if citation is None:
        raise NotShowable(f"no citation {citation_id}")
    why = why_hidden(citation.status, citation.person_id, policy)
    if why is not None:
        raise NotShowable(f"citation {citation_id} {why}")
    return citation


def picture_ref(violation: Violation) -> str | None:
    """The SHA-256 of the offender crop in the violation's evidence, if it has one."""
    for ref in violation.event.get("evidence", []):
        if ref.get("role") == PICTURE_ROLE:
            return str(ref["sha256"])
    return None


def offender_picture(evidence: EvidenceStore, violation: Violation) -> Image.Image | None:
    """The unredacted crop; None when the case has none or retention purged it."""
    digest = picture_ref(violation)
    if digest is None or not evidence.path_of(digest).is_file():
        return None
    return decode(evidence.get(digest))


def citation_slide(
    session: Session,
    evidence: EvidenceStore,
    citation_id: str,
    policy: PrivacyPolicy,
    locale: Locale,
    people: Callable[[Image.Image, Violation], People],
) -> Slide:
    """The slide of an approved citation; `people` says who is who in its picture."""
    citation = showable(session, citation_id, policy)
    violation = session.get(Violation, citation.violation_id)
    camera = session.get(Camera, citation.camera_id)
    assert violation is not None and camera is not None  # foreign keys
    person = get_person(session, citation.person_id) if citation.person_id else None
    offence = Offence.of(violation.event)
    local = _local(violation.occurred_at, locale.timezone)
    fields: dict[str, str | None] = {
        "offence_zh": offence.title("zh-CN"),
        "offence_en": offence.title("en"),
        "place": camera.location or camera.name,
        "when": local.strftime("%Y-%m-%d %H:%M"),
        "when_short": local.strftime("%m-%d %H:%M"),
        "fine": locale.fine_text,
        "plate": shown_plate(citation.plate_text, policy),
        "name": shown_name(person.name if person else None, policy),
        "national_id": shown_national_id(person.national_id if person else None, policy),
        "reference": citation.id[:8].upper(),
        "message": locale.message,
    }
    picture = offender_picture(evidence, violation)
    if picture is not None:
        picture = redact(picture, people(picture, violation), policy)
    return Slide(citation.id, fields, picture)


def idle_slide(message: str, place: str) -> Slide:
    return Slide(None, {"message": message, "place": place}, None)


def _local(moment: datetime, timezone: str) -> datetime:
    return moment.astimezone(ZoneInfo(timezone))
