"""`stopline demo`: draw the demo intersection, run every stage on it, leave a browsable folder.

The scene's ground truth says which vehicle ran the red light, so the demo checks its own
result and says plainly if the pipeline cited anyone else.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from pathlib import Path

import typer
from rich.console import Console
from sqlalchemy import select

from pipeline.config import StoplineConfig
from pipeline.store.audit import verify_chain
from pipeline.store.models import Citation, Violation
from stopline.demo.scene import VEHICLES, render
from stopline.wiring import Pipeline

DEMO_CONFIG = Path(__file__).resolve().parents[2] / "configs" / "demo.yaml"


def run_demo(out_dir: Path, console: Console, load: Callable[[Path], StoplineConfig]) -> None:
    if not DEMO_CONFIG.is_file():
        console.print(f"demo config not found at {DEMO_CONFIG}; run from a source checkout")
        raise typer.Exit(2)
    cfg = load(DEMO_CONFIG)
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("stopline.db", "stopline.db-wal", "stopline.db-shm"):
        (out_dir / stale).unlink(missing_ok=True)
    camera = cfg.cameras[0]
    console.print(f"[bold]stopline demo[/] -> {out_dir}")
    video, _truth = render(camera, out_dir / Path(camera.source).parent)
    console.print(f"drew the demo intersection: {video.name} (30 s, 640x360, 10 fps)")
    console.print(
        f"[yellow]demo reviewer:[/] '{cfg.review.demo_reviewer}' approves every case "
        "automatically so the chain runs to the end; each decision is in the audit log as such."
    )
    console.print(
        "tracks come from the scene's own ground truth (object detection is not wired yet)."
    )
    with Pipeline(cfg, base_dir=out_dir) as pipeline:
        summary = pipeline.run_all(progress=console)
        reports = pipeline.evidence.verify()
        with pipeline.store.session() as session:
            rows = session.execute(
                select(Citation, Violation).join(Violation, Citation.violation_id == Violation.id)
            ).all()
            chain = verify_chain(session)
            cases = [_case(c, v) for c, v in rows]
    summary.print(console)
    cited = sorted(c["track_id"] for c in cases)
    expected = sorted(v.track_id for v in VEHICLES if v.expected == "runs the red light")
    (out_dir / "summary.json").write_text(
        json.dumps(
            {"cases": cases, "expected_tracks": expected, "audit_chain_ok": chain.ok}, indent=2
        )
    )
    _write_index(out_dir, cases)
    ok_manifests = sum(r.ok for r in reports)
    console.print(f"evidence manifests verified: {ok_manifests}/{len(reports)}")
    console.print(f"audit chain: {'intact' if chain.ok else 'BROKEN'}")
    console.print(f"cited tracks {cited}; the scene's red-light runners {expected}")
    console.print(f"browse: {out_dir / 'index.html'}")
    if cited != expected or ok_manifests != len(reports) or not chain.ok:
        console.print("[red]the demo result does not match the scene's ground truth[/]")
        raise typer.Exit(1)


def _case(citation: Citation, violation: Violation) -> dict[str, object]:
    event = violation.event
    return {
        "citation_id": citation.id,
        "status": citation.status,
        "decided_by": citation.decided_by,
        "kind": violation.kind,
        "camera_id": violation.camera_id,
        "occurred_at": violation.occurred_at.isoformat(),
        "track_id": violation.track_id,
        "time_into_red_s": violation.time_into_red_s,
        "speed_px_s": event.get("speed_px_s"),
        "manifest": f"evidence/manifests/{violation.id}.json",
        "evidence": [
            {
                "role": ref["role"],
                "path": f"evidence/sha256/{ref['sha256'][:2]}/{ref['sha256'][2:4]}/{ref['sha256']}",
                "media_type": ref["media_type"],
            }
            for ref in event.get("evidence", [])
        ],
    }


def _write_index(out_dir: Path, cases: list[dict]) -> None:
    parts = [
        "<!doctype html><meta charset='utf-8'><title>stopline demo</title>",
        "<style>body{font-family:sans-serif;margin:2em}img{max-width:420px;margin:4px}</style>",
        f"<h1>stopline demo: {len(cases)} citation(s)</h1>",
    ]
    for case in cases:
        e = html.escape
        title = f"{case['kind']} by track {case['track_id']} at {case['occurred_at']}"
        parts.append(
            f"<h2>{e(title)}</h2><p>status <b>{e(str(case['status']))}</b>"
            f" by {e(str(case['decided_by']))}; {case['time_into_red_s']} s into red;"
            f" <a href='{e(str(case['manifest']))}'>manifest</a></p>"
        )
        for item in case["evidence"]:
            src = e(item["path"])
            if item["media_type"].startswith("image/"):
                parts.append(f"<a href='{src}'><img src='{src}' title='{e(item['role'])}'></a>")
            else:
                parts.append(
                    f"<p><a href='{src}'>{e(item['role'])} ({e(item['media_type'])})</a></p>"
                )
    (out_dir / "index.html").write_text("\n".join(parts), encoding="utf-8")
