"""One wording of every offence (issue 19): each jaywalk reason and red-light variant, in both
languages, from the facts the detect stage recorded; events from before the reason was recorded
are worded from their signal."""

from datetime import UTC, datetime

import pytest

from pipeline.events import SignalSnapshot, ViolationDetected
from pipeline.offences import LANGUAGES, Offence, examples, language_of


def event(kind: str, signal: SignalSnapshot | None, **fields: object) -> ViolationDetected:
    defaults = {
        "violation_id": "v1",
        "kind": kind,
        "camera_id": "cam",
        "occurred_at": datetime(2026, 12, 7, 8, 0, tzinfo=UTC),
        "track_id": 3,
        "object_class": "person" if kind == "jaywalk" else "car",
        "signal": signal,
        "rule": "north-stop" if kind == "red_light" else "crossing-1",
        "manifest_sha256": "b" * 64,
    }
    return ViolationDetected.model_validate({**defaults, **fields})


RED = SignalSnapshot(
    phase="red", source="controller", time_into_red_s=1.84, amber_duration_s=3.5, grace_s=0.3
)
CASES = [
    # (event, zh title, en title, zh sentence, en sentence)
    (
        event("red_light", RED, reason="stop_line_on_red"),
        "闯红灯",
        "Ran a red light",
        "机动车在红灯亮起1.8秒后越过停止线。",
        "The car crossed the stop line 1.8 s after the light turned red.",
    ),
    (
        event(
            "red_light",
            RED.model_copy(update={"red_onset_seen": False, "amber_duration_s": None}),
            reason="stop_line_on_red",
            object_class="motorcycle",
        ),
        "闯红灯",
        "Ran a red light",
        "摩托车在红灯亮起至少1.8秒后越过停止线。",
        "The motorcycle crossed the stop line at least 1.8 s after the light turned red.",
    ),
    (
        event(
            "jaywalk",
            SignalSnapshot(phase="red", source="vision", time_into_red_s=6.0),
            reason="crosswalk_on_red",
        ),
        "行人闯红灯",
        "Crossed on red",
        "行人在红灯亮起6.0秒后进入人行横道。",
        "The pedestrian entered the crosswalk 6.0 s after its signal turned red.",
    ),
    (
        event(
            "jaywalk",
            SignalSnapshot(phase="amber", source="vision"),
            reason="crosswalk_on_flashing",
        ),
        "行人违反信号灯",
        "Crossed against the signal",
        "行人在信号灯闪烁、禁止进入时进入人行横道。",
        "The pedestrian entered the crosswalk while its signal flashed don't-walk.",
    ),
    (
        event("jaywalk", None, reason="outside_crosswalk"),
        "行人未走人行横道",
        "Crossed outside a crosswalk",
        "行人在人行横道以外横穿机动车道。",
        "The pedestrian walked across the carriageway outside every crosswalk.",
    ),
]


@pytest.mark.parametrize(("event", "zh", "en", "zh_seen", "en_seen"), CASES)
def test_each_reason_and_variant_is_worded_in_both_languages(
    event: ViolationDetected, zh: str, en: str, zh_seen: str, en_seen: str
) -> None:
    offence = Offence.of(event)
    assert (offence.title("zh-CN"), offence.title("en")) == (zh, en)
    assert (offence.sentence("zh-CN"), offence.sentence("en")) == (zh_seen, en_seen)
    # A violation row keeps the event as JSON: the same words from it.
    assert Offence.of(event.model_dump(mode="json")) == offence


def test_no_jaywalk_off_a_crosswalk_is_called_crossing_on_red() -> None:
    """The billboard's false statement of issue 19."""
    outside = Offence.of(event("jaywalk", None, reason="outside_crosswalk"))
    for language in LANGUAGES:
        words = outside.title(language) + outside.seen(language)
        assert "红灯" not in words and "red" not in words
        assert all(
            "red" not in value and "红灯" not in value for _, value in outside.facts(language)
        )


def test_the_facts_list_only_what_the_case_has() -> None:
    red = dict(Offence.of(CASES[0][0]).facts("en"))
    assert red["Time into red"] == "1.8 s" and red["Amber before red"] == "3.5 s"
    assert (
        red["Grace after red onset"] == "0.3 s" and red["Signal from"] == "signal controller feed"
    )
    assert dict(Offence.of(CASES[1][0]).facts("en"))["Amber before red"] == "not measured"
    outside = dict(Offence.of(CASES[4][0]).facts("zh-CN"))
    assert set(outside) == {"违法行为", "所见", "停止线/区域"}


@pytest.mark.parametrize(
    ("signal", "reason"),
    [
        (None, "outside_crosswalk"),
        (SignalSnapshot(phase="red", source="vision", time_into_red_s=2.0), "crosswalk_on_red"),
        (SignalSnapshot(phase="amber", source="vision"), "crosswalk_on_flashing"),
    ],
)
def test_an_older_event_without_a_reason_is_worded_from_its_signal(
    signal: SignalSnapshot | None, reason: str
) -> None:
    assert Offence.of(event("jaywalk", signal)).reason == reason
    assert Offence.of(event("red_light", RED)).reason == "stop_line_on_red"


@pytest.mark.parametrize(
    ("tag", "language"),
    [("zh", "zh-CN"), ("zh_TW", "zh-CN"), ("en-GB", "en"), ("fr", "en"), (None, "en"), ("", "en")],
)
def test_any_language_tag_gets_one_of_the_two_wordings(tag: str | None, language: str) -> None:
    assert language_of(tag) == language


def test_the_examples_cover_every_reason_and_variant() -> None:
    offences = examples()
    assert {o.reason for o in offences} == {
        "stop_line_on_red",
        "crosswalk_on_red",
        "crosswalk_on_flashing",
        "outside_crosswalk",
    }
    assert {o.red_onset_seen for o in offences if o.kind == "red_light"} == {True, False}
    assert len({o.seen("en") for o in offences}) == len(offences)


def test_an_older_red_light_without_amber_states_a_lower_bound() -> None:
    """Events from before `red_onset_seen` was recorded: no measured amber means red began
    before the camera saw it, so the time into red is a minimum, not a measurement."""
    older = SignalSnapshot.model_validate(
        {"phase": "red", "source": "vision", "time_into_red_s": 4.2}
    )
    offence = Offence.of(event("red_light", older, reason="stop_line_on_red"))
    assert not offence.red_onset_seen
    assert "at least 4.2 s" in offence.seen("en") and "至少4.2秒" in offence.seen("zh-CN")
    assert Offence.of(event("red_light", RED)).red_onset_seen
