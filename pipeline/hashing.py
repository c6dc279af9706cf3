"""One canonical JSON and one digest for everything stopline signs or chains.

Evidence manifests and audit rows must hash the same way on every machine and in every later
version; keeping the encoding in one place means a verifier cannot drift from a writer.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
