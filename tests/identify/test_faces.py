"""Face identification on real photos with the real YuNet and SFace models: a known face is
named, strangers stay unidentified, bad faces are refused, and nothing runs while faces are off."""

import csv
import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest

from identify.faces import (
    FaceEngine,
    FacesDisabled,
    identify,
    load_photo,
    match,
    sole_face,
)
from identify.gallery import AnnGallery, ExactGallery, make_gallery
from pipeline.config import FacesConfig
from tests.shared_data import DATA, need

FACES = DATA / "faces"
DEEPFACE = DATA / "faces-deepface"
THRESHOLD = FacesConfig().match_threshold


def photo(path: Path) -> np.ndarray:
    return load_photo(need(path))[0]


@pytest.fixture(scope="module")
def engine() -> FaceEngine:
    return FaceEngine(FacesConfig(enabled=True))


@pytest.fixture(scope="module")
def obama_gallery(engine: FaceEngine) -> ExactGallery:
    gallery = ExactGallery()
    image = photo(FACES / "obama.jpg")
    gallery.add("obama", engine.embed(image, sole_face(engine, image)))
    return gallery


def test_faces_are_off_unless_the_config_turns_them_on() -> None:
    assert FacesConfig().enabled is False
    engine = FaceEngine(FacesConfig())
    image = photo(FACES / "obama2.jpg")
    with pytest.raises(FacesDisabled, match=r"identification\.faces\.enabled"):
        identify(engine, ExactGallery(), image, THRESHOLD)
    with pytest.raises(FacesDisabled):
        engine.best_shot([image])


def test_model_name_names_the_recogniser_file(engine: FaceEngine) -> None:
    assert engine.model_name == "sface:fb143eea0783"


def test_a_second_photo_of_an_enrolled_person_is_named(
    engine: FaceEngine, obama_gallery: ExactGallery
) -> None:
    (found,) = identify(engine, obama_gallery, photo(FACES / "obama2.jpg"), THRESHOLD)
    assert found.person_id == "obama"
    assert found.score > THRESHOLD
    x1, y1, x2, y2 = found.box
    assert 150 < x1 < x2 < 520 and 180 < y1 < y2 < 660


@pytest.mark.parametrize("name, faces", [("biden.jpg", 1), ("t1.jpg", 4)])
def test_people_not_enrolled_stay_unidentified(
    engine: FaceEngine, obama_gallery: ExactGallery, name: str, faces: int
) -> None:
    found = identify(engine, obama_gallery, photo(FACES / name), THRESHOLD)
    assert len(found) >= faces
    assert all(m.person_id is None for m in found), found
    assert all(-1 <= m.score < THRESHOLD for m in found)


def test_below_the_threshold_the_answer_is_unidentified_with_the_score(
    engine: FaceEngine, obama_gallery: ExactGallery
) -> None:
    image = photo(FACES / "obama2.jpg")
    face = sole_face(engine, image)
    named = match(engine, obama_gallery, image, face, THRESHOLD)
    stricter = match(engine, obama_gallery, image, face, named.score + 0.01)
    assert (stricter.person_id, stricter.score) == (None, named.score)
    assert match(engine, ExactGallery(), image, face, THRESHOLD).person_id is None


def test_the_default_threshold_separates_same_and_different_people(engine: FaceEngine) -> None:
    """The calibration set itself: every same-person pair above, every other pair below."""
    with need(DEEPFACE / "identities.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
    vectors = []
    for row in rows:
        image = photo(DEEPFACE / row["file"])
        vectors.append((row["identity"], engine.embed(image, sole_face(engine, image))))
    for (a, va), (b, vb) in itertools.combinations(vectors, 2):
        score = float(va @ vb)
        assert (score >= THRESHOLD) == (a == b), (a, b, score)


def test_the_gate_rejects_a_tiny_face_and_a_blurred_face(engine: FaceEngine) -> None:
    image = photo(FACES / "obama.jpg")
    assert sole_face(engine, image).quality.ok
    blurred = cv2.GaussianBlur(image, (0, 0), 6)
    (face,) = engine.faces(blurred)
    assert any(r.startswith("blurred") for r in face.quality.reasons), face.quality
    tiny = cv2.resize(image, None, fx=0.15, fy=0.15, interpolation=cv2.INTER_AREA)
    (face,) = engine.faces(tiny)
    assert any(r.startswith("too small") for r in face.quality.reasons), face.quality
    with pytest.raises(ValueError, match="no usable face"):
        sole_face(engine, tiny)


def test_best_shot_picks_the_sharp_frame_among_degraded_ones(engine: FaceEngine) -> None:
    """A track's person crops: motion-blurred, defocused, low-resolution and one sharp frame."""
    person = photo(FACES / "obama.jpg")
    motion = cv2.filter2D(person, -1, np.full((1, 15), 1 / 15))
    defocus = cv2.GaussianBlur(person, (0, 0), 2.5)
    height, width = person.shape[:2]
    small = cv2.resize(person, (width // 4, height // 4), interpolation=cv2.INTER_AREA)
    low_res = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    crops = [motion, defocus, person, low_res]
    shot = engine.best_shot(crops)
    assert shot is not None
    index, face, vector = shot
    assert index == 2
    assert face.quality.ok
    assert np.isclose(np.linalg.norm(vector), 1.0, atol=1e-5)
    assert engine.best_shot([cv2.GaussianBlur(person, (0, 0), 6)]) is None


def test_exact_and_ann_galleries_agree_on_real_faces_among_random_vectors(
    engine: FaceEngine,
) -> None:
    """Real enrolments hidden among 20,000 random unit vectors (above the auto threshold)."""
    with need(DEEPFACE / "identities.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
    enrolled, probes = {}, []
    for row in rows:
        image = photo(DEEPFACE / row["file"])
        vector = engine.embed(image, sole_face(engine, image))
        if row["identity"] in enrolled:
            probes.append((row["identity"], vector))
        else:
            enrolled[row["identity"]] = vector
    noise = np.random.default_rng(7).standard_normal((20_000, 128)).astype(np.float32)
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    config = FacesConfig()
    exact = make_gallery(len(noise), "exact", config.ann_min_embeddings)
    ann = make_gallery(len(noise), "auto", config.ann_min_embeddings)
    assert isinstance(exact, ExactGallery) and isinstance(ann, AnnGallery)
    for gallery in (exact, ann):
        for i, vector in enumerate(noise):
            gallery.add(f"random-{i}", vector)
        for person, vector in enrolled.items():
            gallery.add(person, vector)
    assert len(probes) == 10
    for person, vector in probes:
        (exact_hit,) = exact.search(vector, 1)
        (ann_hit,) = ann.search(vector, 1)
        assert exact_hit[0] == ann_hit[0] == person
        assert ann_hit[1] == pytest.approx(exact_hit[1], abs=1e-4)
    top = exact.search(probes[0][1], 5)
    assert len({p for p, _ in top}) == 5
    assert [s for _, s in top] == sorted((s for _, s in top), reverse=True)
