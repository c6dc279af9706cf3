"""`/metrics` in Prometheus' text format, computed from the store at each scrape.

Queue length, decisions in the last hour, the approval ratio and the stage latencies are facts
of the database, not of this process, so every console replica reports the same numbers and a
restart loses none of them; only the console's own request timings are kept in memory.
A scraper authenticates with `review.metrics_token` as a bearer token, or a person with an
admin or auditor login may look.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, SummaryMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from pipeline.store import Status
from pipeline.store.models import Citation, CitationTransition, Role, Violation, utcnow
from pipeline.tokens import same_token
from review.web import Console, Forbidden, console, viewer

router = APIRouter(include_in_schema=False)
LATENCY_SAMPLE = 1000
"""Latest citations whose stage latencies are summarised; enough for a stable p95."""


class StoreCollector(Collector):
    def __init__(self, cons: Console) -> None:
        self.cons = cons

    def collect(self) -> Iterator[GaugeMetricFamily | SummaryMetricFamily]:
        now = utcnow()
        with self.cons.session() as session:
            pending = session.scalar(
                select(func.count()).where(Citation.status == Status.PENDING_REVIEW)
            )
            recent = dict(
                session.execute(
                    select(CitationTransition.to_state, func.count())
                    .where(
                        CitationTransition.at >= now - timedelta(hours=1),
                        CitationTransition.to_state.in_([Status.APPROVED, Status.REJECTED]),
                    )
                    .group_by(CitationTransition.to_state)
                ).all()
            )
            decided = dict(
                session.execute(
                    select(CitationTransition.to_state, func.count())
                    .where(CitationTransition.to_state.in_([Status.APPROVED, Status.REJECTED]))
                    .group_by(CitationTransition.to_state)
                ).all()
            )
            latest = session.execute(
                select(
                    Violation.occurred_at, Citation.created_at, Citation.updated_at, Citation.status
                )
                .join(Citation, Citation.violation_id == Violation.id)
                .order_by(Citation.created_at.desc())
                .limit(LATENCY_SAMPLE)
            ).all()
        yield GaugeMetricFamily(
            "stopline_review_queue_length", "Citations waiting for review", value=pending or 0
        )
        hourly = GaugeMetricFamily(
            "stopline_review_decisions_last_hour",
            "Review decisions made in the last hour",
            labels=["decision"],
        )
        for state in (Status.APPROVED, Status.REJECTED):
            hourly.add_metric([state.value], recent.get(state, 0))
        yield hourly
        total = sum(decided.values())
        yield GaugeMetricFamily(
            "stopline_review_approval_ratio",
            "Approved share of all review decisions (NaN before the first)",
            value=decided.get(Status.APPROVED, 0) / total if total else float("nan"),
        )
        stage = SummaryMetricFamily(
            "stopline_stage_latency_seconds",
            f"Time between stages, over the latest {LATENCY_SAMPLE} citations",
            labels=["stage"],
        )
        identify = [(c - o).total_seconds() for o, c, _, _ in latest]
        review = [
            (u - c).total_seconds()
            for _, c, u, s in latest
            if s not in (Status.DETECTED, Status.PENDING_REVIEW)
        ]
        stage.add_metric(["detect_to_citation"], len(identify), sum(identify))
        stage.add_metric(["citation_to_decision"], len(review), sum(review))
        yield stage
        timings = self.cons.timings
        requests = SummaryMetricFamily(
            "stopline_review_request_seconds", "Console server time per route", labels=["route"]
        )
        for route, count in sorted(timings.count.items()):
            requests.add_metric([route], count, timings.total_s[route])
        yield requests


def _allowed(request: Request, cons: Console) -> None:
    token = cons.config.review.metrics_token
    header = request.headers.get("authorization", "")
    if token and header.startswith("Bearer ") and same_token(header[7:], token):
        return
    if viewer(request).role not in (Role.ADMIN, Role.AUDITOR):
        raise Forbidden


@router.get("/metrics")
def metrics(request: Request, cons: Annotated[Console, Depends(console)]) -> Response:
    _allowed(request, cons)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(cons))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
