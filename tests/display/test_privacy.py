"""Names, ID numbers and plates as a public screen may show them under each policy."""

import pytest

from display.privacy import (
    mask_digits,
    mask_name,
    mask_plate,
    shown_name,
    shown_national_id,
    shown_plate,
)
from pipeline.config import PrivacyPolicy


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张伟明", "张*明"),
        ("张伟", "张*"),
        ("欧阳娜娜", "欧**娜"),
        ("John Smith", "J*** S****"),
        ("  Jo   Ann  Lee ", "J* A** L**"),
        ("Ö", "Ö"),
    ],
)
def test_names_keep_only_what_lets_the_offender_recognise_their_case(
    name: str, masked: str
) -> None:
    assert mask_name(name) == masked


def test_id_numbers_and_plates_are_masked_in_the_middle() -> None:
    assert mask_digits("440301199001011234") == "440***********1234"
    assert mask_digits("1234567") == "*******", "too short to show any part"
    assert mask_plate("粤B12345") == "粤B***45"
    assert mask_plate("KHX4729") == "KH***29"
    assert mask_plate("AB1") == "A**"


def test_the_policy_decides_what_appears_at_all() -> None:
    strict = PrivacyPolicy()  # the defaults: masked name, hidden ID, masked plate
    assert shown_name("张伟明", strict) == "张*明"
    assert shown_national_id("440301199001011234", strict) is None
    assert shown_plate("粤B12345", strict) == "粤B***45"
    open_ = PrivacyPolicy(name="shown", national_id="masked", plate="shown")
    assert shown_name("张伟明", open_) == "张伟明"
    assert shown_national_id("440301199001011234", open_) == "440***********1234"
    assert shown_plate("粤B12345", open_) == "粤B12345"
    assert shown_name("张伟明", PrivacyPolicy(name="hidden")) is None
    assert shown_name(None, open_) is None and shown_plate("", open_) is None
