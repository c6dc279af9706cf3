"""Reference data: cameras, violations as recorded, people, their faces and vehicles, users.

Plain lookups and inserts; callers decide what is audited, since they know who acted and why.
Values are stored as given: plates are normalised by `identify.plates`, passwords hashed by
the review console.
"""

from __future__ import annotations

import re
import uuid

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from pipeline.events import ViolationDetected
from pipeline.store.models import Camera, FaceEmbedding, Person, Role, User, Vehicle, Violation
from pipeline.store.rows import insert_once


def put_camera(session: Session, camera_id: str, name: str, location: str | None = None) -> Camera:
    """Insert or update a camera, so start-up can sync the configured cameras every time."""
    camera, _ = insert_once(
        session,
        lambda: session.get(Camera, camera_id),
        lambda: Camera(id=camera_id, name=name, location=location),
    )
    camera.name = name
    camera.location = location
    return camera


def record_violation(session: Session, event: ViolationDetected) -> Violation:
    """Store a detected violation once; a redelivered event returns the stored row."""
    existing = session.get(Violation, event.violation_id)
    if existing is not None:
        return existing
    violation = Violation(
        id=event.violation_id,
        camera_id=event.camera_id,
        kind=event.kind,
        occurred_at=event.occurred_at,
        track_id=event.track_id,
        object_class=event.object_class,
        signal_phase=event.signal.phase if event.signal else None,
        time_into_red_s=event.signal.time_into_red_s if event.signal else None,
        manifest_sha256=event.manifest_sha256,
        event=event.model_dump(mode="json"),
    )
    session.add(violation)
    return violation


def add_person(
    session: Session,
    name: str,
    *,
    national_id: str | None = None,
    phone: str | None = None,
    language: str | None = None,
    person_id: str | None = None,
) -> Person:
    person = Person(
        id=person_id or uuid.uuid4().hex,
        name=name,
        national_id=national_id,
        phone=phone,
        language=language,
    )
    session.add(person)
    session.flush()
    return person


def put_person(
    session: Session,
    person_id: str,
    name: str,
    *,
    national_id: str | None = None,
    phone: str | None = None,
    language: str | None = None,
) -> bool:
    """Insert or update a person by id, so a registry export can be imported again; True if new."""
    person = session.get(Person, person_id)
    if person is None:
        add_person(
            session,
            name,
            national_id=national_id,
            phone=phone,
            language=language,
            person_id=person_id,
        )
        return True
    person.name, person.national_id = name, national_id
    person.phone, person.language = phone, language
    session.flush()
    return False


def put_vehicle(session: Session, plate: str, keeper_person_id: str | None) -> bool:
    """Insert or update a vehicle by plate; True if new."""
    vehicle = get_vehicle(session, plate)
    if vehicle is None:
        add_vehicle(session, plate, keeper_person_id)
        return True
    vehicle.keeper_person_id = keeper_person_id
    session.flush()
    return False


def get_person(session: Session, person_id: str) -> Person | None:
    return session.get(Person, person_id)


def person_with_national_id(session: Session, national_id: str) -> Person | None:
    return session.scalar(select(Person).where(Person.national_id == national_id))


def add_face_embedding(
    session: Session, person_id: str, *, model: str, vector: bytes, source_sha256: str
) -> FaceEmbedding:
    embedding = FaceEmbedding(
        person_id=person_id, model=model, vector=vector, source_sha256=source_sha256
    )
    session.add(embedding)
    session.flush()
    return embedding


def face_gallery(session: Session, model: str) -> list[FaceEmbedding]:
    """Every enrolled embedding made by `model`, the set a probe face is matched against."""
    rows = session.scalars(
        select(FaceEmbedding).where(FaceEmbedding.model == model).order_by(FaceEmbedding.id)
    )
    return list(rows)


def face_gallery_version(session: Session, model: str) -> tuple[int, int | None]:
    """(count, highest id) of `model`'s embeddings: changes whenever one is enrolled or
    removed, so a cached gallery is rebuilt only then."""
    count, highest = session.execute(
        select(func.count(FaceEmbedding.id), func.max(FaceEmbedding.id)).where(
            FaceEmbedding.model == model
        )
    ).one()
    return int(count), highest


def add_vehicle(session: Session, plate: str, keeper_person_id: str | None = None) -> Vehicle:
    vehicle = Vehicle(plate=plate, keeper_person_id=keeper_person_id)
    session.add(vehicle)
    session.flush()
    return vehicle


def get_vehicle(session: Session, plate: str) -> Vehicle | None:
    return session.scalar(select(Vehicle).where(Vehicle.plate == plate))


def _one_edit_patterns(plate: str) -> list[str]:
    """LIKE patterns that together match exactly the strings within one edit of `plate`."""
    escaped = [c if c not in "%_\\" else "\\" + c for c in plate]
    joined = "".join
    return [
        *(joined([*escaped[:i], "_", *escaped[i + 1 :]]) for i in range(len(plate))),
        *(joined([*escaped[:i], "_", *escaped[i:]]) for i in range(len(plate) + 1)),
        *(joined(escaped[:i] + escaped[i + 1 :]) for i in range(len(plate))),
    ]


def vehicles_near(session: Session, plate: str) -> list[Vehicle]:
    """Registered vehicles whose plate is one substitution, insertion or deletion from `plate`.

    Queried with LIKE patterns rather than by loading the registry, so a national register
    of millions of plates costs one indexed scan, not a transfer.
    """
    if not plate:
        return []
    patterns = _one_edit_patterns(plate)
    rows = session.scalars(
        select(Vehicle)
        .where(Vehicle.plate != plate)
        .where(or_(*(Vehicle.plate.like(p, escape="\\") for p in patterns)))
        .order_by(Vehicle.plate)
    )
    return list(rows)


AUTO_APPROVER = "auto-approve-policy"
"""The actor of the optional auto-approve policy's decisions; no person may sign in as it."""
_USER_NAME = re.compile(r"[^\W_](?:[^:\x00-\x1f\x7f]{0,62}[^\s:])?")
"""1-64 characters of any script, starting with a letter or digit, ending with no space, and
no ':' or control character anywhere."""


def check_user_name(name: str) -> None:
    """A person's login name can never read as a system actor in the audit log (`system:display`,
    `cli:root`, the auto-approve policy): a decision must say who decided."""
    if not _USER_NAME.fullmatch(name):
        raise ValueError(
            f"user name {name!r}: expected up to 64 characters, starting with a letter or digit, "
            "no control characters and no ':' (which marks system actors)"
        )
    if name == AUTO_APPROVER:
        raise ValueError(f"user name {name!r} is the auto-approve policy's")


def add_user(session: Session, name: str, password_hash: str, role: Role | str) -> User:
    """Store a user with an already computed password hash; raises ValueError for a bad role
    or name."""
    check_user_name(name)
    user = User(name=name, password_hash=password_hash, role=Role(role))
    session.add(user)
    session.flush()
    return user


def ensure_user(
    session: Session, name: str, password_hash: str, role: Role | str
) -> tuple[User, bool]:
    """The user `name`, added with these settings if missing; True when this call added it.
    For the system's own users (the auto-approve policy): names are not checked."""
    return insert_once(
        session,
        lambda: get_user(session, name),
        lambda: User(name=name, password_hash=password_hash, role=Role(role)),
    )


def get_user(session: Session, name: str) -> User | None:
    return session.scalar(select(User).where(User.name == name))
