"""The JSON API for back-office systems: citations, their decisions, evidence by hash.

It shares the console's login (session cookie; unsafe methods need the `X-CSRF-Token` header)
and its rules (`review.cases`), and its OpenAPI document and docs page sit behind the same
login: the API's shape is not for anonymous eyes either.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from pipeline.store import IllegalTransition, Status, history
from pipeline.store.models import ID_LEN, Citation, Violation
from review import cases
from review.auth import Viewer
from review.cases import DecisionError, QueueFilter, RejectReason
from review.cases.reviewed import approve_case, reject_case
from review.pages.common import PageNumber, queue_filter
from review.pages.reviewing import EVIDENCE_MEDIA_TYPES, evidence_file
from review.web import DECIDERS, READERS, Console, checked, console, require


class Problem(BaseModel):
    """Why a request was refused."""

    detail: str


def _refusals(texts: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """For the OpenAPI document: a client is told every status it can be given, and its body."""
    return {code: {"model": Problem, "description": text} for code, text in texts.items()}


def _plain(description: str, schema: dict[str, str], *media_types: str) -> dict[str, Any]:
    return {"description": description, "content": {t: {"schema": schema} for t in media_types}}


router = APIRouter(
    prefix="/api/v1",
    tags=["citations"],
    responses=_refusals(
        {
            401: "Not logged in",
            403: "The role may not do this, or an unsafe request lacks the session's CSRF token",
        }
    ),
)
NO_CITATION = _refusals({404: "No such citation"})
Cons = Annotated[Console, Depends(console)]
Reader = Annotated[Viewer, Depends(require(*READERS))]


class CitationSummary(BaseModel):
    id: str
    status: str
    camera_id: str
    kind: str
    occurred_at: datetime
    plate_text: str | None
    plate_confidence: float | None
    person_id: str | None
    face_score: float | None
    created_at: datetime
    decided_by: str | None
    decision_reason: str | None


class CitationPage(BaseModel):
    items: list[CitationSummary]
    total: int
    page: int
    page_size: int
    next: str | None = Field(description="URL of the next page, if any")


class EvidenceItem(BaseModel):
    sha256: str
    role: str
    media_type: str
    url: str


class CitationDetail(CitationSummary):
    violation_id: str
    signal: dict[str, Any] | None
    speed_px_s: float | None
    identification: dict[str, Any]
    person: dict[str, Any] | None
    evidence: list[EvidenceItem]
    manifest_sha256: str
    corrected: bool


class Transition(BaseModel):
    from_state: str | None
    to_state: str
    actor: str
    reason: str | None
    at: datetime


class Approval(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve"]
    note: str = Field("", max_length=2000)
    watched_s: float | None = Field(
        None,
        ge=0,
        le=3600,
        description=(
            "How far (seconds) the reviewer played the clip without skipping; with "
            "review.confirm_approval: clip_watched it must reach the violation"
        ),
    )


class Rejection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["reject"]
    reason: RejectReason
    note: str = Field("", max_length=2000)


Decision = Annotated[Approval | Rejection, Field(discriminator="decision")]
"""Two shapes, so the document itself says a rejection needs its reason code."""
CitationId = Annotated[str, PathParam(max_length=ID_LEN)]


def _summary(citation: Citation, violation: Violation) -> CitationSummary:
    return CitationSummary(
        id=citation.id,
        status=citation.status,
        camera_id=citation.camera_id,
        kind=violation.kind,
        occurred_at=violation.occurred_at,
        plate_text=citation.plate_text,
        plate_confidence=citation.plate_confidence,
        person_id=citation.person_id,
        face_score=citation.face_score,
        created_at=citation.created_at,
        decided_by=citation.decided_by,
        decision_reason=citation.decision_reason,
    )


@router.get("/citations", response_model=CitationPage)
def list_citations(
    request: Request,
    cons: Cons,
    who: Reader,
    f: Annotated[QueueFilter, Depends(queue_filter)],
    status: Status = Status.PENDING_REVIEW,
    page: PageNumber = 1,
    page_size: Annotated[int | None, Query(ge=1, le=500)] = None,
) -> CitationPage:
    size = page_size or cons.config.review.page_size
    f = QueueFilter(**{**f.__dict__, "status": status})
    with cons.session() as session:
        rows, total = cases.queue(session, f, page, size, who)
        items = [_summary(c, v) for c, v in rows]
    more = page * size < total
    following = str(request.url.include_query_params(page=page + 1)) if more else None
    return CitationPage(items=items, total=total, page=page, page_size=size, next=following)


@router.get("/citations/{citation_id}", response_model=CitationDetail, responses=NO_CITATION)
def get_citation(cons: Cons, who: Reader, citation_id: CitationId) -> Response | CitationDetail:
    with cons.session() as session:
        try:
            case = cases.load_case(session, citation_id, who, "api")
        except LookupError:
            return JSONResponse({"detail": "no such citation"}, status_code=404)
        event = case.violation.event
        person = case.person
        return CitationDetail(
            **_summary(case.citation, case.violation).model_dump(),
            violation_id=case.violation.id,
            signal=event.get("signal"),
            speed_px_s=event.get("speed_px_s"),
            identification=case.identification,
            person=None
            if person is None
            else {"id": person.id, "name": person.name, "phone": person.phone},
            evidence=[
                EvidenceItem(**ref, url=f"/api/v1/evidence/{ref['sha256']}")
                for refs in case.evidence.values()
                for ref in refs
            ],
            manifest_sha256=case.violation.manifest_sha256,
            corrected=case.citation.corrected,
        )


@router.get(
    "/citations/{citation_id}/decisions", response_model=list[Transition], responses=NO_CITATION
)
def citation_decisions(
    cons: Cons, who: Reader, citation_id: CitationId
) -> Response | list[Transition]:
    with cons.session() as session:
        if session.get(Citation, citation_id) is None:
            return JSONResponse({"detail": "no such citation"}, status_code=404)
        return [
            Transition.model_validate(t, from_attributes=True)
            for t in history(session, citation_id)
        ]


@router.post(
    "/citations/{citation_id}/decisions",
    response_model=list[Transition],
    responses={
        **NO_CITATION,
        **_refusals(
            {400: "The body is not JSON", 409: "The citation is not open to this decision"}
        ),
    },
)
def decide(
    cons: Cons,
    citation_id: CitationId,
    body: Decision,
    who: Annotated[Viewer, Depends(checked(*DECIDERS))],
) -> Response | list[Transition]:
    try:
        with cons.session() as session:
            review = cons.config.review
            if isinstance(body, Rejection):
                reject_case(session, citation_id, who, body.reason, body.note, review)
            else:
                approve_case(session, citation_id, who, review, cons.evidence, body.watched_s)
    except LookupError:
        return JSONResponse({"detail": "no such citation"}, status_code=404)
    except (DecisionError, IllegalTransition) as exc:
        return JSONResponse({"detail": str(exc)}, status_code=409)
    return citation_decisions(cons, who, citation_id)


@router.get(
    "/evidence/{sha256}",
    summary="Download an evidence file by its SHA-256 (authorised roles only)",
    response_class=Response,
    responses={
        200: _plain("The file", {"type": "string", "format": "binary"}, *EVIDENCE_MEDIA_TYPES),
        404: _plain("No such evidence", {"type": "string"}, "text/plain"),
    },
)
def evidence(
    cons: Cons, who: Reader, sha256: Annotated[str, PathParam(pattern="^[0-9a-f]{64}$")]
) -> Response:
    """The pages' evidence route, with the hash's form in the document (a client is told, and
    a malformed hash gets the API's usual 422)."""
    return evidence_file(cons, sha256, who)


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request, who: Reader) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@router.get("/docs", include_in_schema=False)
def docs(request: Request, cons: Cons, who: Reader) -> Response:
    """The API's routes and models, rendered here: the usual Swagger page loads its scripts
    from a CDN, which neither the console's content policy nor an offline site allows."""
    return cons.page(request, "api_docs.html", who, spec=request.app.openapi())
