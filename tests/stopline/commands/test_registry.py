"""`stopline registry import`: the keeper registry from CSV, all or nothing, audited."""

from pathlib import Path

from sqlalchemy import select

from pipeline.store import open_store
from pipeline.store.models import AuditEntry, Person, Vehicle
from tests.cli import stopline

PERSONS = """id,name,national_id,phone,language
p-li,李明,110101199001011234,+8613800138000,zh-CN
p-ann,Ann Lee,,+15555550100,en
"""
VEHICLES = """plate,keeper_person_id
粤B·12345,p-li
m5-xsx,p-ann
"""


def _import(site: Path, **files: str) -> tuple[int, str, str]:
    for name, body in files.items():
        (site / f"{name}.csv").write_text(body, encoding="utf-8")
    result = stopline(
        "registry", "import", *(f"{n}.csv" for n in files), "--config", "site.yaml", cwd=site
    )
    return result.returncode, result.stdout, result.stderr


def test_persons_then_vehicles_are_stored_normalised_and_audited(site: Path) -> None:
    code, stdout, stderr = _import(site, persons=PERSONS, vehicles=VEHICLES)
    assert code == 0, stderr
    assert "persons.csv: persons: 2 added, 0 updated" in stdout
    assert "vehicles.csv: vehicles: 2 added, 0 updated" in stdout
    store = open_store(f"sqlite:///{site / 'stopline.db'}")
    with store.session() as session:
        plates = {v.plate: v.keeper_person_id for v in session.scalars(select(Vehicle))}
        assert plates == {"粤B12345": "p-li", "M5XSX": "p-ann"}
        li = session.get(Person, "p-li")
        assert li is not None and (li.phone, li.language) == ("+8613800138000", "zh-CN")
        imports = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "registry_import")
        ).all()
        assert [(a.subject_type, a.detail["added"]) for a in imports] == [
            ("persons", 2),
            ("vehicles", 2),
        ]
    store.close()

    again = PERSONS.replace("+15555550100", "+15555550199")
    code, stdout, _ = _import(site, persons=again)
    assert code == 0 and "persons.csv: persons: 0 added, 2 updated" in stdout


def test_a_bad_row_stops_the_whole_file_and_says_where(site: Path) -> None:
    bad = PERSONS + "p-bob,Bob,,555-0100,en\np-li,Li again,,,\n"
    code, _, stderr = _import(site, persons=bad)
    assert code == 1 and "Traceback" not in stderr
    assert "persons.csv line 4: phone:" in stderr
    assert "persons.csv line 5: id: 'p-li' also on line 2" in stderr
    store = open_store(f"sqlite:///{site / 'stopline.db'}")
    with store.session() as session:
        assert session.scalars(select(Person)).all() == [], "nothing of a refused file is kept"
    store.close()


def test_a_vehicle_needs_a_known_keeper_and_a_header_must_be_known(site: Path) -> None:
    code, _, stderr = _import(site, vehicles="plate,keeper_person_id\nM5XSX,nobody\n")
    assert code == 1 and "vehicles.csv line 2: keeper_person_id: no person 'nobody'" in stderr
    code, _, stderr = _import(site, cars="reg,owner\nM5XSX,p\n")
    assert code == 1 and "header reg, owner matches no registry" in stderr


def test_rows_the_csv_module_would_misread_are_refused(site: Path) -> None:
    """Found by probing (issue 18): an extra column was a traceback, an open quote swallowed the
    phone of the row and the rows after it."""
    extra = PERSONS + "p-bob,Bob,,+15555550101,en,surplus\n"
    code, _, stderr = _import(site, persons=extra)
    assert code == 1 and "Traceback" not in stderr
    assert "persons.csv line 4: 1 value(s) more than the header's columns" in stderr
    open_quote = PERSONS + 'p-bob,"Bob,,+15555550101,en\np-eve,Eve,,+15555550102,en\n'
    code, _, stderr = _import(site, persons=open_quote)
    assert code == 1 and "Traceback" not in stderr
    assert "persons.csv line 4: unexpected end of data (a quote that is not closed?)" in stderr
    two_line = PERSONS + 'p-bob,"Bob\nBuilder",,+15555550101,en\n'
    code, _, stderr = _import(site, persons=two_line)
    assert code == 1 and "persons.csv line 5: a quoted value runs over several lines" in stderr
    (site / "latin.csv").write_bytes("id,name,phone\np-jo,Jos\xe9,+15555550103\n".encode("latin-1"))
    result = stopline("registry", "import", "latin.csv", "--config", "site.yaml", cwd=site)
    assert result.returncode == 1 and "latin.csv: byte 22 is not UTF-8" in result.stderr
    store = open_store(f"sqlite:///{site / 'stopline.db'}")
    with store.session() as session:
        assert session.scalars(select(Person)).all() == [], "nothing of a refused file is kept"
    store.close()
