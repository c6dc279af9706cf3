"""`stopline audit checkpoint|verify` on a deployment's store, as an operator runs them."""

from pathlib import Path

from sqlalchemy import text

from pipeline.store import open_store
from tests.cli import stopline
from tests.stopline.commands.test_users import PASSWORD, _add


def test_a_checkpoint_then_a_rewritten_tail_fails_verification(site: Path) -> None:
    assert _add(site, "rita", "reviewer", PASSWORD).returncode == 0
    assert _add(site, "adam", "admin", PASSWORD).returncode == 0
    written = stopline("audit", "checkpoint", "--config", "site.yaml", cwd=site)
    assert written.returncode == 0, written.stderr
    assert "audit-head-000000000002.json" in written.stdout
    verified = stopline("audit", "verify", "--config", "site.yaml", cwd=site)
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.strip() == "audit chain intact: 2 row(s), 1 checkpoint(s)"
    store = open_store(f"sqlite:///{site / 'stopline.db'}")
    with store.session() as session:  # someone with the database's owner rights
        session.execute(text("DROP TRIGGER audit_log_no_delete"))
        session.execute(text("DELETE FROM audit_log WHERE id = 2"))
    store.close()
    assert _add(site, "mallory", "admin", PASSWORD).returncode == 0  # row 2 again
    failed = stopline("audit", "verify", "--config", "site.yaml", cwd=site)
    assert failed.returncode == 1
    assert "audit chain NOT intact: 2 row(s), 1 checkpoint(s)" in failed.stdout
    assert "row 2 is not the row signed at" in failed.stderr
