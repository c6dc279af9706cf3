"""Config problems as one line each, naming the YAML path, what was found and what was expected."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from pipeline.config.root import StoplineConfig


@dataclass(frozen=True)
class Problem:
    path: str
    found: str
    expected: str

    def __str__(self) -> str:
        return f"{self.path}: found {self.found}; expected {self.expected}"


class ConfigError(ValueError):
    """A config file that cannot be used; `problems` has one entry per bad key."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))


def yaml_path(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _allowed_keys(model: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    """The keys the model at `loc` accepts, for an 'unknown key' message."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) if isinstance(current, type) else None
        if field is None:
            return []
        current = _model_in(field.annotation)
        if current is None:
            return []
    return sorted(current.model_fields) if isinstance(current, type) else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _problem(error: dict[str, Any]) -> Problem:
    loc = tuple(p for p in error["loc"] if not isinstance(p, str) or "[" not in p)
    path = yaml_path(loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(StoplineConfig, loc)
        return Problem(path, "an unknown key", "one of: " + ", ".join(allowed))
    if kind == "missing":
        return Problem(path, "nothing", "this required key")
    expected = error["msg"]
    for prefix in ("Input should be ", "Value error, ", "String should "):
        expected = expected.removeprefix(prefix)
    if kind == "too_short":
        return Problem(
            path, f"{len(error['input'])} item(s)", f"at least {error['ctx']['min_length']}"
        )
    if kind == "too_long":
        return Problem(
            path, f"{len(error['input'])} item(s)", f"at most {error['ctx']['max_length']}"
        )
    return Problem(path, _show(error["input"]), expected)
