"""Whether a video file holds all the frames its header lists.

A file cut short (a copy interrupted, a disk that filled while recording) decodes without an
error up to the cut and then simply ends, so a run over it would look complete. MP4 and MOV list
every frame in their sample tables: demultiplexing the packets (no decoding) and counting them
against that list shows a cut, cheaply, once the file has been read.
"""

from __future__ import annotations

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
