"""A stored file's type told by its first bytes, never by a name or what a browser said."""

from __future__ import annotations

MAGIC = {
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"%PDF-": "application/pdf",
}
SNIFFED = (*MAGIC.values(), "video/mp4")
"""Every type `sniff` can answer."""


def sniff(head: bytes) -> str | None:
    """The media type of a file starting with `head` (its first 12 bytes suffice)."""
    for magic, media_type in MAGIC.items():
        if head.startswith(magic):
            return media_type
    return "video/mp4" if head[4:8] == b"ftyp" else None
