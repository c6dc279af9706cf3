"""Deployments the command tests share; the demo runs once a session, as it takes a while."""

from pathlib import Path

import pytest
import yaml

from stopline.demo.run import DEMO_CONFIG
from tests.cli import HEAVY_S, stopline


@pytest.fixture
def site(tmp_path: Path) -> Path:
    data = yaml.safe_load(DEMO_CONFIG.read_text())
    data["storage"] = {
        "database_url": "sqlite:///stopline.db",
        "evidence_dir": "evidence",
        "signing_key_path": "key.pem",
    }
    (tmp_path / "site.yaml").write_text(yaml.safe_dump(data))
    return tmp_path


@pytest.fixture(scope="session")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    result = stopline("demo", "--out", str(out), timeout_s=HEAVY_S)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "the red motorcycle" in result.stdout and "the cameraman" in result.stdout
    assert "missed" not in result.stdout
    (out / "stdout.txt").write_text(result.stdout)
    return out
