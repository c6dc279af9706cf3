"""The identify stage: a detected violation becomes a citation waiting for review.

Plate reading and face matching plug in here (issue 4); until then a citation carries no
identity and the reviewer sees that. Re-running after a crash is safe: the violation and the
citation are stored idempotently by violation id, and the follow-up event has a derived id.
"""

from __future__ import annotations

from pipeline.bus import Bus
from pipeline.config import IdentificationConfig
from pipeline.events import (
    VIOLATIONS_IDENTIFIED,
    Event,
    ViolationDetected,
    ViolationIdentified,
    derived_id,
)
from pipeline.store import Store, create_citation
from pipeline.store.registry import record_violation

ACTOR = "system:identify"


class IdentifyStage:
    group = "identify"

    def __init__(self, store: Store, bus: Bus, config: IdentificationConfig) -> None:
        self.store = store
        self.bus = bus
        self.config = config

    def handle(self, event: Event) -> None:
        if not isinstance(event, ViolationDetected):
            return
        with self.store.session() as session:
            record_violation(session, event)
            citation = create_citation(
                session,
                event.violation_id,
                citation_id=derived_id("citation", event.violation_id),
                actor=ACTOR,
            )
            citation_id = citation.id
        self.bus.publish(
            VIOLATIONS_IDENTIFIED,
            event.camera_id,
            ViolationIdentified(
                event_id=derived_id("identified", event.violation_id),
                violation_id=event.violation_id,
                camera_id=event.camera_id,
                citation_id=citation_id,
            ),
        )
