"""`stopline demo`: compose the demo intersection, run every stage on it, leave a browsable folder.

The object detector and ByteTrack find the road users, so track ids are the tracker's own; the
scene's script knows which offences happen and when, so the demo checks its result by kind and
time and says plainly whom the pipeline missed or cited unexpectedly.

The red-light runner carries a plate; before the run the demo registers a keeper for it (a
person with a phone number and a language), so the plate reader's read leads to a person and
the approved citation to an SMS, which the file gateway writes into the outbox folder. The
jaywalker has no plate and faces are off, so nobody is identified and the notice is recorded as
unsendable, as it would be in a real deployment.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
import yaml
from rich.console import Console
from sqlalchemy import select

from display.slide import SHOWABLE, why_hidden
from identify.plates import registry_plate
from pipeline.config import StoplineConfig
from pipeline.evidence import EvidenceStore
from pipeline.store import Role, open_store
from pipeline.store.audit import append, verify_chain
from pipeline.store.citizen import portal_media
from pipeline.store.models import Citation, SmsOutbox, SmsStatus, Violation
from pipeline.store.registry import add_user, get_user, put_person, put_vehicle
from review.passwords import hash_password
from stopline.demo.frames import render
from stopline.demo.index import file_entry, write_index
from stopline.demo.scene import (
    COMPLIANT,
    DURATION_S,
    EXPECTED,
    FPS,
    HEIGHT,
    RED_LIGHT_PLATE,
    ROAD_USERS,
    WIDTH,
    Offence,
)
from stopline.wiring import Pipeline

DEMO_CONFIG = Path(__file__).resolve().parents[2] / "configs" / "demo.yaml"
MATCH_TOLERANCE_S = 1.0
"""How far a cited offence's time may be from the script's and still be the same offence."""
DEMO_LOGIN = "officer"
_OFFENCE_TIME_FACT = {"red_light": "crossed_stop_s", "jaywalk": "entered_s"}
DEMO_ACTOR = "system:demo"
KEEPER_ID = "demo-keeper"
KEEPER_NAME = "Jordan Avery"
KEEPER_PHONE = "+12025550143"
"""E.164, in the 555-0100 to 555-0199 range kept for fiction: valid, and nobody's phone."""
KEEPER_LANGUAGE = "en"
PLATED = next(u.name for u in ROAD_USERS if u.plate == RED_LIGHT_PLATE)
"""The road user whose citation must end in an SMS to the keeper."""


def run_demo(out_dir: Path, console: Console, load: Callable[[Path], StoplineConfig]) -> None:
    if not DEMO_CONFIG.is_file():
        console.print(f"demo config not found at {DEMO_CONFIG}; run from a source checkout")
        raise typer.Exit(2)
    cfg = load(DEMO_CONFIG)
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("stopline.db", "stopline.db-wal", "stopline.db-shm"):
        (out_dir / stale).unlink(missing_ok=True)
    outbox = _outbox_dir(cfg, out_dir)
    for stale_sms in outbox.glob("*.json") if outbox else ():
        stale_sms.unlink()  # a previous run's notices: this run's database knows nothing of them
    camera = cfg.cameras[0]
    console.print(f"[bold]stopline demo[/] -> {out_dir}")
    video = render(camera, out_dir / Path(camera.source).parent)
    console.print(
        f"composed the demo intersection from photos that scikit-image and matplotlib ship: "
        f"{video.name} ({DURATION_S:.0f} s, {WIDTH}x{HEIGHT}, {FPS:.0f} fps)"
    )
    console.print(
        f"road users are found by the object detector ({cfg.detector.backend}) and tracked by "
        "ByteTrack; the signal follows the config's fixed plan."
    )
    console.print(
        f"[yellow]demo reviewer:[/] '{cfg.review.demo_reviewer}' approves every case "
        "automatically so the chain runs to the end; each decision is in the audit log as such."
    )
    with Pipeline(cfg, base_dir=out_dir) as pipeline:
        keeper = register_keeper(pipeline, cfg.identification.plates.region)
        console.print(
            f"registered keeper: {keeper['name']} ({keeper['phone']}, language "
            f"{keeper['language']}) for plate {keeper['plate']}, the red motorcycle's"
        )
        summary = pipeline.run_all(progress=console)
        reports = pipeline.evidence.verify()
        with pipeline.store.session() as session:
            rows = session.execute(
                select(Citation, Violation).join(Violation, Citation.violation_id == Violation.id)
            ).all()
            chain = verify_chain(session)
            cases = [_case(c, v, pipeline.evidence) for c, v in rows]
            notices = {
                n.citation_id: _notice(n, outbox, out_dir)
                for n in session.scalars(select(SmsOutbox).order_by(SmsOutbox.id))
            }
    summary.print(console)
    for case in cases:
        case["notice"] = notices.get(case["citation_id"])
    cases.sort(key=lambda c: c["at_s"])
    missed, unexpected = _match(cases)
    # The plated road user's citation must reach its keeper's phone as a file in the outbox.
    unsent = [c for c in cases if c["who"] == PLATED and not (c["notice"] or {}).get("file")]
    (out_dir / "summary.json").write_text(
        json.dumps(
            {
                "cases": cases,
                "expected": [vars(o) for o in EXPECTED],
                "missed": [vars(o) for o in missed],
                "unexpected_citations": [c["citation_id"] for c in unexpected],
                "keeper": keeper,
                "sms_outbox": _shown(outbox, out_dir) if outbox else None,
                "audit_chain_ok": chain.ok,
            },
            indent=2,
        )
    )
    write_index(out_dir, cases)
    ok_manifests = sum(r.ok for r in reports)
    console.print(f"evidence manifests verified: {ok_manifests}/{len(reports)}")
    console.print(f"audit chain: {'intact' if chain.ok else 'BROKEN'}")
    for case in cases:
        who = f"the {case['who']}" if case["who"] else "[red]nobody the scene expected[/]"
        console.print(
            f"cited {case['kind']} by track {case['track_id']} ({case['object_class']}) "
            f"at {case['at_s']:.1f} s: {who}; {_identity(case)}"
        )
        _print_notice(console, case)
    for case in unsent:
        console.print(
            f"[red]no SMS for the {PLATED}:[/] plate {case['plate_text'] or 'not read'}; "
            f"expected {keeper['plate']} to reach {keeper['phone']}"
        )
    for offence in missed:
        console.print(f"[red]missed:[/] {offence.kind} by the {offence.who} at {offence.at_s} s")
    noticed = [c for c in cases if c["notice_number"]]
    unblurred = [c for c in noticed if not c["portal_evidence"]] if cfg.portal.media.enabled else []
    if cfg.portal.media.enabled:
        console.print(
            "portal evidence (bystanders and other plates blurred): "
            f"{len(noticed) - len(unblurred)}/{len(noticed)} approved cases"
        )
    console.print("not cited, as expected: " + "; ".join(f"{u.name} {u.role}" for u in COMPLIANT))
    console.print(f"browse: {out_dir / 'index.html'}")
    unshown = _print_billboards(console, cfg, out_dir, cases)
    served, name, password = _console_login(out_dir)
    port = cfg.review.listen_port
    console.print(
        f"review console: run `stopline review serve --config {served}` and open "
        f"http://127.0.0.1:{port}/ ; demo login: {name} / {password}",
        markup=False,
        highlight=False,
        soft_wrap=True,  # one line, so the command and password copy cleanly
    )
    console.print(
        f"citizen portal: run `stopline portal serve --config {served}` and open "
        f"http://127.0.0.1:{cfg.portal.listen_port}/ with the notice number and PIN of the SMS",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    wrong = missed or unexpected or unsent or unshown or unblurred
    if wrong or ok_manifests != len(reports) or not chain.ok:
        console.print("[red]the demo result does not match the scene's script[/]")
        raise typer.Exit(1)


def _print_billboards(
    console: Console, cfg: StoplineConfig, out_dir: Path, cases: list[dict[str, Any]]
) -> list[str]:
    """Where each screen's frames are; the approved citations some screen does not show though
    the privacy policy lets it (a case naming nobody stays off the screens by default)."""
    approved = set()
    for case in (c for c in cases if c["status"] in SHOWABLE):
        why = why_hidden(case["status"], case["person_id"], cfg.display.privacy)
        if why is None:
            approved.add(case["citation_id"])
        else:
            console.print(f"kept off the billboards: citation {case['citation_id']} {why}")
    unshown = set()
    for screen in cfg.display.screens:
        folder = out_dir / screen.output_dir / screen.id
        index = folder / "playlist" / "playlist.json"
        frames = json.loads(index.read_text())["frames"] if index.is_file() else []
        shown = {name.rsplit(".", 1)[0] for name in frames}
        unshown |= approved - shown
        console.print(
            f"billboard {screen.id} ({screen.width_px}x{screen.height_px}): {len(frames)} "
            f"frame(s) in {folder / 'playlist'}, on screen now: {folder / 'current.png'}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    for citation_id in sorted(unshown):
        console.print(f"[red]approved but on no billboard:[/] citation {citation_id}")
    return sorted(unshown)


def _outbox_dir(cfg: StoplineConfig, out_dir: Path) -> Path | None:
    """The folder the file gateway writes SMS into, resolved as `Pipeline(base_dir=out_dir)`
    resolves it (notifier/gateways.py); None for the other gateways."""
    if cfg.notifier.gateway != "file":
        return None
    folder = cfg.notifier.outbox_dir
    return folder if folder.is_absolute() else out_dir / folder


def register_keeper(pipeline: Pipeline, region: str) -> dict[str, str]:
    """The red motorcycle's keeper, stored as `stopline registry import` stores a person and a
    vehicle (the plate normalised as the reader gives it), and audited."""
    plate = registry_plate(RED_LIGHT_PLATE, region)
    if plate is None:
        raise RuntimeError(f"the demo plate {RED_LIGHT_PLATE!r} fits no {region} plate format")
    keeper = {
        "person_id": KEEPER_ID,
        "name": KEEPER_NAME,
        "phone": KEEPER_PHONE,
        "language": KEEPER_LANGUAGE,
        "plate": plate,
    }
    with pipeline.store.session() as session:
        put_person(session, KEEPER_ID, KEEPER_NAME, phone=KEEPER_PHONE, language=KEEPER_LANGUAGE)
        put_vehicle(session, plate, KEEPER_ID)
        append(session, DEMO_ACTOR, "registry.demo_keeper", "person", KEEPER_ID, keeper)
    return keeper


def _notice(row: SmsOutbox, outbox: Path | None, out_dir: Path) -> dict[str, Any]:
    """A citation's SMS notice: its outbox row and, once sent, the file the gateway wrote."""
    notice: dict[str, Any] = {
        "status": row.status,
        "recipient": row.recipient,
        "language": row.language,
        "body": row.body,
        "why": row.last_error,
        "file": None,
    }
    sent = row.status in (SmsStatus.SENT, SmsStatus.DELIVERED)
    if sent and outbox is not None and row.gateway_message_id:
        path = outbox / row.gateway_message_id
        if path.is_file():
            written = json.loads(path.read_text(encoding="utf-8"))
            notice |= {"file": _shown(path, out_dir), "to": written["to"]}
            notice["body"] = written["body"]
    return notice


def _shown(path: Path, out_dir: Path) -> str:
    """`path` relative to the demo's folder when inside it, else as it is."""
    return str(path.relative_to(out_dir)) if path.is_relative_to(out_dir) else str(path)


def _print_notice(console: Console, case: dict[str, Any]) -> None:
    notice = case["notice"]
    if notice is None:
        console.print("  no SMS notice queued")
    elif notice["file"]:
        console.print(
            f"  SMS to {notice['to']} ({notice['language']}), written to {notice['file']}:",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        for line in notice["body"].splitlines():
            console.print(f"    {line}", markup=False, highlight=False, soft_wrap=True)
    else:
        why = f": {notice['why']}" if notice["why"] else ""
        console.print(f"  SMS notice {notice['status']}{why}", markup=False, highlight=False)


def _console_login(out_dir: Path) -> tuple[Path, str, str]:
    """A console and portal config for the demo's store, and a supervisor login with a fresh
    password (the demo's own reviewer cannot log in). Both are reached over plain HTTP on this
    machine, so their cookies are not HTTPS-only."""
    data = yaml.safe_load(DEMO_CONFIG.read_text())
    data["storage"] = {
        key: f"sqlite:///{out_dir / 'stopline.db'}"
        if key == "database_url"
        else str(out_dir / value)
        for key, value in data["storage"].items()
    }
    data["review"] = {**data["review"], "cookie_secure": False}
    data["portal"] = {**data.get("portal", {}), "cookie_secure": False}
    served = out_dir / "console.yaml"
    served.write_text(yaml.safe_dump(data, sort_keys=False))
    password = secrets.token_urlsafe(12)
    store = open_store(data["storage"]["database_url"])
    try:
        with store.session() as session:
            user = get_user(session, DEMO_LOGIN)
            if user is None:
                add_user(session, DEMO_LOGIN, hash_password(password), Role.SUPERVISOR)
            else:
                user.password_hash = hash_password(password)
            append(session, "system:demo", "user.demo_login", "user", DEMO_LOGIN)
    finally:
        store.close()
    return served, DEMO_LOGIN, password


def _match(cases: list[dict]) -> tuple[list[Offence], list[dict]]:
    """Pair each citation with a scripted offence of its kind near its time (each used once);
    returns the offences nobody was cited for and the citations no offence explains."""
    missed = list(EXPECTED)
    unexpected = []
    for case in cases:
        near = [
            o
            for o in missed
            if o.kind == case["kind"] and abs(o.at_s - case["at_s"]) <= MATCH_TOLERANCE_S
        ]
        if near:
            offence = min(near, key=lambda o: abs(o.at_s - case["at_s"]))
            missed.remove(offence)
            case["who"] = offence.who
        else:
            unexpected.append(case)
    return missed, unexpected


def _identity(case: dict[str, Any]) -> str:
    """What identification said, in the reviewer's words."""
    found = case["identification"] or {}
    if "plate" in found:
        plate = found["plate"]
        return f"plate {plate['text']}" if plate.get("text") else f"plate {plate['status']}"
    if "face" in found:
        return f"face {found['face']['status']}"
    return "not identified (faces are off in this deployment)"


def _case(citation: Citation, violation: Violation, evidence: EvidenceStore) -> dict[str, Any]:
    event = violation.event
    manifest = json.loads(evidence.manifest_path(violation.id).read_text())
    return {
        "citation_id": citation.id,
        "status": citation.status,
        "decided_by": citation.decided_by,
        "plate_text": citation.plate_text,
        "person_id": citation.person_id,
        "identification": citation.identification,
        "kind": violation.kind,
        "camera_id": violation.camera_id,
        "occurred_at": violation.occurred_at.isoformat(),
        "track_id": violation.track_id,
        "object_class": violation.object_class,
        "at_s": round(manifest["manifest"]["facts"][_OFFENCE_TIME_FACT[violation.kind]], 2),
        "who": None,
        "time_into_red_s": violation.time_into_red_s,
        "speed_px_s": event.get("speed_px_s"),
        "manifest": f"evidence/manifests/{violation.id}.json",
        "evidence": [file_entry(ref) for ref in event.get("evidence", [])],
        "notice_number": citation.notice_number,
        "portal_evidence": [file_entry(ref) for ref in portal_media(citation)],
    }
