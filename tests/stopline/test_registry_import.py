"""Fuzzing the registry CSV import with Hypothesis (issue 18): any file, in the persons or
vehicles layout or not, is stored whole or refused whole with line numbers, never a traceback
(an extra column once raised AttributeError, an open quote swallowed a phone number)."""

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from identify.plates import registry_plate
from pipeline.store import Store, open_store
from pipeline.store.models import Person, Vehicle
from stopline.registry_import import RegistryFileError, import_registry_csv

HEADERS = ["id,name,national_id,phone,language", "plate,keeper_person_id", "id,name", ""]
CELL = st.text(alphabet=st.sampled_from('ab1+ ,"\n\r\x00é粤\t;'), max_size=12)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path_factory.mktemp('registry') / 'stopline.db'}")
    yield opened
    opened.close()


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(HEADERS),
    st.lists(st.lists(CELL, min_size=1, max_size=6), max_size=5),
    st.binary(max_size=8),
)
def test_any_registry_file_is_stored_or_refused_whole(
    store: Store, tmp_path_factory: pytest.TempPathFactory, header: str, rows: list, tail: bytes
) -> None:
    text = "\n".join([header, *(",".join(cells) for cells in rows)])
    path = tmp_path_factory.mktemp("csv") / "registry.csv"
    path.write_bytes(text.encode() + tail)
    with store.session() as session:
        before = _counts(session)
    try:
        with store.session() as session:
            import_registry_csv(session, path, lambda plate: registry_plate(plate, "auto"))
    except RegistryFileError as exc:
        assert exc.lines and all(line.strip() for line in exc.lines)
        with store.session() as session:
            assert _counts(session) == before, "a refused file stores nothing"


def _counts(session) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    return (
        session.scalar(select(func.count()).select_from(Person)),
        session.scalar(select(func.count()).select_from(Vehicle)),
    )
