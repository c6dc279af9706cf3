"""Phone numbers as gateways take them: E.164, checked against the numbering plan.

The registry holds numbers as people typed them; a gateway given a national number guesses a
country or rejects it after the fine is already marked as sent. Normalising first turns a bad
number into an error that names it, while the citation can still be routed to a letter.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import (
    SUPPORTED_REGIONS,
    NumberParseException,
    PhoneNumberFormat,
    ValidationResult,
)

PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country calling code",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
    NumberParseException.TOO_SHORT_NSN: "too short to be a phone number",
    NumberParseException.TOO_LONG: "too long to be a phone number",
}
LENGTH_REASONS = {
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.TOO_LONG: "too long",
    ValidationResult.INVALID_LENGTH: "wrong number of digits",
}


class InvalidPhone(ValueError):
    """A number no gateway can deliver to; the message names the input and the reason."""


def normalise_phone(raw: str, default_region: str | None) -> str:
    """`raw` in E.164 (`+8613800138000`); national numbers are read in `default_region`.

    `default_region` is an ISO 3166 alpha-2 code (`DE`, `CN`), or None when every number must
    carry its `+` country code.
    """
    try:
        number = phonenumbers.parse(raw, default_region)
    except NumberParseException as error:
        reason = PARSE_REASONS.get(error.error_type, str(error))
        if error.error_type == NumberParseException.INVALID_COUNTRY_CODE:
            if default_region is None and "+" not in raw:
                reason = (
                    "a national number needs a default region (notifier.default_region), "
                    "or write it with + and the country code"
                )
            elif default_region is not None and default_region not in SUPPORTED_REGIONS:
                reason = f"unknown region {default_region!r}"
        raise InvalidPhone(f"phone {raw!r}: {reason}") from error
    if not phonenumbers.is_valid_number(number):
        region = phonenumbers.region_code_for_country_code(number.country_code)
        length = LENGTH_REASONS.get(phonenumbers.is_possible_number_with_reason(number))
        why = (
            f"{length} for region {region}" if length else f"not a valid number for region {region}"
        )
        raise InvalidPhone(f"phone {raw!r}: {why}")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)
