"""What a video file says of itself: whether it holds all its frames, and when it was filmed.

A file cut short (a copy interrupted, a disk that filled while recording) decodes without an
error up to the cut and then simply ends, so a run over it would look complete. MP4 and MOV list
every frame in their sample tables: demultiplexing the packets (no decoding) and counting them
against that list shows a cut, cheaply, once the file has been read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path


def missing_frames(path: Path) -> str | None:
    """What is missing from the file, in words; None when it is whole or lists no count."""
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            listed = stream.frames
            if not listed:
                return None  # a raw stream or a container without a frame count
            found = sum(1 for packet in container.demux(stream) if packet.size)
    except (av.FFmpegError, IndexError) as exc:
        return f"cannot be read to its end ({exc})"
    if found < listed:
        return f"ends after {found} of the {listed} frames its header lists: cut short"
    return None


def recorded_at(path: Path) -> datetime:
    """When a file's footage began: the container's `creation_time` (cameras and recorders
    write it), else the file's modification time. Either is the same on every read of the same
    file, which is what makes a replay produce the same capture times and ids."""
    import av

    if path.is_file():
        try:
            with av.open(str(path)) as container:
                stamp = container.metadata.get("creation_time")
            if stamp:
                found = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
                return found if found.tzinfo else found.replace(tzinfo=UTC)
        except (av.FFmpegError, ValueError):
            pass  # not a container with metadata (or an unparsable stamp): the file's own time
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)
