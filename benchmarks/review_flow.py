"""A reviewer's pace in a real browser: Debian's chromium, driven by Playwright with the keyboard
only, works --cases pending cases at 1440x900 in the review console (uvicorn on loopback,
SQLite, the evidence of `benchmarks.review_cases`: the real clip y2.mp4 and its frames, with
the camera set-up judged on it, and real plate crops from ../shared/data/plates-cn-crops).

The reviewer opens the oldest case (`j`), then for each case: rejects every third one (`r`, a
reason digit; about the third of flagged events that real programmes reject) and approves the
others (`a`) under the default confirmation rule, `clip_watched`: the clip autoplays and `a` is
pressed again until it has played through the violation (5.8 s into the clip at 1x); the console
then shows the next case. No thinking time is added: this is the UI's own time per decision.
- s/decision: from the case page shown to the next one shown, p50 / p95 / max and the mean;
- decisions/h: 3,600 / mean s;
- without scrolling: the share of decisions made with the page unscrolled, nothing below the
  fold, and the key frames, the clip and the decision bar wholly in view. Goal 100 %.
--screenshots DIR saves the queue and a red-light and a pedestrian case page at 1440x900 and
1920x1080 (the docs' pictures).
"""

from __future__ import annotations

import re
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from playwright.sync_api import Page, sync_playwright

from benchmarks import review_cases
from benchmarks.common import (
    argument_parser,
    num,
    positive_int,
    print_table,
    progress_bar,
    run_benchmark,
)
from pipeline.config import parse_config
from pipeline.evidence import EvidenceStore, load_or_create_key
from pipeline.store import Role, open_store
from pipeline.store.registry import add_user
from review.app import create_app
from review.passwords import hash_password
from review.web import Console
from stopline.demo.run import DEMO_CONFIG
from tests.fixtures.browser import CHROMIUM_ARGS, browser_env, serving

PASSWORD = "benchmark reviewer password"
PLATES = review_cases.CLIP.parents[1] / "plates-cn-crops"
"""Real plate crops, each case one of them (its text the read): the zoomed crop is a real one."""
SIZES = ((1440, 900), (1920, 1080))
REJECT_EVERY = 3
QUEUE_PAGE = 30
"""Cases at least: the queue's screenshot shows a screenful however few are decided."""
JPEG_QUALITY = 80
"""The docs' screenshots: a fifth of a PNG's bytes; the key frames are photographs anyway."""
IN_VIEW = ("#key-frames", "#clip", "#decide-bar")
LAYOUT = f"""() => {{
  const box = (s) => {{
    const e = document.querySelector(s);
    return e && e.getBoundingClientRect();
  }};
  const seen = {list(IN_VIEW)!r}.map(box).filter(Boolean);
  const root = document.scrollingElement;
  return window.scrollY === 0 && root.scrollHeight <= window.innerHeight + 1
    && seen.length === {len(IN_VIEW)}
    && seen.every((r) => r.top >= 0 && r.left >= 0 && r.bottom <= window.innerHeight + 1
      && r.right <= window.innerWidth + 1 && r.height > 0);
}}"""
"""Whether the decision is made on one unscrolled screen with everything it needs in view."""


@dataclass
class Run:
    seconds: dict[str, list[float]] = field(default_factory=lambda: {"approve": [], "reject": []})
    unscrolled: int = 0


@contextmanager
def console(cases: int) -> Iterator[tuple[str, list[str]]]:
    """The console with `cases` pending cases and one reviewer, served on loopback."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        url = f"sqlite:///{root / 'stopline.db'}"
        data = yaml.safe_load(DEMO_CONFIG.read_text())
        data["storage"] = {"database_url": url, "evidence_dir": str(root / "evidence")}
        # One reviewer: the blind double-review sample needs a second one, so none is drawn.
        data["review"] = {"cookie_secure": False, "double_review_share": 0.0}
        config = parse_config(data, "benchmark")
        store = open_store(url)
        evidence = EvidenceStore(root / "evidence")
        with store.session() as session:
            add_user(session, "reviewer", hash_password(PASSWORD), Role.REVIEWER)
        key = load_or_create_key(root / "key.pem")
        ids = review_cases.seed(store, evidence, cases, signing_key=key, plate_crops=PLATES)
        try:
            with serving(create_app(Console(config, store, evidence, plate_key=str.upper))) as base:
                yield base, ids
        finally:
            store.close()


def log_in(page: Page, base: str, name: str = "reviewer", password: str = PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(re.compile(r".*/queue"))


def shown(page: Page, after: str | None) -> str:
    """The id of the case page shown once it replaced `after`, its scripts run."""
    page.wait_for_function(
        "(after) => { const c = document.getElementById('case');"
        " return c && c.dataset.citation !== after && document.readyState === 'complete'; }",
        arg=after,
    )
    return str(page.get_attribute("#case", "data-citation"))


def watched(page: Page) -> bool:
    return bool(
        page.evaluate(
            "() => { const c = document.getElementById('clip');"
            " const w = document.getElementById('watched-s');"
            " return !c || !c.dataset.watchTo"
            "   || Number(w.value) + 0.05 >= Number(c.dataset.watchTo); }"
        )
    )


def work(page: Page, count: int, progress: object) -> Run:
    run = Run()
    page.keyboard.press("j")
    current = shown(page, None)
    task = progress.add_task("decisions", total=count)  # type: ignore[attr-defined]
    for index in range(count):
        start = time.perf_counter()
        run.unscrolled += bool(page.evaluate(LAYOUT))
        if index % REJECT_EVERY == REJECT_EVERY - 1:
            verb = "reject"
            page.keyboard.press("r")
            page.keyboard.press("2")
        else:
            verb = "approve"
            page.keyboard.press("a")
            while not watched(page):
                page.wait_for_timeout(50)
            page.keyboard.press("a")
        if index < count - 1:
            current = shown(page, current)
        else:
            page.wait_for_selector(".notice.ok")
        run.seconds[verb].append(time.perf_counter() - start)
        progress.update(task, completed=index + 1)  # type: ignore[attr-defined]
    return run


def screenshots(page: Page, base: str, ids: Sequence[str], folder: Path) -> list[Path]:
    """The queue and a red-light and a pedestrian case, at each size (the cases stay pending:
    only looked at)."""
    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    red, walker = ids[1], ids[0]  # review_cases: every third case is a pedestrian's
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        for name, path in (
            ("queue", "/queue"),
            ("case", f"/cases/{red}"),
            ("pedestrian-case", f"/cases/{walker}"),
        ):
            page.goto(base + path)
            page.wait_for_load_state("networkidle" if path == "/queue" else "load")
            if path != "/queue":
                page.wait_for_function(
                    "() => { const c = document.getElementById('clip');"
                    " return c && c.readyState >= 2 && c.currentTime > 1.0; }"
                )
            target = folder / f"review-{name}-{width}x{height}.jpg"
            page.screenshot(path=str(target), type="jpeg", quality=JPEG_QUALITY)
            saved.append(target)
    return saved


def main(argv: Sequence[str] | None = None) -> None:
    parser = argument_parser("benchmarks.review_flow", __doc__)
    parser.add_argument("--cases", type=positive_int, default=200, help="cases decided")
    parser.add_argument("--screenshots", type=Path, help="save the docs' pictures here")
    args = parser.parse_args(argv)
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium not found: install the Debian package `chromium`")

    def body() -> None:
        with (
            console(max(args.cases + 2, QUEUE_PAGE)) as (base, ids),
            sync_playwright() as playwright,
            progress_bar() as progress,
        ):
            browser = playwright.chromium.launch(
                executable_path=chromium, args=CHROMIUM_ARGS, env=browser_env()
            )
            try:
                page = browser.new_page(viewport={"width": SIZES[0][0], "height": SIZES[0][1]})
                log_in(page, base)
                saved = screenshots(page, base, ids, args.screenshots) if args.screenshots else []
                page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})
                page.goto(f"{base}/queue")
                run = work(page, args.cases, progress)
            finally:
                browser.close()
        every = [s for values in run.seconds.values() for s in values]
        rows = [
            [
                verb,
                str(len(values)),
                num(statistics.median(values), 2),
                num(sorted(values)[max(0, round(0.95 * len(values)) - 1)], 2),
                num(max(values), 2),
                num(statistics.fmean(values), 2),
                num(3600 / statistics.fmean(values), 0),
            ]
            for verb, values in (*run.seconds.items(), ("all", every))
            if values
        ]
        print_table(
            f"Review flow: {args.cases} decisions with the keyboard at 1440x900 (chromium)",
            ("decision", "n", "p50 s", "p95 s", "max s", "mean s", "decisions/h"),
            rows,
            notes=[
                f"without scrolling: {run.unscrolled}/{args.cases} "
                f"({100 * run.unscrolled / args.cases:.0f} %)",
                "approvals wait for the clip to play through the violation (clip_watched, 1x)",
                *(f"screenshot: {p}" for p in saved),
            ],
        )

    run_benchmark(body)


if __name__ == "__main__":
    main()
