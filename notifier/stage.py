"""The notify stage: an approved citation becomes one SMS notice in the outbox.

Who gets it: the person the citation names (the face match, or the vehicle's registered
keeper). In what language: theirs, from the registry. The row is keyed per citation and
notice type, so a redelivered approval never queues a second notice. A notice that cannot go
out (nobody identified, no phone, a malformed number) is recorded as `unsendable` and shown
to a person, never guessed.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from notifier.outbox import enqueue_notice, enqueue_unsendable
from notifier.phones import InvalidPhone, normalise_phone
from notifier.segments import count_segments
from notifier.templates import NoticeTemplates, notice_context
from pipeline.config import NotifierConfig
from pipeline.events import CitationApproved, Event
from pipeline.notices import pin_for
from pipeline.offences import Offence
from pipeline.store import Store
from pipeline.store.models import Camera, Citation, Violation
from pipeline.store.registry import get_person

log = logging.getLogger(__name__)


class NoticeStage:
    group = "notify"

    def __init__(
        self, store: Store, config: NotifierConfig, templates: NoticeTemplates, pin_key: bytes
    ) -> None:
        self.store = store
        self.config = config
        self.templates = templates
        self.pin_key = pin_key

    def handle(self, event: Event) -> None:
        if not isinstance(event, CitationApproved):
            return
        with self.store.session() as session:
            self._queue(session, event)

    def _queue(self, session: Session, event: CitationApproved) -> None:
        citation = session.get(Citation, event.citation_id)
        if citation is None:
            raise LookupError(f"no citation {event.citation_id}")
        person = get_person(session, citation.person_id) if citation.person_id else None
        if person is None:
            enqueue_unsendable(session, citation.id, "nobody identified: no recipient")
            return
        if not person.phone:
            enqueue_unsendable(session, citation.id, f"no phone on record for {person.id}")
            return
        try:
            recipient = normalise_phone(person.phone, self.config.default_region)
        except InvalidPhone as exc:
            enqueue_unsendable(session, citation.id, str(exc))
            return
        violation = session.get(Violation, citation.violation_id)
        camera = session.get(Camera, citation.camera_id)
        assert violation is not None and camera is not None  # foreign keys
        if citation.notice_number is None:
            raise LookupError(f"approved citation {citation.id} has no notice number")
        language = self.templates.language_for(person.language)
        context = notice_context(
            notice_number=citation.notice_number,
            pin=pin_for(self.pin_key, citation.notice_number),
            offence=Offence.of(violation.event),
            language=language,
            location=camera.location or camera.name,
            occurred_at=violation.occurred_at,
            issued_at=event.created_at,
            person_name=person.name,
            config=self.config,
        )
        body = self.templates.render(language, context)
        segments = count_segments(body).segments
        if segments > self.config.max_segments:
            # `render` cuts a long name or place to fit: only a template that does not
            # shrink with them (one printing them under a condition) gets here.
            log.warning(
                "notice for %s is %d segments (limit %d)",
                citation.id,
                segments,
                self.config.max_segments,
            )
        enqueue_notice(session, citation.id, recipient, language, body, segments)
