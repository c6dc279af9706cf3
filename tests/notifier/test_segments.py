import pytest

from notifier.segments import GSM_BASIC, GSM_EXTENSION, SegmentCount, count_segments


def test_alphabet_is_the_gsm_default_table() -> None:
    # 128 code points less ESC, which only introduces the extension table.
    assert len(GSM_BASIC) == 127
    assert len(GSM_EXTENSION) == 10
    assert not GSM_BASIC & GSM_EXTENSION


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", SegmentCount("GSM-7", 0, 1)),
        ("a" * 160, SegmentCount("GSM-7", 160, 1)),
        ("a" * 161, SegmentCount("GSM-7", 161, 2)),
        ("a" * 306, SegmentCount("GSM-7", 306, 2)),
        ("a" * 307, SegmentCount("GSM-7", 307, 3)),
        ("é£$¥Ä§¿\n" * 20, SegmentCount("GSM-7", 160, 1)),
        ("中" * 70, SegmentCount("UCS-2", 70, 1)),
        ("中" * 71, SegmentCount("UCS-2", 71, 2)),
        ("中" * 134, SegmentCount("UCS-2", 134, 2)),
        ("中" * 135, SegmentCount("UCS-2", 135, 3)),
    ],
)
def test_segment_boundaries(text: str, expected: SegmentCount) -> None:
    assert count_segments(text) == expected


@pytest.mark.parametrize("char", sorted(GSM_EXTENSION))
def test_extension_characters_take_two_septets(char: str) -> None:
    assert count_segments(char * 80) == SegmentCount("GSM-7", 160, 1)
    assert count_segments("a" + char * 80) == SegmentCount("GSM-7", 161, 2)


def test_an_escape_pair_is_not_split_across_parts() -> None:
    # 152 septets then a 2-septet euro: 154 fits 153 per part only if the pair were split.
    assert count_segments("a" * 152 + "€" + "a" * 152) == SegmentCount("GSM-7", 306, 3)
    assert count_segments("a" * 151 + "€" + "a" * 153) == SegmentCount("GSM-7", 306, 2)


def test_one_character_outside_gsm_makes_the_whole_text_ucs2() -> None:
    assert count_segments("a" * 69 + "ç") == SegmentCount("UCS-2", 70, 1)
    assert count_segments("a" * 70 + "’") == SegmentCount("UCS-2", 71, 2)


def test_emoji_counts_two_utf16_units_and_is_not_split() -> None:
    assert count_segments("🚦") == SegmentCount("UCS-2", 2, 1)
    assert count_segments("a" * 68 + "🚦") == SegmentCount("UCS-2", 70, 1)
    assert count_segments("a" * 69 + "🚦") == SegmentCount("UCS-2", 71, 2)
    # 66 units then a surrogate pair: the pair starts the second part.
    assert count_segments("a" * 66 + "🚦" + "a" * 66) == SegmentCount("UCS-2", 134, 3)
