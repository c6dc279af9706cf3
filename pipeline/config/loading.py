"""Reading, validating and documenting a config file."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from pipeline.config.errors import ConfigError, Problem, _model_in, _problem, _show
from pipeline.config.root import StoplineConfig


def _cross_references(cfg: StoplineConfig) -> list[Problem]:
    """Checks pydantic cannot express per field: unique ids and references between sections."""
    problems: list[Problem] = []

    def unique(items: list[Any], path: str) -> None:
        for name, count in Counter(i.id for i in items).items():
            if count > 1:
                problems.append(Problem(path, f"id {name!r} {count} times", "unique ids"))

    unique(cfg.cameras, "cameras")
    unique(cfg.display.screens, "display.screens")
    camera_ids = {c.id for c in cfg.cameras}
    for ci, cam in enumerate(cfg.cameras):
        base = f"cameras[{ci}]"
        geo = cam.geometry
        unique(geo.stop_lines, f"{base}.geometry.stop_lines")
        unique([*geo.crosswalks, *geo.carriageways], f"{base}.geometry (crosswalks, carriageways)")
        stop_ids = {s.id for s in geo.stop_lines}
        for ei, entry in enumerate(geo.entry_lines):
            if entry.stop_line not in stop_ids:
                problems.append(
                    Problem(
                        f"{base}.geometry.entry_lines[{ei}].stop_line",
                        repr(entry.stop_line),
                        "the id of a stop line of this camera: " + ", ".join(sorted(stop_ids)),
                    )
                )
        sig = cam.signal
        if sig.kind == "fixed_plan" and (sig.cycle_s is None or not sig.plan):
            problems.append(
                Problem(f"{base}.signal", "fixed_plan without timing", "cycle_s and plan")
            )
        if sig.kind == "vision" and not geo.signal_heads:
            problems.append(
                Problem(f"{base}.geometry.signal_heads", "none", "at least one ROI for vision")
            )
        for pi, phase in enumerate(sig.plan):
            if sig.cycle_s is not None and phase.green_s + phase.amber_s > sig.cycle_s:
                problems.append(
                    Problem(
                        f"{base}.signal.plan[{pi}]",
                        f"green_s + amber_s = {phase.green_s + phase.amber_s}",
                        f"at most cycle_s = {sig.cycle_s}",
                    )
                )
    for si, screen in enumerate(cfg.display.screens):
        for ki, cam_id in enumerate(screen.cameras):
            if cam_id not in camera_ids:
                problems.append(
                    Problem(
                        f"display.screens[{si}].cameras[{ki}]",
                        repr(cam_id),
                        "a configured camera id: " + ", ".join(sorted(camera_ids)),
                    )
                )
    if cfg.bus.kind == "kafka" and not cfg.bus.bootstrap_servers:
        problems.append(Problem("bus.bootstrap_servers", "nothing", "host:port for kind kafka"))
    return problems


def parse_config(data: Any, source: str = "<config>") -> StoplineConfig:
    if not isinstance(data, dict):
        raise ConfigError(source, [Problem("(top level)", _show(data), "a mapping of sections")])
    try:
        cfg = StoplineConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, [_problem(e) for e in exc.errors()]) from None
    problems = _cross_references(cfg)
    if problems:
        raise ConfigError(source, problems)
    return cfg


def load_config(path: str | Path) -> StoplineConfig:
    """Read and validate a YAML file; relative paths in it stay relative to the working dir."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            str(path), [Problem("(file)", exc.strerror or str(exc), "a readable file")]
        ) from None
    except UnicodeDecodeError as exc:
        found = f"byte 0x{exc.object[exc.start]:02x} at offset {exc.start}, not UTF-8"
        raise ConfigError(str(path), [Problem("(file)", found, "UTF-8 text")]) from None
    try:
        data = yaml.safe_load(text)
        _check_expanded_size(data)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "the file"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            str(path), [Problem(where, f"invalid YAML ({problem})", "valid YAML")]
        ) from None
    except (_TooLarge, RecursionError) as exc:
        found = str(exc) if isinstance(exc, _TooLarge) else "nesting too deep to read"
        raise ConfigError(str(path), [Problem("(file)", found, "a deployment's config")]) from None
    return parse_config(data, str(path))


MAX_VALUES = 200_000
"""Values a config may hold once its aliases are expanded: a real deployment has a few
thousand; a few aliases of aliases (a 339-byte "billion laughs") would otherwise expand to
hundreds of millions while being validated."""


class _TooLarge(ValueError):
    pass


def _check_expanded_size(data: Any) -> None:
    """Count values as validation will see them (each alias as often as it is used), without
    expanding anything: a shared node is counted once and reused, so this is linear in the file."""
    sizes: dict[int, int] = {}

    def size(node: Any) -> int:
        if not isinstance(node, dict | list):
            return 1
        key = id(node)
        if key in sizes:
            if sizes[key] < 0:
                raise _TooLarge("an alias that contains itself")
            return sizes[key]
        sizes[key] = -1
        children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
        total = 1 + sum(size(child) for child in children)
        if total > MAX_VALUES:
            raise _TooLarge(f"more than {MAX_VALUES:,} values once its aliases are expanded")
        sizes[key] = total
        return total

    size(data)


def reference(
    model: type[BaseModel] = StoplineConfig, prefix: str = "", within: tuple[type, ...] = ()
) -> list[str]:
    """Markdown rows `| key | default | description |` for every field, nested models expanded.

    docs/CONFIG.md is generated from this, so the documentation cannot drift from the models.
    A model nested in itself (`detector.also`) is expanded once: it has the keys above it.
    """
    rows: list[str] = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        nested = _model_in(info.annotation)
        if nested in (*within, model):
            nested = None
        is_list = any(kind in str(info.annotation) for kind in ("list[", "tuple["))
        if info.is_required():
            default = "required"
        elif info.default_factory is not None:
            default = "" if nested else "`[]`"
        else:
            default = f"`{info.default}`"
        rows.append(f"| `{path}` | {default} | {info.description or ''} |")
        if nested is not None:
            rows.extend(
                reference(nested, f"{path}[]." if is_list else f"{path}.", (*within, model))
            )
    return rows
