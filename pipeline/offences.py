"""What an offence was, in words: the one wording of a case that every reader of it gets.

The console, the SMS notice, the billboard, the evidence report and the citizen portal all say
what happened by calling this module, never by wording the kind themselves. Before it, every
jaywalk was shown on the billboards as "Crossed on red" / 行人闯红灯, also when the person walked
on the carriageway far from any crosswalk and no pedestrian signal applied: a false public
statement about a named person. The words are built from the facts the detect stage recorded in
the violation event (the reason, the signal snapshot), so they cannot say more than was seen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from pipeline.events import Reason, SignalSnapshot, ViolationDetected

Language = Literal["zh-CN", "en"]
LANGUAGES: tuple[Language, ...] = ("zh-CN", "en")

TITLES: Mapping[Reason, Mapping[Language, str]] = {
    "stop_line_on_red": {"zh-CN": "闯红灯", "en": "Ran a red light"},
    "crosswalk_on_red": {"zh-CN": "行人闯红灯", "en": "Crossed on red"},
    "crosswalk_on_flashing": {"zh-CN": "行人违反信号灯", "en": "Crossed against the signal"},
    "outside_crosswalk": {"zh-CN": "行人未走人行横道", "en": "Crossed outside a crosswalk"},
}
"""Short enough for an LED screen's headline."""

_VEHICLES: Mapping[str, Mapping[Language, str]] = {
    "car": {"zh-CN": "机动车", "en": "car"},
    "motorcycle": {"zh-CN": "摩托车", "en": "motorcycle"},
    "bicycle": {"zh-CN": "非机动车", "en": "bicycle"},
    "bus": {"zh-CN": "客车", "en": "bus"},
    "truck": {"zh-CN": "货车", "en": "truck"},
}
_VEHICLE: Mapping[Language, str] = {"zh-CN": "机动车", "en": "vehicle"}
_SOURCES: Mapping[str, Mapping[Language, str]] = {
    "controller": {"zh-CN": "信号机数据", "en": "signal controller feed"},
    "vision": {"zh-CN": "视频识别信号灯", "en": "signal heads read from the video"},
    "fixed_plan": {"zh-CN": "固定配时方案", "en": "fixed timing plan"},
}


@dataclass(frozen=True)
class Offence:
    """The facts of one violation that its description may state."""

    kind: str
    reason: Reason
    object_class: str
    time_into_red_s: float | None
    red_onset_seen: bool
    """False: red began before the signal source saw it; the time into red is then a minimum."""
    amber_s: float | None
    grace_s: float | None
    signal_source: str | None
    rule: str
    """The stop line or zone the rule fired on."""

    @classmethod
    def of(cls, event: ViolationDetected | Mapping[str, Any]) -> Offence:
        """From the event, or a violation row's stored copy of it (`Violation.event`)."""
        if not isinstance(event, ViolationDetected):
            event = ViolationDetected.model_validate(dict(event))
        signal = event.signal
        return cls(
            kind=event.kind,
            reason=event.reason or _reason_of_older(event),
            object_class=event.object_class,
            time_into_red_s=signal.time_into_red_s if signal else None,
            red_onset_seen=_onset_seen(signal, event.kind),
            amber_s=signal.amber_duration_s if signal else None,
            grace_s=signal.grace_s if signal else None,
            signal_source=signal.source if signal else None,
            rule=event.rule,
        )

    def title(self, language: str) -> str:
        """The headline: 闯红灯 / Ran a red light."""
        return TITLES[self.reason][language_of(language)]

    def seen(self, language: str) -> str:
        """What the camera saw, as a clause without a full stop to embed in a sentence: "the
        car crossed the stop line 1.4 s after the light turned red"."""
        lang = language_of(language)
        red = self._into_red(lang)
        if self.reason == "stop_line_on_red":
            vehicle = _VEHICLES.get(self.object_class, _VEHICLE)[lang]
            if lang == "zh-CN":
                return (
                    f"{vehicle}在红灯亮起{red}后越过停止线" if red else f"{vehicle}红灯时越过停止线"
                )
            after = f"{red} after the light turned red" if red else "on red"
            return f"the {vehicle} crossed the stop line {after}"
        if self.reason == "crosswalk_on_red":
            if lang == "zh-CN":
                return f"行人在红灯亮起{red}后进入人行横道" if red else "行人在红灯时进入人行横道"
            after = f"{red} after its signal turned red" if red else "on a red signal"
            return f"the pedestrian entered the crosswalk {after}"
        if self.reason == "crosswalk_on_flashing":
            if lang == "zh-CN":
                return "行人在信号灯闪烁、禁止进入时进入人行横道"
            return "the pedestrian entered the crosswalk while its signal flashed don't-walk"
        if lang == "zh-CN":
            return "行人在人行横道以外横穿机动车道"
        return "the pedestrian walked across the carriageway outside every crosswalk"

    def sentence(self, language: str) -> str:
        """`seen` as a sentence of its own."""
        seen = self.seen(language)
        if language_of(language) == "zh-CN":
            return f"{seen}。"
        return f"{seen[0].upper()}{seen[1:]}."

    def facts(self, language: str) -> list[tuple[str, str]]:
        """Label and value rows for a page or a report: only the facts this case has."""
        lang = language_of(language)
        zh = lang == "zh-CN"
        rows = [
            ("违法行为" if zh else "Offence", self.title(lang)),
            ("所见" if zh else "Seen", self.seen(lang)),
        ]
        if self.time_into_red_s is not None:
            rows.append(("红灯后" if zh else "Time into red", self._into_red(lang) or ""))
        if self.kind == "red_light":
            amber = "未测得" if zh else "not measured"
            if self.amber_s is not None:
                amber = f"{self.amber_s:.1f}秒" if zh else f"{self.amber_s:.1f} s"
            rows.append(("黄灯时长" if zh else "Amber before red", amber))
        if self.grace_s is not None:
            grace = f"{self.grace_s:.1f}秒" if zh else f"{self.grace_s:.1f} s"
            rows.append(("宽限时间" if zh else "Grace after red onset", grace))
        if self.signal_source is not None:
            rows.append(("信号来源" if zh else "Signal from", _SOURCES[self.signal_source][lang]))
        rows.append(("停止线/区域" if zh else "Line or zone", self.rule))
        return rows

    def _into_red(self, lang: Language) -> str | None:
        if self.time_into_red_s is None:
            return None
        seconds = f"{self.time_into_red_s:.1f}"
        if lang == "zh-CN":
            return f"{seconds}秒" if self.red_onset_seen else f"至少{seconds}秒"
        return f"{seconds} s" if self.red_onset_seen else f"at least {seconds} s"


def signal_timeline(event: Mapping[str, Any], at: datetime) -> list[dict[str, Any]]:
    """What the signal did around the violation, from the event's snapshot: amber and red
    onsets (`bound`: red began at the latest then) and the moment of the violation."""
    signal = event.get("signal") or {}
    if not signal:
        return []
    rows: list[dict[str, Any]] = []
    into = signal.get("time_into_red_s")
    amber = signal.get("amber_duration_s")
    if into is not None:
        red_from = at - timedelta(seconds=into)
        if amber is not None:
            rows.append({"phase": "amber", "at": red_from - timedelta(seconds=amber)})
        rows.append({"phase": "red", "at": red_from, "bound": amber is None})
    rows.append({"phase": f"violation ({signal.get('phase')})", "at": at})
    return rows


def language_of(tag: str | None) -> Language:
    """The description language for a BCP-47 tag: Chinese for any `zh`, else English."""
    primary = (tag or "").replace("_", "-").split("-")[0].casefold()
    return "zh-CN" if primary == "zh" else "en"


def _onset_seen(signal: SignalSnapshot | None, kind: str) -> bool:
    """Events written before `red_onset_seen` was recorded: a red light's onset was seen
    exactly when the amber before it was measured (an unseen onset was cited with a lower
    bound and no amber); a jaywalk's time into red was recorded only when its onset was seen."""
    if signal is None:
        return True
    if "red_onset_seen" in signal.model_fields_set:
        return signal.red_onset_seen
    return kind != "red_light" or signal.amber_duration_s is not None


def _reason_of_older(event: ViolationDetected) -> Reason:
    """Events written before the reason was recorded: a jaywalk off every crosswalk had no
    signal, one on a crosswalk had the pedestrian signal's phase."""
    if event.kind == "red_light":
        return "stop_line_on_red"
    if event.signal is None:
        return "outside_crosswalk"
    return "crosswalk_on_flashing" if event.signal.phase == "amber" else "crosswalk_on_red"


def examples() -> list[Offence]:
    """One offence of every reason and wording variant, with long figures: what templates and
    billboard layouts are checked against when they load."""
    red = Offence(
        "red_light", "stop_line_on_red", "motorcycle", 12.25, True, 3.0, 0.3, "vision", "stop-1"
    )
    walk = Offence(
        "jaywalk", "crosswalk_on_red", "person", 15.5, True, None, None, "fixed_plan", "crossing-1"
    )
    return [
        red,
        replace(red, red_onset_seen=False, amber_s=None, object_class="truck"),
        walk,
        replace(walk, time_into_red_s=None),
        replace(walk, reason="crosswalk_on_flashing", time_into_red_s=None),
        replace(walk, reason="outside_crosswalk", time_into_red_s=None, signal_source=None),
    ]
