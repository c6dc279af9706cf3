"""Signed checkpoints of the audit chain's head catch what the chain alone cannot: a tail cut
off, or cut and re-appended so that it links up again (issue 18 #5)."""

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, text

from pipeline.audit_checkpoints import verify_checkpoints, write_checkpoint
from pipeline.evidence import public_key_b64
from pipeline.store import Store, verify_chain
from pipeline.store.audit import append
from pipeline.store.models import AuditEntry

KEY = Ed25519PrivateKey.generate()
TRUSTED = {public_key_b64(KEY.public_key())}


def _rows(store: Store, actor: str, n: int) -> None:
    with store.session() as session:
        for i in range(n):
            append(session, actor, "citation.transition", "citation", f"c{i}", {"to": "approved"})


def _cut_after(store: Store, rows: int) -> None:
    """What someone able to drop the append-only triggers can do."""
    with store.session() as session:
        if session.get_bind().dialect.name == "sqlite":
            for verb in ("delete", "update"):
                session.execute(text(f"DROP TRIGGER audit_log_no_{verb}"))
        else:
            session.execute(text("DROP TRIGGER audit_log_no_update_delete ON audit_log"))
        session.execute(delete(AuditEntry).where(AuditEntry.id > rows))


def _verify(store: Store, folder: Path) -> list[str]:
    with store.session() as session:
        report = verify_checkpoints(session, folder, TRUSTED)
    return report.problems


def test_a_chain_that_grew_past_its_checkpoint_verifies(store: Store, tmp_path: Path) -> None:
    _rows(store, "rita", 3)
    with store.session() as session:
        path = write_checkpoint(session, KEY, tmp_path)
    assert path.name == "audit-head-000000000003.json"
    _rows(store, "rita", 2)
    with store.session() as session:
        report = verify_checkpoints(session, tmp_path, TRUSTED)
    assert (report.ok, report.rows, report.checkpoints) == (True, 5, 1)


def test_a_rewritten_tail_that_links_up_again_is_caught(store: Store, tmp_path: Path) -> None:
    _rows(store, "rita", 5)
    with store.session() as session:
        write_checkpoint(session, KEY, tmp_path)
    _cut_after(store, 2)
    _rows(store, "mallory", 3)  # rows 3-5 again, saying something else
    with store.session() as session:
        assert verify_chain(session).ok, "the chain alone cannot tell"
    (problem,) = _verify(store, tmp_path)
    assert "row 5 is not the row signed at" in problem and "rewritten" in problem


def test_a_cut_tail_is_caught(store: Store, tmp_path: Path) -> None:
    _rows(store, "rita", 5)
    with store.session() as session:
        write_checkpoint(session, KEY, tmp_path)
    _cut_after(store, 3)
    (problem,) = _verify(store, tmp_path)
    assert "the chain had 5 rows" in problem and "it has 3 now: it was cut" in problem


@pytest.mark.parametrize(
    ("forge", "found"),
    [
        (lambda p: p.write_text(p.read_text().replace('"rows": 2', '"rows": 1')), "signature"),
        (lambda p: p.write_text("{not json"), "unreadable"),
        (lambda p: p.write_text('{"checkpoint": ' + "[" * 100_000), "unreadable"),
    ],
)
def test_a_forged_or_broken_checkpoint_fails(store: Store, tmp_path: Path, forge, found) -> None:
    _rows(store, "rita", 2)
    with store.session() as session:
        forge(write_checkpoint(session, KEY, tmp_path))
    (problem,) = _verify(store, tmp_path)
    assert found in problem


def test_a_checkpoint_by_a_key_the_deployment_does_not_trust_fails(
    store: Store, tmp_path: Path
) -> None:
    _rows(store, "rita", 2)
    with store.session() as session:
        write_checkpoint(session, Ed25519PrivateKey.generate(), tmp_path)
    (problem,) = _verify(store, tmp_path)
    assert "signed by a key this deployment does not trust" in problem
