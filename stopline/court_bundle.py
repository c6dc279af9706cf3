"""A court bundle: one citation's evidence as a zip that proves itself offline.

`stopline evidence export CITATION --out FILE.zip` writes the camera's signed evidence manifest
and every file it lists (the clip, key frames, crops) as recorded, a PDF report for people
(`court_report`), the chain of custody from the audit log, the case record, the public key,
`verify.py` (the same verification code stopline runs, needing only Python and
`cryptography`) and `bundle.json`: the list of all of them by SHA-256, signed with the
deployment's key. Nothing in it can change without `python verify.py` saying so, and
`--public-key` ties it to the key the deployment published.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline import offline_verify
from pipeline.config import StoplineConfig
from pipeline.evidence import EvidenceStore, public_key_b64, sign
from pipeline.hashing import sha256_hex
from pipeline.offences import Offence, signal_timeline
from pipeline.store import audit, history
from pipeline.store.models import AuditEntry, Citation, Violation
from stopline.court_report import Report, report_pdf

VERIFY_SCRIPT = Path(offline_verify.__file__)
README = """Court bundle of citation {citation}, exported {exported} by {actor}.

report.pdf       what happened, the key frames with the stop and entry lines, the signal
                 timeline, the reviewer's decision, the chain of custody, the camera's set-up
manifest.json    the camera's evidence manifest, signed when the evidence was recorded
files/<sha256>   every file the manifest lists (the clip, key frames, crops), as recorded
custody.json     the audit log rows about this case, each chained to the one before
case.json        the case record as the store holds it
public_keys.txt  the Ed25519 public keys that signed this bundle and the manifest (the same
                 key unless the deployment rotated its key in between)
bundle.json      every file above by SHA-256, signed

To verify, with Python 3 and the `cryptography` package only:

    python verify.py --public-key <a key the deployment published> [--public-key <another>]

It checks bundle.json's signature and every file's hash, then the manifest's signature and
every evidence file's hash, each by one of the keys given. Without --public-key both must be
signed by the key in bundle.json, which proves the bundle intact but not who made it.
"""


class ExportError(RuntimeError):
    """A bundle that cannot be made honestly: said in one line."""


@dataclass(frozen=True)
class Bundle:
    path: Path
    files: int
    sha256: str
    """Of the zip file."""


def _custody(session: Session, citation: Citation, violation: Violation) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(AuditEntry)
        .where(
            ((AuditEntry.subject_type == "citation") & (AuditEntry.subject_id == citation.id))
            | ((AuditEntry.subject_type == "violation") & (AuditEntry.subject_id == violation.id))
        )
        .order_by(AuditEntry.id)
    )
    return [
        {
            "id": row.id,
            "at": row.at.isoformat(),
            "actor": row.actor,
            "action": row.action,
            "detail": row.detail,
            "prev_hash": row.prev_hash,
            "row_hash": row.row_hash,
        }
        for row in rows
    ]


def export(
    session: Session,
    citation_id: str,
    config: StoplineConfig,
    evidence: EvidenceStore,
    key: Ed25519PrivateKey,
    trusted: set[str],
    out: Path,
    actor: str,
) -> Bundle:
    """`trusted`: the deployment's public keys (its signing key's and earlier rotations'); the
    evidence must be signed by one of them before it goes into a bundle."""
    citation = session.get(Citation, citation_id)
    if citation is None:
        raise ExportError(f"no citation {citation_id}")
    violation = session.get(Violation, citation.violation_id)
    assert violation is not None  # foreign key
    if citation.evidence_purged_at is not None:
        raise ExportError(f"citation {citation_id}: its evidence was purged by retention")
    manifest_path = evidence.manifest_path(violation.id)
    report = evidence.verify_manifest(manifest_path, trusted, violation.manifest_sha256)
    if not report.ok:
        raise ExportError("evidence fails verification: " + "; ".join(report.problems))
    manifest_raw = manifest_path.read_bytes()
    manifest = json.loads(manifest_raw)["manifest"]
    files = {f["sha256"]: evidence.get(f["sha256"]) for f in manifest["files"]}
    exported = datetime.now(UTC)
    custody = _custody(session, citation, violation)
    chain = audit.verify_chain(session)
    offence = Offence.of(violation.event)
    camera = config.camera(citation.camera_id)
    case = {
        "citation": {
            "id": citation.id,
            "notice_number": citation.notice_number,
            "status": citation.status,
            "plate": citation.plate_text,
            "plate_confidence": citation.plate_confidence,
            "person_id": citation.person_id,
            "decided_by": citation.decided_by,
            "decision_reason": citation.decision_reason,
            "second_reviewed_by": citation.second_reviewed_by,
        },
        "violation": violation.event,
        "offence": {lang: dict(offence.facts(lang)) for lang in ("en", "zh-CN")},
        "history": [
            {"from": h.from_state, "to": h.to_state, "actor": h.actor, "at": h.at.isoformat()}
            for h in history(session, citation.id)
        ],
        # Not its stream addresses: they hold the camera's password.
        "camera": camera.model_dump(mode="json", exclude={"source", "evidence_source"})
        if camera
        else None,
        "audit_chain_at_export": {
            "ok": chain.ok,
            "rows": chain.rows_checked,
            "head_hash": chain.head_hash,
        },
    }
    pdf = report_pdf(
        Report(
            citation=citation,
            violation=violation,
            offence=offence,
            camera=camera,
            manifest=manifest,
            files=files,
            timeline=signal_timeline(violation.event, violation.occurred_at),
            history=case["history"],
            custody=custody,
            chain_ok=chain.ok,
            timezone=config.notifier.timezone,
            exported=exported,
            public_key=public_key_b64(key.public_key()),
            font_path=config.display.font_path,
        )
    )
    public = public_key_b64(key.public_key())
    recorded_by = json.loads(manifest_raw)["signature"]["public_key"]
    keys = f"bundle.json signed by: {public}\nmanifest.json signed by: {recorded_by}\n"
    members: dict[str, bytes] = {
        "README.txt": README.format(
            citation=citation.id, exported=exported.isoformat(), actor=actor
        ).encode(),
        "report.pdf": pdf,
        "manifest.json": manifest_raw,
        "custody.json": json.dumps(custody, indent=2, ensure_ascii=False).encode(),
        "case.json": json.dumps(case, indent=2, ensure_ascii=False, default=str).encode(),
        "public_keys.txt": keys.encode(),
        "verify.py": VERIFY_SCRIPT.read_bytes(),
        **{f"files/{digest}": data for digest, data in files.items()},
    }
    body = {
        "bundle_version": 1,
        "citation_id": citation.id,
        "exported_at": exported.isoformat(),
        "exported_by": actor,
        "manifest": "manifest.json",
        "files": [{"name": name, "sha256": sha256_hex(data)} for name, data in members.items()],
    }
    index = json.dumps({"bundle": body, "signature": sign(key, body)}, indent=2).encode()
    members[offline_verify.INDEX] = index
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    out.write_bytes(buffer.getvalue())
    audit.append(
        session,
        actor,
        "evidence.exported",
        "citation",
        citation.id,
        {"bundle_sha256": sha256_hex(buffer.getvalue()), "files": len(members)},
    )
    return Bundle(out, len(members), sha256_hex(buffer.getvalue()))
