"""The `stopline` command line.

Every failure a user can cause (a bad config, a missing file, a tampered evidence package) ends
in plain lines and a non-zero exit, never in a Python traceback.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console

from pipeline.config import CameraConfig, ConfigError, StoplineConfig, load_config
from pipeline.events import ViolationDetected

if TYPE_CHECKING:
    from fastapi import FastAPI

    from pipeline.store import Store

app = typer.Typer(
    help="stopline: red-light and jaywalk enforcement, from camera to reviewed citation.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
config_app = typer.Typer(help="Validate deployment config files.", no_args_is_help=True)
evidence_app = typer.Typer(help="Check evidence packages.", no_args_is_help=True)
models_app = typer.Typer(help="Prepare detector models.", no_args_is_help=True)
plates_app = typer.Typer(help="Read licence plates.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(evidence_app, name="evidence")
registry_app = typer.Typer(help="Keeper registry: persons and vehicles.", no_args_is_help=True)
app.add_typer(models_app, name="models")
app.add_typer(plates_app, name="plates")
app.add_typer(registry_app, name="registry")
users_app = typer.Typer(help="Review console users.", no_args_is_help=True)
app.add_typer(users_app, name="users")
faces_app = typer.Typer(help="Enrol and identify faces.", no_args_is_help=True)
app.add_typer(faces_app, name="faces")
retention_app = typer.Typer(help="Evidence retention: audited purges.", no_args_is_help=True)
app.add_typer(retention_app, name="retention")
camera_app = typer.Typer(help="Set up cameras.", no_args_is_help=True)
app.add_typer(camera_app, name="camera")

out = Console()
err = Console(stderr=True)


class ExportFormat(StrEnum):
    onnx = "onnx"
    openvino = "openvino"


ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="Deployment YAML file")]


def _load(path: Path) -> StoplineConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            err.print(f"{exc.source}: {problem}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def _fail(message: str, code: int) -> NoReturn:
    err.print(message, markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def _plain_errors() -> Iterator[None]:
    """A source that cannot be read or a model that cannot be loaded is the user's to fix:
    one line, exit 1, no traceback."""
    try:
        yield
    except typer.Exit:
        raise  # already reported (click's Exit is a RuntimeError)
    except (OSError, RuntimeError, ValueError) as exc:
        _fail(f"stopline: {exc}", 1)


@contextmanager
def _store(cfg: StoplineConfig) -> Iterator[Store]:
    """The deployment's store for one command, closed however the command ends."""
    from stopline.wiring import deployment_store

    store = deployment_store(cfg, Path.cwd())
    try:
        yield store
    finally:
        store.close()


def _logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@config_app.command("check")
def config_check(file: Annotated[Path, typer.Argument(help="YAML file to validate")]) -> None:
    """Validate a config file: exit 0 if usable, else one line per problem and exit 2."""
    cfg = _load(file)
    out.print(
        f"{file}: OK ({len(cfg.cameras)} camera(s), {len(cfg.display.screens)} screen(s), "
        f"bus {cfg.bus.kind}, store {cfg.storage.database_url.split(':', 1)[0]})",
        markup=False,
        highlight=False,
    )


@config_app.command("reference")
def config_reference() -> None:
    """Print every config key with its default and description, as a Markdown table."""
    from pipeline.config import reference

    print("| key | default | description |\n|---|---|---|")
    print("\n".join(reference()))


@evidence_app.command("verify")
def evidence_verify(
    path: Annotated[Path, typer.Argument(help="An evidence directory or one manifest file")],
    public_key: Annotated[
        str | None,
        typer.Option(help="Trusted Ed25519 public key (base64 raw); any valid signer if unset"),
    ] = None,
) -> None:
    """Check every manifest's signature and every listed file's SHA-256."""
    from pipeline.evidence import EvidenceStore

    if not path.exists():
        _fail(f"{path}: no such file or directory", 2)
    root = path.parent.parent if path.is_file() else path
    reports = EvidenceStore(root).verify(path if path.is_file() else None, public_key)
    if not reports:
        _fail(f"{path}: no manifests found", 1)
    bad = [r for r in reports if not r.ok]
    for report in bad:
        for problem in report.problems:
            err.print(problem, markup=False, highlight=False, soft_wrap=True)
    files = sum(r.files_checked for r in reports)
    out.print(f"{len(reports) - len(bad)}/{len(reports)} manifest(s) verified, {files} file(s)")
    if bad:
        raise typer.Exit(1)


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for every demo output")] = Path(
        "demo-output"
    ),
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each stage")] = False,
) -> None:
    """Compose the demo intersection from packaged photos and run every stage on it, offline."""
    from stopline.demo.run import run_demo

    _logging(verbose)
    run_demo(out_dir, out, _load)


@app.command()
def run(
    config: ConfigOption,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each stage")] = False,
) -> None:
    """Run every stage in this process until the camera sources end (Ctrl-C stops)."""
    from stopline.wiring import Pipeline, stop_on_signals

    _logging(verbose)
    cfg = _load(config)
    with _plain_errors(), Pipeline(cfg, base_dir=Path.cwd()) as pipeline:
        summary = pipeline.run_all(progress=out, stop=stop_on_signals())
    summary.print(out)


@app.command()
def worker(
    stage: Annotated[
        str, typer.Argument(help="detect, identify, review-policy, relay, notify or display")
    ],
    config: ConfigOption,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each message")] = False,
) -> None:
    """Run one stage as its own process (normally against Kafka and PostgreSQL)."""
    from stopline.wiring import STAGES, Pipeline, stop_on_signals

    _logging(verbose)
    if stage not in STAGES:
        _fail(f"unknown stage {stage!r}; expected one of: {', '.join(STAGES)}", 2)
    cfg = _load(config)
    with _plain_errors(), Pipeline(cfg, base_dir=Path.cwd()) as pipeline:
        pipeline.run_worker(stage, stop_on_signals())


@app.command()
def detect(
    source: Annotated[
        str, typer.Argument(help="Video file, image folder, or rtsp:// or http:// URL")
    ],
    config: ConfigOption,
    camera: Annotated[
        str | None,
        typer.Option(help="Camera whose geometry and signals apply; needed if there are several"),
    ] = None,
    json_lines: Annotated[
        bool, typer.Option("--json", help="One ViolationDetected JSON line per violation")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each stage")] = False,
) -> None:
    """Run the detect stage alone on SOURCE: violations to stdout, a summary to stderr.

    Evidence goes to the config's evidence store; nothing is published and no citation is made.
    """
    from stopline.wiring import Pipeline, stop_on_signals

    _logging(verbose)
    cfg = _load(config)
    chosen = _camera(cfg, config, camera)
    cfg = cfg.model_copy(update={"cameras": [chosen.model_copy(update={"source": source})]})

    def emit(event: ViolationDetected) -> None:
        if json_lines:
            print(event.model_dump_json(), flush=True)
        else:
            signal = event.signal.phase if event.signal else "no signal"
            where = f"  at {event.stream_s:.2f} s" if event.stream_s is not None else ""
            if event.where_px is not None:
                where += f" ({event.where_px[0]:.0f}, {event.where_px[1]:.0f}) px"
            out.print(
                f"{event.occurred_at:%H:%M:%S.%f}"[:-3]
                + f"  {event.kind}  track {event.track_id} ({event.object_class}, {signal}, "
                f"{event.speed_px_s:.0f} px/s){where}  manifest {event.manifest_sha256[:12]}",
                markup=False,
                highlight=False,
            )

    started = time.monotonic()
    with _plain_errors(), Pipeline(cfg, base_dir=Path.cwd()) as pipeline:
        (run,) = pipeline.detect_all(stop_on_signals(), publish=emit)
    elapsed = time.monotonic() - started
    source_stats, stage_stats = run.source_stats, run.stage.stats
    err.print(
        f"{source}: {source_stats.analysed} frames analysed in {elapsed:.1f} s "
        f"({source_stats.analysed / max(elapsed, 1e-9):.1f} fps), {source_stats.dropped} dropped, "
        f"{source_stats.corrupt} corrupt; {stage_stats.violations} violation(s), "
        f"{len(stage_stats.suppressed)} suppressed (signal); evidence in "
        f"{cfg.storage.evidence_dir}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    for note in stage_stats.suppressed:
        err.print(f"  suppressed: {note}", markup=False, highlight=False, soft_wrap=True)


def _camera(cfg: StoplineConfig, config: Path, camera: str | None) -> CameraConfig:
    """The one camera a command works on: --camera, or the only one."""
    ids = [c.id for c in cfg.cameras]
    if camera is None and len(ids) > 1:
        _fail(f"{config}: several cameras; choose one with --camera: {', '.join(ids)}", 2)
    chosen = next((c for c in cfg.cameras if c.id == (camera or ids[0])), None)
    if chosen is None:
        _fail(f"{config}: no camera {camera!r}; cameras: {', '.join(ids)}", 2)
    return chosen


@camera_app.command("calibrate-signal")
def camera_calibrate_signal(
    config: ConfigOption,
    camera: Annotated[
        str | None, typer.Option(help="Camera to calibrate; needed if there are several")
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="Another recording or URL of this camera to learn from")
    ] = None,
    seconds: Annotated[
        float, typer.Option(min=1, help="Stream seconds to read: at least one whole cycle")
    ] = 180.0,
) -> None:
    """Find where each signal head's lamps are from the camera's own frames, so the heads are
    read by which lamp is lit rather than by hue. Prints the evidence and the signal_heads
    YAML to paste into the camera's geometry; exits 1 when a head got no lamp."""
    from stopline.signal_calibration import calibrate_camera

    cfg = _load(config)
    chosen = _camera(cfg, config, camera)
    if source is not None:
        chosen = chosen.model_copy(update={"source": source})
    with _plain_errors():
        result = calibrate_camera(chosen, Path.cwd(), seconds)
    plain = {"markup": False, "highlight": False, "soft_wrap": True}
    out.print(f"# {result.frames} frames, {result.seconds:.1f} s of {chosen.source}", **plain)
    for head in result.heads:
        for fit in head.fits:
            lamp, off = fit.lamp, "never seen" if fit.off_value is None else f"{fit.off_value:.0f}"
            votes = ", ".join(f"{c} {n}" for c, n in fit.hue_votes.items() if n)
            out.print(
                f"# {head.head.id}: {lamp.colour} at {list(lamp.centre_px)} r {lamp.radius_px}, "
                f"lit in {fit.lit_frames} frames (hue: {votes}); brightness lit "
                f"{fit.on_value:.0f}, off {off}, threshold {lamp.lit_value}",
                **plain,
            )
        for warning in head.warnings:
            err.print(f"warning: {warning}", **plain)
    out.print(result.yaml(), end="", **plain)
    if any(not head.fits for head in result.heads):
        raise typer.Exit(1)


@camera_app.command("check")
def camera_check(
    config: ConfigOption,
    camera: Annotated[
        str | None, typer.Option(help="Camera to check; needed if there are several")
    ] = None,
    at: Annotated[
        list[float] | None,
        typer.Option("--at", help="Stream time in seconds to draw (repeat for several); 0 if none"),
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="Another recording or URL of this camera to check on")
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the PNGs")] = Path(
        "camera-check"
    ),
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each stage")] = False,
) -> None:
    """Draw what the detect stage sees on the camera's frames: lines, zones, signal heads and
    the phase they read, detections and road users. One PNG per --at time."""
    from stopline.camera_check import check_camera

    _logging(verbose)
    cfg = _load(config)
    chosen = _camera(cfg, config, camera)
    if source is not None:
        chosen = chosen.model_copy(update={"source": source})
    with _plain_errors():
        result = check_camera(cfg, chosen, at or [0.0], out_dir, Path.cwd())
    for shot in result.shots:
        phases = ", ".join(f"{a} {p}" for a, p in shot.phases.items()) or "no approach"
        out.print(
            f"{shot.path}  t={shot.t_s:.2f} s  {phases}; {shot.detections} detection(s), "
            f"{shot.dropped} dropped, {shot.road_users} road user(s)",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    for event in result.events:
        out.print(
            f"  {event.kind} track {event.track_id} ({event.object_class}) at "
            f"{event.stream_s:.2f} s",
            markup=False,
            highlight=False,
        )
    missed = sorted(set(at or [0.0]))[len(result.shots) :]
    if missed:
        times = ", ".join(f"{t:g}" for t in missed)
        _fail(f"{chosen.source}: ended after {result.frames} frames, before {times} s", 1)


@models_app.command("export")
def models_export(
    model: Annotated[Path, typer.Argument(help="Ultralytics .pt model file")],
    export_format: Annotated[
        ExportFormat, typer.Option("--format", help="onnx, or openvino (IR folder)")
    ],
    imgsz: Annotated[int, typer.Option(help="Square input side in pixels, a multiple of 32")] = 640,
    end_to_end: Annotated[
        bool, typer.Option(help="YOLO26: export the NMS-free head ([1, 300, 6] output)")
    ] = False,
) -> None:
    """Export a YOLO .pt for the yolo-openvino / yolo-onnxruntime backends (needs the
    `ultralytics` extra); prints the exported path to put in `detector.model_path`."""
    from detectors.objects import export_model

    if not model.is_file():
        _fail(f"{model}: no such file", 2)
    if imgsz % 32:
        _fail(f"--imgsz {imgsz}: expected a multiple of 32", 2)
    with _plain_errors():
        path = export_model(model, export_format.value, input_size_px=imgsz, end_to_end=end_to_end)
    print(path)


@registry_app.command("import")
def registry_import(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="CSV exports: persons (id,name,national_id,phone,language) or vehicles "
            "(plate,keeper_person_id), told apart by their header; persons first"
        ),
    ],
    config: ConfigOption,
) -> None:
    """Import or update persons and vehicles; each file is checked whole before any row is
    stored, and each import is an audit row."""
    from detectors.plates import registry_plate
    from stopline.registry_import import RegistryFileError, import_registry_csv

    cfg = _load(config)
    for path in files:
        if not path.is_file():
            _fail(f"{path}: no such file", 2)
    region = cfg.identification.plates.region
    with _plain_errors(), _store(cfg) as store:
        for path in files:
            try:
                with store.session() as session:
                    result = import_registry_csv(
                        session, path, lambda text: registry_plate(text, region)
                    )
            except RegistryFileError as exc:
                _fail("\n".join(exc.lines), 1)
            out.print(
                f"{path}: {result.kind}: {result.added} added, {result.updated} updated",
                markup=False,
                highlight=False,
            )


ImagesArgument = Annotated[list[Path], typer.Argument(help="Photos (JPEG, PNG, ...)")]


@faces_app.command("enroll")
def faces_enroll(
    images: ImagesArgument,
    config: ConfigOption,
    person_id: Annotated[str, typer.Option("--person-id", help="A person in the registry")],
) -> None:
    """Enrol a registered person from photos of them alone: one embedding per photo, stored with
    the photo's SHA-256 (never the photo). Works with face identification off: enrolling is an
    administrator's act; matching is the deployment's decision."""
    from detectors.faces import FaceEngine, load_photo, sole_face
    from detectors.gallery import VECTOR_DTYPE
    from pipeline.store.registry import add_face_embedding, face_gallery, get_person

    cfg = _load(config)
    with _plain_errors():
        engine = FaceEngine(cfg.identification.faces)
        vectors = []
        for path in images:
            image, sha256 = load_photo(path)
            try:
                face = sole_face(engine, image)
            except ValueError as exc:
                raise ValueError(f"{path}: {exc}") from None
            vectors.append((sha256, engine.embed(image, face)))
        with _store(cfg) as store, store.session() as session:
            if get_person(session, person_id) is None:
                raise ValueError(
                    f"no person {person_id!r} in the registry (stopline registry import)"
                )
            known = {
                row.source_sha256
                for row in face_gallery(session, engine.model_name)
                if row.person_id == person_id
            }
            added = 0
            for sha256, vector in vectors:
                if sha256 in known:
                    continue
                known.add(sha256)
                add_face_embedding(
                    session,
                    person_id,
                    model=engine.model_name,
                    vector=vector.astype(VECTOR_DTYPE).tobytes(),
                    source_sha256=sha256,
                )
                added += 1
    out.print(
        f"{person_id}: {added} face(s) enrolled, {len(vectors) - added} already enrolled "
        f"({engine.model_name})",
        markup=False,
        highlight=False,
    )


@faces_app.command("identify")
def faces_identify(
    images: ImagesArgument,
    config: ConfigOption,
    json_lines: Annotated[
        bool, typer.Option("--json", help="One JSON object per image: its faces and matches")
    ] = False,
) -> None:
    """Match the faces in IMAGES against the enrolled gallery; below the configured threshold a
    face is unidentified. Faces the quality gate rejects are listed with the reason."""
    import json

    from detectors.faces import FaceEngine, load_photo, match
    from detectors.gallery import gallery_from_store

    cfg = _load(config)
    faces_config = cfg.identification.faces
    if not faces_config.enabled:
        _fail(f"{config}: face identification is off (identification.faces.enabled: false)", 2)
    with _plain_errors():
        engine = FaceEngine(faces_config)
        with _store(cfg) as store, store.session() as session:
            gallery = gallery_from_store(session, engine.model_name, faces_config)
        for path in images:
            image, _ = load_photo(path)
            faces = engine.faces(image)
            matches = [
                match(engine, gallery, image, face, faces_config.match_threshold)
                for face in faces
                if face.quality.ok
            ]
            rejected = [face for face in faces if not face.quality.ok]
            if json_lines:
                result = {
                    "image": str(path),
                    "faces": [
                        {"box": list(m.box), "person_id": m.person_id, "score": round(m.score, 4)}
                        for m in matches
                    ],
                    "rejected": [
                        {"box": list(f.box), "reasons": list(f.quality.reasons)} for f in rejected
                    ],
                }
                print(json.dumps(result), flush=True)
                continue
            for m in matches:
                who = m.person_id or "unidentified"
                out.print(f"{path}: {list(m.box)} {who} ({m.score:.3f})", markup=False)
            for f in rejected:
                reasons = ", ".join(f.quality.reasons)
                out.print(f"{path}: {list(f.box)} not matched: {reasons}", markup=False)
            if not faces:
                out.print(f"{path}: no face found", markup=False)


class PlateRegion(StrEnum):
    cn = "cn"
    eu = "eu"
    us = "us"
    br = "br"
    auto = "auto"


@plates_app.command("read")
def plates_read(
    images: Annotated[list[Path], typer.Argument(help="Photos or vehicle crops")],
    region: Annotated[
        PlateRegion | None, typer.Option(help="Plate formats; default: the config's (auto)")
    ] = None,
    json_lines: Annotated[
        bool, typer.Option("--json", help="One JSON line per image: {image, plates}")
    ] = False,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Deployment YAML (plates settings)")
    ] = None,
) -> None:
    """Read the plates in each image, most confident first."""
    import json

    from detectors.images import read_image
    from detectors.plates import PlateReader
    from pipeline.config import PlatesConfig

    settings = _load(config).identification.plates if config else PlatesConfig()
    with _plain_errors():
        reader = PlateReader(settings)
        for path in images:
            reads = reader.read(read_image(path), region.value if region else None)
            if json_lines:
                plates = [
                    {"text": r.text, "confidence": round(r.confidence, 4), "box": list(r.box)}
                    for r in reads
                ]
                print(json.dumps({"image": str(path), "plates": plates}, ensure_ascii=False))
            else:
                found = ", ".join(f"{r.text} ({r.confidence:.2f})" for r in reads)
                out.print(f"{path}: {found or 'no plate'}", markup=False, highlight=False)


class UserRole(StrEnum):
    reviewer = "reviewer"
    supervisor = "supervisor"
    auditor = "auditor"
    admin = "admin"


def _read_new_password() -> str:
    """Typed twice at a terminal; otherwise the first line of stdin, so scripts can pipe it in
    without the password ever appearing in the process list."""
    import getpass

    if sys.stdin.isatty():
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            _fail("the two passwords differ", 1)
        return password
    return sys.stdin.readline().rstrip("\r\n")


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="Login name")],
    role: Annotated[UserRole, typer.Option(help="reviewer, supervisor, auditor or admin")],
    config: ConfigOption,
) -> None:
    """Add a console user; the password is read from stdin (typed twice at a terminal) and
    stored only as an Argon2id hash. The addition is an audit row."""
    import getpass

    from pipeline.store import audit
    from pipeline.store.registry import add_user, get_user
    from review.passwords import WeakPassword, hash_password

    cfg = _load(config)
    try:
        password_hash = hash_password(_read_new_password())
    except WeakPassword as exc:
        _fail(f"stopline: {exc}", 1)
    with _plain_errors(), _store(cfg) as store, store.session() as session:
        if get_user(session, name) is not None:
            _fail(f"stopline: user {name!r} exists", 1)
        add_user(session, name, password_hash, role.value)
        audit.append(
            session,
            f"cli:{getpass.getuser()}",
            "user_added",
            "user",
            name,
            {"role": role.value},
        )
    out.print(f"user {name} added as {role.value}", markup=False, highlight=False)


@retention_app.command("run")
def retention_run(
    config: ConfigOption,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would be purged; delete nothing")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object of counts")] = False,
) -> None:
    """Delete the evidence of rejected and closed citations and the face crops of people not
    cited, once older than the config's `retention` section allows; each purge is an audit
    row. `stopline run` does the same every `retention.run_every_h` hours."""
    import json

    from pipeline.evidence import EvidenceStore
    from pipeline.retention import run_retention

    cfg = _load(config)
    evidence = EvidenceStore(Path.cwd() / cfg.storage.evidence_dir)
    with _plain_errors(), _store(cfg) as store:
        report = run_retention(store, evidence, cfg.retention, dry_run=dry_run)
    if json_out:
        print(json.dumps(report.as_dict()), flush=True)
    else:
        out.print(report.summary(), markup=False, highlight=False, soft_wrap=True)


review_app = typer.Typer(help="The police review console.", no_args_is_help=True)
app.add_typer(review_app, name="review")


@review_app.command("serve")
def review_serve(
    config: ConfigOption,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each request")] = False,
) -> None:
    """Serve the review console and its JSON API at review.listen_host:listen_port."""
    from stopline.console import console_app

    _logging(verbose)
    cfg = _load(config)
    with _plain_errors():
        web = console_app(cfg, Path.cwd())
    review = cfg.review
    _serve(web, review.listen_host, review.listen_port, verbose, [("review console", "/")])


billboard_app = typer.Typer(help="LED billboards at the crossings.", no_args_is_help=True)
app.add_typer(billboard_app, name="billboard")
display_app = typer.Typer(help="The billboards' kiosk pages.", no_args_is_help=True)
app.add_typer(display_app, name="display")


@billboard_app.command("render")
def billboard_render(
    config: ConfigOption,
    citation: Annotated[str, typer.Option("--citation", help="Citation id (approved)")],
    screen: Annotated[str, typer.Option("--screen", help="Screen id from display.screens")],
    out_file: Annotated[Path, typer.Option("--out", help="PNG file to write")],
) -> None:
    """Render one approved citation as a screen would show it, to check a layout by eye.

    A citation that is not approved (or was appealed or dismissed) is refused, exit 1.
    """
    from display.render import png
    from display.slide import NotShowable
    from pipeline.evidence import EvidenceStore
    from stopline.wiring import make_billboards

    cfg = _load(config)
    with _plain_errors(), _store(cfg) as store:
        evidence = EvidenceStore(Path.cwd() / cfg.storage.evidence_dir)
        billboards = make_billboards(cfg, store, evidence)
        try:
            image = billboards.render_citation(citation, screen)
        except (NotShowable, KeyError) as exc:
            _fail(f"stopline: {exc.args[0]}", 1)
        out_file.write_bytes(png(image))
    out.print(f"{out_file}: {image.width}x{image.height}", markup=False, highlight=False)


@display_app.command("serve")
def display_serve(
    config: ConfigOption,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each request")] = False,
) -> None:
    """Serve the kiosk pages /billboard/<screen_id> at display.listen_host:listen_port."""
    from stopline.billboard import kiosk_app

    _logging(verbose)
    cfg = _load(config)
    with _plain_errors():
        web = kiosk_app(cfg, Path.cwd())
    display = cfg.display
    pages = [(f"billboard {s.id}", f"/billboard/{s.id}") for s in display.screens]
    _serve(web, display.listen_host, display.listen_port, verbose, pages)


def _serve(web: FastAPI, host: str, port: int, verbose: bool, pages: list[tuple[str, str]]) -> None:
    """Print where each page is, then serve until Ctrl-C."""
    import uvicorn

    for name, path in pages:
        out.print(f"{name}: http://{host}:{port}{path}", markup=False, highlight=False)
    uvicorn.run(
        web,
        host=host,
        port=port,
        log_level="info" if verbose else "warning",
        proxy_headers=False,
    )


def main() -> None:
    app()
