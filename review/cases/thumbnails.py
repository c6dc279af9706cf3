"""The queue's thumbnails: a case's first key frame, small enough to scan a page of cases at a
glance and too small to read a plate or know a face (the case page shows those, audited)."""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Any

from PIL import Image

from pipeline.evidence import EvidenceStore

WIDTH_PX = 160
QUALITY = 70


def key_frame_of(event: dict[str, Any]) -> str | None:
    """The hash of the violation's first key frame, if it has one."""
    refs = event.get("evidence", [])
    return next((r["sha256"] for r in refs if r["role"].startswith("key_frame:")), None)


def thumbnail(evidence: EvidenceStore, sha256: str) -> bytes | None:
    """A JPEG WIDTH_PX wide of that stored image; None when the file is gone (retention)."""
    path = evidence.path_of(sha256)
    return _made(str(path), sha256) if path.is_file() else None


@lru_cache(maxsize=1024)
def _made(path: str, sha256: str) -> bytes:
    """Content-addressed, so the hash keys the cache: ~5 KB each, 1,024 at most."""
    with Image.open(path) as image:
        image.draft("RGB", (WIDTH_PX, WIDTH_PX))  # JPEG: decode at a fraction of full size
        small = image.convert("RGB")
        small.thumbnail((WIDTH_PX, WIDTH_PX * 2))
    out = io.BytesIO()
    small.save(out, "JPEG", quality=QUALITY)
    return out.getvalue()
