import pytest
from pydantic import ValidationError

from notifier.phones import InvalidPhone, normalise_phone
from pipeline.config import NotifierConfig


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+86 138 0013 8000", None, "+8613800138000"),
        ("+86 138 0013 8000", "DE", "+8613800138000"),
        ("13800138000", "CN", "+8613800138000"),
        ("030 123456", "DE", "+4930123456"),
        ("0170 1234567", "DE", "+491701234567"),
        ("tel:+49-30-123456", None, "+4930123456"),
    ],
)
def test_numbers_come_out_in_e164(raw: str, region: str | None, expected: str) -> None:
    assert normalise_phone(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "region", "reason"),
    [
        ("call me maybe", "DE", "not a phone number"),
        ("", "DE", "not a phone number"),
        ("+49 1", None, "too short"),
        ("12", "DE", "not a valid number for region DE"),
        ("+86 12345", None, "not a valid number for region CN"),
        ("+86 1380013800012345", None, "too long for region CN"),
        ("030 123456", None, "needs a default region"),
        ("+999 1234567", None, "unknown country calling code"),
        ("030 123456", "XX", "unknown region 'XX'"),
    ],
)
def test_bad_numbers_are_refused_naming_input_and_reason(
    raw: str, region: str | None, reason: str
) -> None:
    with pytest.raises(InvalidPhone) as info:
        normalise_phone(raw, region)
    assert f"phone {raw!r}: " in str(info.value)
    assert reason in str(info.value)
    assert isinstance(info.value, ValueError)


def test_config_refuses_a_region_without_a_numbering_plan() -> None:
    assert NotifierConfig(default_region="GB").default_region == "GB"
    with pytest.raises(ValidationError, match="ISO 3166"):
        NotifierConfig(default_region="UK")
