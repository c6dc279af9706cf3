"""Event schemas carried on the bus.

Events are JSON on the wire and never carry image bytes: they point into the evidence store by
content hash, so a message stays small and the evidence stays verifiable in one place.
Every event names its own type, so one topic can be parsed without knowing its producer.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

SCHEMA_VERSION = 1

# Topics: the contract between stages (the dead-letter topic is in pipeline.bus).
VIOLATIONS = "violations"
VIOLATIONS_SUPPRESSED = "violations.suppressed"
"""Crossings a safeguard kept from being cited: read by the review stage's record for the
supervisors, never by identify, the notifier or the billboards."""
VIOLATIONS_IDENTIFIED = "violations.identified"
CITATIONS_APPROVED = "citations.approved"
CITATIONS_REJECTED = "citations.rejected"
CITATIONS_DISMISSED = "citations.dismissed"
SIGNALS = "signals"

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 hex digest")]


E164_PATTERN = r"^\+[1-9]\d{6,14}$"
"""A phone number as SMS gateways take it: +, country code, subscriber number (E.164)."""


class EventError(ValueError):
    """A message on the bus that is not a valid stopline event."""


def _now() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    return uuid.uuid4().hex


def derived_id(*parts: str) -> str:
    """A deterministic event id for an event that follows from another.

    A handler that re-runs after a crash re-publishes the same id, which downstream consumers
    drop as a duplicate: at-least-once delivery without a second outbox.
    """
    return uuid.uuid5(uuid.NAMESPACE_URL, "stopline:" + "|".join(parts)).hex


class Event(BaseModel):
    """Fields every event shares; `event_id` is what consumers deduplicate on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int = Field(SCHEMA_VERSION, description="Version of the event schema")
    event_id: str = Field(default_factory=_new_id, description="Unique id, the idempotency key")
    created_at: datetime = Field(default_factory=_now, description="When the event was made (UTC)")

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()


class EvidenceRef(BaseModel):
    """A file in the evidence store, named by its content hash."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sha256: Sha256
    role: str = Field(description="What the file shows: key_frame, crop, clip, plate, face ...")
    media_type: str = Field(description="MIME type, e.g. image/jpeg or video/mp4")


class SignalSnapshot(BaseModel):
    """The approach's signal at the moment of the violation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    phase: Literal["red", "amber", "green", "unknown"]
    source: Literal["controller", "vision", "fixed_plan"]
    time_into_red_s: float | None = Field(None, description="Seconds since red onset, if red")
    amber_duration_s: float | None = Field(None, description="Measured amber before this red")
    red_onset_seen: bool = Field(
        True,
        description=(
            "False: red began before the source saw it, so time_into_red_s is a lower bound"
        ),
    )
    grace_s: float | None = Field(
        None, description="Seconds after red onset the rule did not cite (the camera's config)"
    )


Reason = Literal[
    "stop_line_on_red", "crosswalk_on_red", "crosswalk_on_flashing", "outside_crosswalk"
]
"""Why a rule fired: a vehicle over the stop line on red; a pedestrian onto a crosswalk on its
red or flashing don't-walk; a pedestrian on the carriageway outside every crosswalk."""


class ViolationDetected(Event):
    event_type: Literal["violation.detected"] = "violation.detected"
    violation_id: str = Field(description="Id of the violation, stable across retries")
    kind: Literal["red_light", "jaywalk"]
    reason: Reason | None = Field(
        None, description="Why the rule fired; None on events of versions that did not say"
    )
    camera_id: str
    occurred_at: datetime = Field(description="Capture time of the frame where the rule fired")
    track_id: int = Field(description="Tracker id of the offending object")
    object_class: Literal["person", "bicycle", "car", "motorcycle", "bus", "truck"]
    signal: SignalSnapshot | None = Field(
        None, description="Signal of the approach or crosswalk; None where none applies"
    )
    speed_px_s: float | None = Field(None, description="Speed estimate in pixels per second")
    speed_kmh: float | None = Field(
        None, description="Speed on the road, where the camera has a ground calibration"
    )
    rule: str = Field(description="Which configured line or zone the rule fired on")
    stream_s: float | None = Field(
        None,
        description=(
            "Seconds from the start of the stream or recording to that moment: where to seek "
            "in the footage"
        ),
    )
    where_px: tuple[float, float] | None = Field(
        None, description="Offender's ground point [x, y] in the camera image at that moment"
    )
    evidence: list[EvidenceRef] = Field(default_factory=list)
    manifest_sha256: Sha256 = Field(description="Hash of the signed evidence manifest")


Safeguard = Literal[
    "unknown_phase", "red_onset_not_seen", "grace_period", "amber_too_short", "turn_allowed"
]
"""Which safeguard kept a crossing from being cited: the signal (vehicle or pedestrian) was
unknown; red had begun before the source saw it and was not seen long enough; the vehicle
committed within the grace period after red onset; the amber before red was shorter than the
minimum; the turn it made is allowed on red at that line."""


class ViolationSuppressed(Event):
    """A rule's crossing that a safeguard kept from being cited, with the evidence a case would
    have had, so that supervisors can audit the safeguards. It never becomes a citation.

    `event_id` is derived from the footage (camera, kind, track, capture time), so a replay of
    the same footage re-publishes the same id and the record keeps it once.
    """

    event_type: Literal["violation.suppressed"] = "violation.suppressed"
    kind: Literal["red_light", "jaywalk"]
    safeguard: Safeguard
    reason: str = Field(description="The rule's own words, e.g. 'amber 2.1 s below minimum'")
    camera_id: str
    occurred_at: datetime = Field(description="Capture time of the crossing")
    track_id: int = Field(description="Tracker id of the road user")
    object_class: Literal["person", "bicycle", "car", "motorcycle", "bus", "truck"]
    rule: str = Field(description="The stop line or crosswalk the rule judged")
    signal: SignalSnapshot = Field(description="The signal as the rule saw it when it judged")
    judged_s: float = Field(description="Stream seconds at which the signal was judged")
    stream_s: float = Field(description="Stream seconds of the crossing: where to seek")
    where_px: tuple[float, float] | None = Field(
        None, description="The road user's ground point [x, y] in the camera image then"
    )
    evidence: list[EvidenceRef] = Field(default_factory=list)
    manifest_sha256: Sha256 | None = Field(
        None, description="Hash of the signed evidence manifest; None where none was kept"
    )


class ViolationIdentified(Event):
    event_type: Literal["violation.identified"] = "violation.identified"
    violation_id: str
    camera_id: str
    citation_id: str
    plate_text: str | None = Field(None, description="Normalised plate, None when unreadable")
    plate_confidence: float | None = Field(None, ge=0, le=1)
    person_id: str | None = Field(None, description="Enrolled person, None when unidentified")
    face_score: float | None = Field(None, description="Cosine similarity of the best face match")
    evidence: list[EvidenceRef] = Field(default_factory=list)


class CitationApproved(Event):
    event_type: Literal["citation.approved"] = "citation.approved"
    citation_id: str
    camera_id: str
    reviewer: str = Field(description="User name of the approving reviewer")
    auto: bool = Field(False, description="True when an audited auto-approve policy decided")


class CitationRejected(Event):
    event_type: Literal["citation.rejected"] = "citation.rejected"
    citation_id: str
    camera_id: str
    reviewer: str
    reason: str = Field(description="Reason code, e.g. not_a_violation, plate_unreadable")


class CitationDismissed(Event):
    """An approved citation withdrawn on appeal: billboards must take it down."""

    event_type: Literal["citation.dismissed"] = "citation.dismissed"
    citation_id: str
    camera_id: str
    supervisor: str
    reason: str


class SignalPhaseChanged(Event):
    """A controller feed (NTCIP / SPaT gateway) reporting a phase change on one approach."""

    event_type: Literal["signal.phase_changed"] = "signal.phase_changed"
    camera_id: str
    approach: str
    phase: Literal["red", "amber", "green", "unknown"]
    changed_at: datetime


class DeadLetter(Event):
    """A message that could not be parsed or handled; kept with its error, never dropped."""

    event_type: Literal["dead_letter"] = "dead_letter"
    source_topic: str
    consumer_group: str
    key: str | None
    payload: str = Field(description="The original message value, decoded as UTF-8 with escapes")
    error: str = Field(description="Last error, one line")
    attempts: int = Field(ge=0, description="How many times the handler was tried")
    original_event_id: str | None = Field(None, description="event_id if the payload parsed")


AnyEvent = Annotated[
    ViolationDetected
    | ViolationSuppressed
    | ViolationIdentified
    | CitationApproved
    | CitationRejected
    | CitationDismissed
    | SignalPhaseChanged
    | DeadLetter,
    Field(discriminator="event_type"),
]

_ADAPTER: TypeAdapter[AnyEvent] = TypeAdapter(AnyEvent)


def parse_event(raw: bytes | str) -> Event:
    """Parse a wire message; anything that is not a known event raises EventError."""
    try:
        event = _ADAPTER.validate_json(raw)
    except ValidationError as exc:
        raise EventError(str(exc)) from exc
    if event.schema_version > SCHEMA_VERSION:
        raise EventError(f"schema_version {event.schema_version} is newer than {SCHEMA_VERSION}")
    return event
