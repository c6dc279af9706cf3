"""One canonical JSON and one digest for everything stopline signs or chains.

Evidence manifests and audit rows must hash the same way on every machine and in every later
version; keeping the encoding in one place means a verifier cannot drift from a writer. That
place is `offline_verify`, the module a court bundle carries, so the bundle's verifier is this
same code.
"""

from pipeline.offline_verify import canonical_json, sha256_hex

__all__ = ["canonical_json", "sha256_hex"]
