"""Notice numbers and PINs (issue 19): a number on every approval, unique, random, with a check
digit; a PIN derived from it with the deployment's key, never stored."""

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from pipeline.notices import (
    NUMBER_DIGITS,
    PIN_DIGITS,
    is_notice_number,
    load_or_create_pin_key,
    new_notice_number,
    pin_for,
    pin_matches,
)
from pipeline.store import Role, Status, Store, create_citation, transition
from pipeline.store.models import Citation
from pipeline.store.registry import add_user, put_camera, record_violation
from tests.stage_helpers import violation_event


def test_numbers_carry_a_check_digit_that_catches_typos() -> None:
    number = new_notice_number(lambda _: False)
    assert len(number) == NUMBER_DIGITS and number[0] != "0" and is_notice_number(number)
    for position in range(NUMBER_DIGITS):
        wrong = str((int(number[position]) + 1) % 10)
        assert not is_notice_number(number[:position] + wrong + number[position + 1 :])
    swapped = number[1] + number[0] + number[2:]
    assert swapped == number or not is_notice_number(swapped)
    for text in ("", number[:-1], number + "0", "１" * NUMBER_DIGITS, "abcdefghijk"):
        assert not is_notice_number(text)


def test_a_taken_number_is_never_given_again() -> None:
    proposed: list[str] = []

    def taken(number: str) -> bool:
        proposed.append(number)
        return len(proposed) <= 2  # the first two are somebody's already

    fresh = new_notice_number(taken)
    assert proposed == [*proposed[:2], fresh] and fresh not in proposed[:2]


def test_the_pin_is_derived_from_number_and_key() -> None:
    key, other = bytes(32), bytes(range(32))
    pin = pin_for(key, "12345678903")
    assert len(pin) == PIN_DIGITS and pin.isdigit()
    assert pin == pin_for(key, "12345678903"), "the notifier and the portal agree"
    assert pin_matches(key, "12345678903", f" {pin} ")
    assert not pin_matches(other, "12345678903", pin) or pin_for(other, "12345678903") == pin
    pins = {pin_for(key, new_notice_number(lambda _: False)) for _ in range(200)}
    assert len(pins) > 190, "PINs spread over the whole range"


def test_the_key_file_is_made_private_once_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "pin.key"
    key = load_or_create_pin_key(path)
    assert len(key) == 32 and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_or_create_pin_key(path) == key
    path.write_text("not hex\n")
    with pytest.raises(ValueError, match="not a hex PIN key"):
        load_or_create_pin_key(path)
    path.write_text("abcd\n")
    with pytest.raises(ValueError, match="at least 16"):
        load_or_create_pin_key(path)


def test_an_approval_gives_the_citation_one_notice_number_for_good(store: Store) -> None:
    event = violation_event("v-notice-number")
    with store.session() as session:
        put_camera(session, event.camera_id, event.camera_id, "Renmin Rd")
        record_violation(session, event)
        create_citation(session, event.violation_id, citation_id="c-notice")
        add_user(session, "rev", "x", Role.REVIEWER)
        assert session.scalar(select(Citation.notice_number)) is None, "none before approval"
        transition(session, "c-notice", Status.APPROVED, "rev")
        number = session.scalar(select(Citation.notice_number))
        assert number is not None and is_notice_number(number)
        transition(session, "c-notice", Status.NOTIFIED, "system:notify")
        assert session.scalar(select(Citation.notice_number)) == number


def test_a_pin_in_other_digits_is_just_wrong() -> None:
    """Found in review: full-width digits made `compare_digest` raise, for existing numbers
    only, which told them apart from unknown ones."""
    key = bytes(32)
    pin = pin_for(key, "12345678903")
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in pin)
    assert not pin_matches(key, "12345678903", full_width)
    assert not pin_matches(key, "12345678903", "ŧŧŧŧŧŧ")
