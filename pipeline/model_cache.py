"""Where models converted on first use are kept, for every stage that converts one."""

from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir() -> Path:
    """Where converted models and Ultralytics' settings live: `$XDG_CACHE_HOME/stopline`."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "stopline"
