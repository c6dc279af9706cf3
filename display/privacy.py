"""What of a person's identity a public screen may show, by the deployment's privacy policy.

A billboard shames an offender in front of passers-by, so the policy decides what is shown at
all; masking keeps enough for the offender to recognise their own case (the first and last
characters) and not enough for a stranger to look them up. Text the policy hides is None, so a
layout leaves the line out rather than printing a placeholder.
"""

from __future__ import annotations

import re
import unicodedata

from pipeline.config import PrivacyPolicy

MASK = "*"


def _is_cjk(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def mask_name(name: str) -> str:
    """张伟明 -> 张*明, 张伟 -> 张*; John Smith -> J*** S****: each part keeps its first
    letter (CJK names their first and last character), the rest is masked."""
    name = " ".join(name.split())
    if name and all(_is_cjk(c) for c in name.replace(" ", "")):
        compact = name.replace(" ", "")
        if len(compact) <= 2:
            return compact[0] + MASK * (len(compact) - 1)
        return compact[0] + MASK * (len(compact) - 2) + compact[-1]
    return " ".join(part[0] + MASK * (len(part) - 1) for part in name.split(" ") if part)


def mask_digits(text: str, keep_start: int = 3, keep_end: int = 4) -> str:
    """An ID number with its middle masked: 440301199001011234 -> 440***********1234."""
    compact = re.sub(r"\s", "", text)
    if len(compact) <= keep_start + keep_end:
        return MASK * len(compact)
    middle = len(compact) - keep_start - keep_end
    return compact[:keep_start] + MASK * middle + compact[len(compact) - keep_end :]


def mask_plate(plate: str) -> str:
    """粤B12345 -> 粤B***45, KHX4729 -> KH***29: the issuing region and the last two stay."""
    if len(plate) <= 4:
        return plate[0] + MASK * (len(plate) - 1)
    return plate[:2] + MASK * (len(plate) - 4) + plate[-2:]


def shown_name(name: str | None, policy: PrivacyPolicy) -> str | None:
    if not name or policy.name == "hidden":
        return None
    return name if policy.name == "shown" else mask_name(name)


def shown_national_id(national_id: str | None, policy: PrivacyPolicy) -> str | None:
    if not national_id or policy.national_id == "hidden":
        return None
    return mask_digits(national_id)


def shown_plate(plate: str | None, policy: PrivacyPolicy) -> str | None:
    if not plate:
        return None
    return plate if policy.plate == "shown" else mask_plate(plate)
