"""Imports run one way: stopline -> stages -> pipeline; stages never import each other."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STAGES = {"detectors", "review", "notifier", "display"}
ALLOWED = {
    "pipeline": set(),
    **{stage: {"pipeline"} for stage in STAGES},
    "stopline": {"pipeline", *STAGES},
}


def project_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {n.split(".")[0] for n in names if n.split(".")[0] in ALLOWED}
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_run_one_way(package: str) -> None:
    bad = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in (ROOT / package).rglob("*.py")
        for name in project_imports(path) - ALLOWED[package] - {package}
    }
    assert not bad, sorted(bad)
