"""Server time of the review console's case page and approve action with a full store.

The store holds --citations pending citations (default 10,000) made by
`benchmarks.review_cases` (real evidence: frames and the clip of y2.mp4, registry keepers for
half of them). A reviewer logs in and works the queue from its oldest case: for each of
--decisions cases it opens the case page (GET /cases/{id}, which also finds the next case and
writes the view's audit row) and approves it (POST .../approve: state machine, audit row, the
announcement in the event outbox, next case looked up for the redirect). Requests go through
the whole ASGI app in process (Starlette's TestClient), so the times are the server's:
routing, session check, queries, template, audit; no network or browser.
- p50 / p95 / p99 / max ms: per request;
- decisions/h: 3,600,000 / (p95 case page + p95 approve), the pace the server allows one
  reviewer if every case is decided at the 95th percentile of both requests.
Goal: p95 <= 100 ms for both, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from benchmarks import review_cases
from benchmarks.bench_store import Backend, _database, _settings
from benchmarks.common import (
    argument_parser,
    num,
    percentiles_ms,
    print_table,
    progress_bar,
    run_benchmark,
    stderr,
    tracked,
)
from pipeline.config import parse_config
from pipeline.evidence import EvidenceStore
from pipeline.store import Role, open_store
from pipeline.store.registry import add_user
from review.app import create_app
from review.passwords import hash_password
from review.web import Console
from stopline.demo.run import DEMO_CONFIG

PASSWORD = "benchmark reviewer password"
COLUMNS = ("backend", "request", "n", "p50 ms", "p95 ms", "p99 ms", "max ms", "decisions/h")


@contextmanager
def console(backend: Backend, citations: int) -> Iterator[tuple[Console, str]]:
    with _database(backend, durable=True) as url, tempfile.TemporaryDirectory() as folder:
        data = yaml.safe_load(DEMO_CONFIG.read_text())
        data["storage"] = {"database_url": url, "evidence_dir": folder}
        data["review"] = {"cookie_secure": False}
        config = parse_config(data, "benchmark")
        store = open_store(url)
        evidence = EvidenceStore(Path(folder))
        with store.session() as session:
            add_user(session, "reviewer", hash_password(PASSWORD), Role.REVIEWER)
        start = time.perf_counter()
        review_cases.seed(store, evidence, citations)
        stderr.print(
            f"{backend}: {citations} citations stored in {time.perf_counter() - start:.0f} s"
        )
        cons = Console(config, store, evidence, plate_key=str.upper)
        try:
            yield cons, _settings(store)
        finally:
            store.close()


def measure(cons: Console, decisions: int, bar: object) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {"case page": [], "approve": []}
    with TestClient(create_app(cons), base_url="http://127.0.0.1") as client:
        form = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
        client.post("/login", data={"name": "reviewer", "password": PASSWORD, "csrf_token": token})
        queue = client.get("/queue").text
        path = "/cases/" + re.search(r'<a href="/cases/([0-9a-f]+)"', queue).group(1)  # type: ignore[union-attr]
        for _ in tracked(bar, range(decisions), "decisions"):  # type: ignore[arg-type]
            start = time.perf_counter()
            page = client.get(path)
            samples["case page"].append(time.perf_counter() - start)
            assert page.status_code == 200, page.text[:300]
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
            start = time.perf_counter()
            done = client.post(path + "/approve", data={"csrf_token": csrf}, follow_redirects=False)
            samples["approve"].append(time.perf_counter() - start)
            assert done.status_code == 303, done.text[:300]
            path = done.headers["location"].split("?")[0]
    return samples


def main(argv: Sequence[str] | None = None) -> None:
    parser = argument_parser("benchmarks.review_speed", __doc__)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--citations", type=int, default=10_000, help="pending citations stored")
    parser.add_argument("--decisions", type=int, default=300, help="cases opened and approved")
    args = parser.parse_args(argv)
    backends: list[Backend] = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]

    def body() -> None:
        rows, notes = [], []
        with progress_bar() as bar:
            for backend in backends:
                with console(backend, args.citations) as (cons, settings):
                    samples = measure(cons, args.decisions, bar)
                notes.append(f"{backend}: {settings}")
                p95 = {name: percentiles_ms(values)[1] for name, values in samples.items()}
                pace = 3_600_000 / sum(p95.values())
                for name, values in samples.items():
                    p50, p95_ms, p99, worst = percentiles_ms(values)
                    rows.append(
                        [
                            backend,
                            name,
                            str(len(values)),
                            num(p50, 1),
                            num(p95_ms, 1),
                            num(p99, 1),
                            num(worst, 1),
                            num(pace, 0) if name == "approve" else "",
                        ]
                    )
        print_table(
            f"Review console with {args.citations:,} pending citations: server time per request",
            COLUMNS,
            rows,
            label_columns=2,
            notes=[*notes, "in-process ASGI (TestClient): no network, no browser"],
        )

    run_benchmark(body)


if __name__ == "__main__":
    main()
