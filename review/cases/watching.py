"""The confirmation rule (`review.confirm_approval: clip_watched`): a reviewer approves a case
only once they have played its clip through the moment of the violation.

The moment is the violation's stream time less the clip's start (the manifest's
`clip_start_s`); evidence that does not say it must be watched to its end. The browser reports
how far the clip has played (`watched_s`, the furthest point reached); the approval records it.
"""

from __future__ import annotations

from dataclasses import dataclass

import av

from pipeline.evidence import EvidenceStore
from pipeline.store.models import Violation


@dataclass(frozen=True)
class Watch:
    clip_sha256: str
    moment_s: float
    """How far into the clip the reviewer must have played it."""

    def unmet(self, watched_s: float) -> str | None:
        """Why an approval after playing to `watched_s` is refused; None when it is not."""
        if watched_s + 0.05 >= self.moment_s:
            return None
        return (
            f"play the clip through the violation ({self.moment_s:.1f} s into it) before "
            f"approving; it has played to {watched_s:.1f} s"
        )


def watch_for(violation: Violation, evidence: EvidenceStore) -> Watch | None:
    """What the reviewer must watch of this case; None for a case without a clip."""
    clip = next((r for r in violation.event.get("evidence", []) if r["role"] == "clip"), None)
    if clip is None:
        return None
    facts = evidence.facts(violation.id)
    at, start = violation.event.get("stream_s"), facts.get("clip_start_s")
    if at is not None and start is not None:
        return Watch(clip["sha256"], max(0.0, float(at) - float(start)))
    with av.open(str(evidence.path_of(clip["sha256"]))) as container:
        duration = (container.duration or 0) / av.time_base
    return Watch(clip["sha256"], max(0.0, duration - 0.2))  # the last frame's start
