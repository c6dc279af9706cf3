"""The real images and video in ../shared/data beside the repository (CI puts it there)."""

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def need(path: Path) -> Path:
    """The path, or a failed test that says where the data should be: never a skip."""
    if not path.exists():
        pytest.fail(f"test data missing: {path} (the shared data folder beside the repository)")
    return path
