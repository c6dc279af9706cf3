"""The portal's stage: for each approved case, once, the key frames and clip the person fined
will watch, with bystanders blurred (`portal.media`), stored as evidence and listed on the case.

It consumes `citations.approved` (consumer group `portal-media`). The work is done before the
person can have read their SMS: a person finder and a plate spotter over a clip take seconds,
too long for a page view. The case's signed manifest is checked first, so nothing is made from
evidence that is not what the camera recorded. A redelivered approval, or a second worker,
finds the files listed and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pipeline.config import PortalMediaConfig
from pipeline.events import CitationApproved, Event
from pipeline.evidence import EvidenceStore, StoredFile
from pipeline.redaction import PeopleFinder
from pipeline.store import Status, Store, audit
from pipeline.store.citizen import PORTAL_ROLE, add_files, portal_media
from pipeline.store.models import Citation, Violation
from portal.media import Redactor

ACTOR = "system:portal-media"
NOT_SHOWN = frozenset({Status.REJECTED, Status.DISMISSED})


def _shown(citation: Citation) -> bool:
    """Only a case the portal opens (a notice number is given on approval) that still has its
    evidence and is not called off."""
    return (
        citation.notice_number is not None
        and citation.status not in NOT_SHOWN
        and citation.evidence_purged_at is None
    )


class PortalMediaStage:
    group = "portal-media"

    def __init__(
        self,
        store: Store,
        evidence: EvidenceStore,
        config: PortalMediaConfig,
        finder: Callable[[], PeopleFinder],
    ) -> None:
        """`finder` makes the people finder when the first case needs it (models load then)."""
        self.store = store
        self.evidence = evidence
        self.config = config
        self._make_finder = finder
        self._finder: PeopleFinder | None = None

    def handle(self, event: Event) -> None:
        if isinstance(event, CitationApproved):
            self.make(event.citation_id)

    def make(self, citation_id: str) -> list[StoredFile]:
        """The portal's files of one case, made now unless they exist; [] when not made."""
        with self.store.session() as session:
            citation = session.get(Citation, citation_id)
            if citation is None or portal_media(citation) or not _shown(citation):
                return []
            violation = session.get(Violation, citation.violation_id)
            assert violation is not None  # foreign key
            violation_id, recorded = violation.id, violation.manifest_sha256
            refs = [(r["sha256"], r["role"]) for r in violation.event.get("evidence", [])]
        facts = self._checked_facts(violation_id, recorded)
        files, redactor = self._redacted(refs, facts)
        with self.store.session() as session:
            citation = session.get(Citation, citation_id)
            assert citation is not None
            if portal_media(citation):  # another worker was quicker
                return []
            add_files(citation, files)
            detail = {
                "files": [{"sha256": f.sha256, "role": f.role} for f in files],
                "from_manifest": recorded,
                "frames_searched": redactor.searched,
                "regions_blurred": redactor.blurred,
                "offender_boxes": "offender_boxes" in facts,
            }
            audit.append(session, ACTOR, "portal_media.made", "citation", citation_id, detail)
        return files

    def _checked_facts(self, violation_id: str, recorded: str | None) -> dict[str, Any]:
        path = self.evidence.manifest_path(violation_id)
        report = self.evidence.verify_manifest(path, recorded=recorded)
        if not report.ok:
            raise ValueError(f"evidence of {violation_id} does not verify: {report.problems}")
        return self.evidence.facts(violation_id)

    def _redacted(
        self, refs: list[tuple[str, str]], facts: dict[str, Any]
    ) -> tuple[list[StoredFile], Redactor]:
        """The files, and the redactor that made them (its counts)."""
        if self._finder is None:
            self._finder = self._make_finder()
        _, height = facts["frame_size"]
        redactor = Redactor(self._finder, height)
        key_boxes = facts.get("key_frame_boxes", {})
        files = []
        for sha256, role in refs:
            if role.startswith("key_frame:"):
                name = role.partition(":")[2]
                data = redactor.key_frame(self.evidence.get(sha256), key_boxes.get(name))
                files.append(self.evidence.put(data, PORTAL_ROLE + role, "image/jpeg"))
        for sha256, role in refs:
            if role == "clip":
                boxes = facts.get("offender_boxes", [])
                data = redactor.clip(self.evidence.get(sha256), boxes, self.config.sample_fps)
                files.append(self.evidence.put(data, PORTAL_ROLE + role, "video/mp4"))
        return files, redactor
