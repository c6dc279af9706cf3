"""The house rules of the tree: imports run one way (stopline -> stages -> pipeline; stages
never import each other), no module imports itself back through others, no source module
outgrows 400 lines."""

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STAGES = {"detectors", "identify", "review", "notifier", "display", "portal"}
ALLOWED = {
    "pipeline": set(),
    **{stage: {"pipeline"} for stage in STAGES},
    "stopline": {"pipeline", *STAGES},
}
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for package in ALLOWED for p in (ROOT / package).rglob("*.py")}


def _project_module(name: str) -> str | None:
    """The project module an import names (`a.b.c` may be a name inside module `a.b`)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str) -> set[str]:
    """Project modules `module` imports anywhere in its body: a lazy import inside a function
    still ties the two modules together."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str | None] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {_project_module(alias.name) for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found |= {_project_module(f"{base}.{alias.name}") for alias in node.names}
    return {name for name in found if name} - {module}


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_run_one_way(package: str) -> None:
    bad = {
        f"{MODULES[module].relative_to(ROOT)} imports {name}"
        for module in MODULES
        if module.split(".")[0] == package
        for name in {m.split(".")[0] for m in imports_of(module)} - ALLOWED[package] - {package}
    }
    assert not bad, sorted(bad)


def test_no_import_cycle() -> None:
    graph = {module: imports_of(module) for module in MODULES}
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as error:
        pytest.fail(f"import cycle: {' -> '.join(error.args[1])}")


def test_no_source_module_over_the_limit() -> None:
    sources = [*MODULES.values(), *(ROOT / "benchmarks").rglob("*.py")]
    long = {
        str(p.relative_to(ROOT)): n
        for p in sources
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, long
