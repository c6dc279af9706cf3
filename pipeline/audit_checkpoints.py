"""Signed checkpoints of the audit chain's head, kept outside the database.

The chain shows a changed or removed row, but not a tail rewritten wholesale: whoever can drop
the append-only triggers can cut the chain back and append new rows that link up. A checkpoint
file records how many rows the chain had and the hash of its last row, signed with the
deployment's Ed25519 key; if a later chain no longer has that row with that hash, the tail was
rewritten or cut after the checkpoint. Keep the folder where the database's users cannot write
(another host, write-once storage).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from pipeline.evidence import atomic_write, sign
from pipeline.offline_verify import signer_of
from pipeline.store.audit import verify_chain
from pipeline.store.models import AuditEntry

CHECKPOINT_VERSION = 1


@dataclass
class CheckpointReport:
    rows: int
    """Rows of the chain in the database (all verified when `problems` is empty)."""
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def write_checkpoint(session: Session, key: Ed25519PrivateKey, folder: Path) -> Path:
    """Sign the chain's current head into `folder`; refuses a chain that does not verify."""
    chain = verify_chain(session)
    if not chain.ok:
        raise ValueError(f"audit chain broken at row {chain.bad_row_id}: {chain.reason}")
    body = {
        "checkpoint_version": CHECKPOINT_VERSION,
        "rows": chain.rows_checked,
        "head_hash": chain.head_hash,
        "at": datetime.now(UTC).isoformat(),
    }
    path = folder / f"audit-head-{chain.rows_checked:012d}.json"
    document = {"checkpoint": body, "signature": sign(key, body)}
    atomic_write(path, json.dumps(document, indent=2).encode())
    return path


def verify_checkpoints(session: Session, folder: Path, trusted: set[str]) -> CheckpointReport:
    """Verify the chain, and that it still holds every checkpoint signed by a trusted key."""
    chain = verify_chain(session)
    report = CheckpointReport(chain.rows_checked)
    if not chain.ok:
        report.problems.append(f"row {chain.bad_row_id}: {chain.reason}")
    for path in sorted(folder.glob("audit-head-*.json")):
        report.checkpoints += 1
        try:
            document = json.loads(path.read_bytes())
            body = document["checkpoint"]
            signer = signer_of(body, document["signature"])
            rows, head = int(body["rows"]), str(body["head_hash"])
        except InvalidSignature:
            report.problems.append(f"{path.name}: signature does not match the checkpoint")
            continue
        except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
            # RecursionError: arrays nested deeper than the parser goes, as in a manifest.
            report.problems.append(f"{path.name}: unreadable ({type(exc).__name__}: {exc})")
            continue
        if signer not in trusted:
            report.problems.append(f"{path.name}: signed by a key this deployment does not trust")
            continue
        if rows == 0:
            continue
        entry = session.get(AuditEntry, rows)
        if entry is None:
            report.problems.append(
                f"{path.name}: the chain had {rows} rows at {body.get('at')}; it has "
                f"{chain.rows_checked} now: it was cut"
            )
        elif entry.row_hash != head:
            report.problems.append(
                f"{path.name}: row {rows} is not the row signed at {body.get('at')}: "
                "the chain was rewritten after it"
            )
    return report
