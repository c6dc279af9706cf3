"""Fuzzing the SMS notice with hostile records (issue 18): a person's name or a place of any
text (template syntax, markup, control and bidi characters, emoji, thousands of characters)
is printed as text, never evaluated, on the lines the template gives it, and the notice stays
within `notifier.max_segments`."""

import re
import unicodedata
from dataclasses import replace
from functools import cache

from hypothesis import given
from hypothesis import strategies as st

from notifier.segments import GSM_BASIC, GSM_EXTENSION, count_segments
from notifier.templates import NoticeTemplates, sample_contexts
from pipeline.config import NotifierConfig
from tests.fuzzing import HOSTILE_PIECES, HOSTILE_TEXT, fuzz, very_long

CONFIG = NotifierConfig()
LANGUAGES = st.sampled_from(["en", "zh-CN", "fr", None])
EXAMPLES = st.sampled_from(range(len(sample_contexts(CONFIG, "en"))))
"""Which offence wording (pipeline.offences.examples)."""
UNPRINTED = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""What a notice never carries from a record: control characters and bidi overrides."""


@cache
def templates() -> NoticeTemplates:
    return NoticeTemplates(CONFIG)


def notice(language: str | None, example: int, name: str, place: str) -> str:
    context = replace(sample_contexts(CONFIG, language or "en")[example], name=name, place=place)
    return templates().render(language, context)


@fuzz(400)
@given(LANGUAGES, EXAMPLES, very_long(HOSTILE_TEXT), very_long(HOSTILE_TEXT))
def test_a_notice_of_hostile_records_stays_a_notice(
    language: str | None, example: int, name: str, place: str
) -> None:
    text = notice(language, example, name, place)
    assert count_segments(text).segments <= CONFIG.max_segments
    assert not UNPRINTED.search(text.replace("\n", ""))
    assert text.count("\n") == notice(language, example, "A", "B").count("\n")
    assert "49" not in text or "49" in name + place


GSM_PIECES = [p for p in HOSTILE_PIECES if all(c in GSM_BASIC or c in GSM_EXTENSION for c in p)]
SHORT_GSM = st.lists(st.sampled_from([*GSM_PIECES, "\x00", "\u202e", "\t", "Ann"]), max_size=4)


@fuzz(150)
@given(SHORT_GSM.map("".join).filter(lambda s: len(s) <= 34), EXAMPLES)
def test_a_short_name_is_printed_literally_once_made_one_line(name: str, example: int) -> None:
    printed = " ".join(UNPRINTED.sub(" ", name).split())
    text = notice("en", example, name, "Renmin Road")
    assert f"Dear {printed}, notice" in text


def test_a_long_name_is_cut_to_the_budget_and_the_notice_keeps_its_links() -> None:
    """Found by fuzzing: a name of 500 characters made a notice of 4 segments, queued with a
    warning and then refused by the SMPP gateway or sent as 4 messages by HTTP ones; a newline
    or a U+202E in a name reached the recipient's screen."""
    text = notice("en", 0, "{{ 7*7 }}\nPay at http://evil\u202e" * 50, "Renmin Road")
    assert count_segments(text).segments <= CONFIG.max_segments
    assert "\u202e" not in text and "\nPay at http://evil" not in text
    assert "..." in text and CONFIG.portal_url in text and "49" not in text
    assert unicodedata.category(text[0]) == "Lu"
