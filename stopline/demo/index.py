"""The demo's browsable page: each case's evidence as recorded and as the portal shows it."""

from __future__ import annotations

import html
from pathlib import Path


def file_entry(ref: dict[str, str]) -> dict[str, str]:
    digest = ref["sha256"]
    return {
        "role": ref["role"],
        "path": f"evidence/sha256/{digest[:2]}/{digest[2:4]}/{digest}",
        "media_type": ref["media_type"],
    }


def write_index(out_dir: Path, cases: list[dict]) -> None:
    parts = [
        "<!doctype html><meta charset='utf-8'><title>stopline demo</title>",
        "<style>body{font-family:sans-serif;margin:2em}img{max-width:420px;margin:4px}</style>",
        f"<h1>stopline demo: {len(cases)} citation(s)</h1>",
    ]
    for case in cases:
        e = html.escape
        title = f"{case['kind']} by track {case['track_id']} at {case['occurred_at']}"
        into_red = (
            "" if case["time_into_red_s"] is None else f"{case['time_into_red_s']} s into red;"
        )
        parts.append(
            f"<h2>{e(title)}</h2><p>status <b>{e(str(case['status']))}</b>"
            f" by {e(str(case['decided_by']))}; {into_red}"
            f" <a href='{e(str(case['manifest']))}'>manifest</a></p>"
        )
        # Track crops feed identification; the key frames and one crop show the case.
        shown = [i for i in case["evidence"] if i["role"] != "crop:track"]
        if case["portal_evidence"]:
            parts.append("<p>as the fined person sees it in the portal (bystanders blurred):</p>")
        for item in shown + case["portal_evidence"]:
            src = e(item["path"])
            if item["media_type"].startswith("image/"):
                parts.append(f"<a href='{src}'><img src='{src}' title='{e(item['role'])}'></a>")
            else:
                parts.append(
                    f"<p><a href='{src}'>{e(item['role'])} ({e(item['media_type'])})</a></p>"
                )
    (out_dir / "index.html").write_text("\n".join(parts), encoding="utf-8")
