"""A deployment folder for CLI tests: the demo config with its store and evidence inside."""

from pathlib import Path

import pytest
import yaml

from stopline.demo.run import DEMO_CONFIG


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
