"""`stopline faces`: enrol and identify faces."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stopline.commands.common import ConfigOption, fail, open_store, out, plain_errors, read_config

app = typer.Typer(help="Enrol and identify faces.", no_args_is_help=True)


ImagesArgument = Annotated[list[Path], typer.Argument(help="Photos (JPEG, PNG, ...)")]


@app.command("enroll")
def faces_enroll(
    images: ImagesArgument,
    config: ConfigOption,
    person_id: Annotated[str, typer.Option("--person-id", help="A person in the registry")],
) -> None:
    """Enrol a registered person from photos of them alone: one embedding per photo, stored with
    the photo's SHA-256 (never the photo). Works with face identification off: enrolling is an
    administrator's act; matching is the deployment's decision."""
    from identify.faces import FaceEngine, load_photo, sole_face
    from identify.gallery import VECTOR_DTYPE
    from pipeline.store.registry import add_face_embedding, face_gallery, get_person

    cfg = read_config(config)
    with plain_errors():
        engine = FaceEngine(cfg.identification.faces)
        vectors = []
        for path in images:
            image, sha256 = load_photo(path)
            try:
                face = sole_face(engine, image)
            except ValueError as exc:
                raise ValueError(f"{path}: {exc}") from None
            vectors.append((sha256, engine.embed(image, face)))
        with open_store(cfg) as store, store.session() as session:
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


@app.command("identify")
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

    from identify.faces import FaceEngine, load_photo, match
    from identify.gallery import gallery_from_store

    cfg = read_config(config)
    faces_config = cfg.identification.faces
    if not faces_config.enabled:
        fail(f"{config}: face identification is off (identification.faces.enabled: false)", 2)
    with plain_errors():
        engine = FaceEngine(faces_config)
        with open_store(cfg) as store, store.session() as session:
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
