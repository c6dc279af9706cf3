"""The text of the SMS fine notice: one Jinja2 template per language, checked when loaded.

A notice goes out once, to a real person, about a fine. A template that breaks, leaks through
the sandbox or grows past the segment budget must fail when the notifier starts, naming the
file, not when the first approved citation meets it. So every template is rendered at load time
with long but plausible values, for every offence wording, and measured with `count_segments`.
"""

from __future__ import annotations

import bisect
import re
import traceback
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import FileSystemLoader, StrictUndefined, Template, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from notifier.segments import count_segments
from pipeline.config import NotifierConfig
from pipeline.notices import due_date
from pipeline.offences import Offence, examples

TEMPLATE_DIR = Path(__file__).with_name("templates")
FILE_NAME = re.compile(r"^notice\.(?P<tag>[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*)\.txt\.j2$")

# Long but plausible values for the load-time check. A Chinese notice carries Chinese names and
# places, fewer characters than their romanisation; every other language gets Latin-script ones.
SAMPLE_NOTICE_NUMBER = "98765432109"
SAMPLE_PIN = "987654"
SAMPLE_TIME = datetime(2025, 12, 31, 23, 59, tzinfo=UTC)
SAMPLE_PEOPLE = {"zh": ("欧阳志远", "深圳市南山区深南大道与科技园南路交叉口（东向西）")}
LATIN_SAMPLE = (
    "Maximilian Alexander Schwarzenberg",
    "Renmin Road / Jiefang Avenue junction, eastbound",
)


class TemplateLoadError(Exception):
    """A notice template that must not be used; the message names the file and the reason."""


@dataclass(frozen=True)
class NoticeContext:
    """Everything a notice template may print, already formatted for the recipient."""

    name: str
    notice_number: str
    pin: str
    """Opens the case in the portal with the notice number (pipeline.notices)."""
    offence: str
    """The headline in the template's language: Ran a red light, 行人未走人行横道."""
    seen: str
    """What the camera saw, as a clause: the car crossed the stop line 1.4 s after ..."""
    place: str
    occurred_local: str
    fine: str
    pay_by: str
    portal_url: str


def notice_context(
    *,
    notice_number: str,
    pin: str,
    offence: Offence,
    language: str,
    location: str,
    occurred_at: datetime,
    issued_at: datetime,
    person_name: str,
    config: NotifierConfig,
) -> NoticeContext:
    """The context of one notice in `language`, with times in the deployment's zone, not the
    server's; the offence is worded by `pipeline.offences`, as everywhere else.

    The deadline counts from `issued_at` (the approval) rather than the offence, so a case that
    waited in review still leaves the full `payment_days`.
    """
    zone = ZoneInfo(config.timezone)
    for value in (occurred_at, issued_at):
        if value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware datetime (UTC)")
    deadline = due_date(issued_at, config.payment_days, config.timezone)
    return NoticeContext(
        name=person_name,
        notice_number=notice_number,
        pin=pin,
        offence=offence.title(language),
        seen=offence.seen(language),
        place=location,
        occurred_local=occurred_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        fine=config.fine_text,
        pay_by=deadline.isoformat(),
        portal_url=config.portal_url,
    )


def sample_contexts(config: NotifierConfig, language: str) -> list[NoticeContext]:
    """Long notices in `language` as `config` would send them, one per offence wording: what
    templates are measured on."""
    name, place = SAMPLE_PEOPLE.get(_primary(language), LATIN_SAMPLE)
    return [
        notice_context(
            notice_number=SAMPLE_NOTICE_NUMBER,
            pin=SAMPLE_PIN,
            offence=offence,
            language=language,
            location=place,
            occurred_at=SAMPLE_TIME,
            issued_at=SAMPLE_TIME,
            person_name=name,
            config=config,
        )
        for offence in examples()
    ]


class NoticeTemplates:
    """The notice templates of `folder` (`notice.<BCP-47 tag>.txt.j2`), all checked on load.

    Raises `TemplateLoadError` for a syntax error, an underscore attribute or any other sandbox
    refusal, a failure on the sample notice, a notice longer than `config.max_segments`, or no
    template for `config.default_language`.
    """

    def __init__(self, config: NotifierConfig, folder: Path = TEMPLATE_DIR) -> None:
        # Sandboxed although templates are operator files: one edited on a live system must not
        # reach Python objects. No autoescape: this is plain text, not HTML.
        env = ImmutableSandboxedEnvironment(
            loader=FileSystemLoader(folder),
            undefined=StrictUndefined,
            autoescape=False,
            keep_trailing_newline=False,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._templates: dict[str, Template] = {}
        for path in sorted(folder.glob("notice.*.txt.j2")):
            match = FILE_NAME.match(path.name)
            if match is None:
                raise TemplateLoadError(f"{path}: name it notice.<BCP-47 language tag>.txt.j2")
            self._templates[match["tag"]] = _load(env, path, match["tag"], config)
        if not self._templates:
            raise TemplateLoadError(f"{folder}: no notice.<language>.txt.j2 templates")
        default = self._match(config.default_language)
        if default is None:
            raise TemplateLoadError(
                f"{folder}: no template for notifier.default_language "
                f"{config.default_language!r}; found {', '.join(self._templates)}"
            )
        self.default_language = default
        self.max_segments = config.max_segments

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self._templates)

    def language_for(self, requested: str | None) -> str:
        """The template language for a recipient whose registry language is `requested`."""
        return (requested and self._match(requested)) or self.default_language

    def render(self, language: str | None, context: NoticeContext) -> str:
        """The notice for a recipient of `language` (BCP-47, or None when unknown).

        The name and place come from records, not from the sample the template was checked
        with, so they are printed as one line (`_one_line`) and, when the notice would take
        more than `max_segments`, both are cut ("...") to the longest length that fits: a
        registry name of a thousand characters must not send a notice of twenty messages or
        one the gateway refuses, while the citation number, fine and links stay whole.
        """
        template = self._templates[self.language_for(language)]
        name, place = _one_line(context.name), _one_line(context.place)

        def notice(limit: int | None = None) -> str:
            cut = replace(context, name=_cut(name, limit), place=_cut(place, limit))
            return _finish(template.render(asdict(cut)))

        def too_long(limit: int | None) -> bool:
            return count_segments(notice(limit)).segments > self.max_segments

        if not too_long(None):
            return notice()
        fitting = bisect.bisect(range(max(len(name), len(place))), False, key=too_long)
        return notice(max(fitting - 1, 0))

    def _match(self, requested: str) -> str | None:
        """Exact tag, else a template of the same primary language (`zh-TW` reads `zh-CN`)."""
        tag = requested.replace("_", "-").casefold()
        for known in self._templates:
            if known.casefold() == tag:
                return known
        # Sorted, so a bare `zh` template wins over `zh-CN` for `zh-HK`.
        same = sorted(k for k in self._templates if _primary(k) == _primary(tag))
        return same[0] if same else None


def _load(
    env: ImmutableSandboxedEnvironment, path: Path, language: str, config: NotifierConfig
) -> Template:
    try:
        template = env.get_template(path.name)
    except TemplateSyntaxError as error:
        raise TemplateLoadError(f"{path}:{error.lineno}: syntax error: {error.message}") from error
    except UnicodeDecodeError as error:
        raise TemplateLoadError(f"{path}: not UTF-8 text ({error.reason})") from error
    # The sandbox refuses these only on the branch a render takes; refuse them on every branch.
    unsafe = _underscore_access(env.parse(path.read_text(encoding="utf-8")))
    if unsafe is not None:
        node, name = unsafe
        raise TemplateLoadError(
            f"{path}:{node.lineno}: unsafe: access to the underscore name {name!r}"
        )
    for sample in sample_contexts(config, language):
        try:
            text = _finish(template.render(asdict(sample)))
        except SecurityError as error:
            raise TemplateLoadError(f"{_where(template, error)}: unsafe: {error}") from error
        except Exception as error:  # whatever breaks a plausible notice makes the template unfit
            raise TemplateLoadError(
                f"{_where(template, error)}: fails on a sample notice: {error}"
            ) from error
        count = count_segments(text)
        if count.segments > config.max_segments:
            raise TemplateLoadError(
                f"{path}: the {language} notice of {sample.offence!r} takes "
                f"{count.segments} SMS segments ({count.units} {count.encoding} units) "
                "with long sample values; "
                f"the limit is notifier.max_segments = {config.max_segments}"
            )
    return template


def _underscore_access(tree: nodes.Template) -> tuple[nodes.Node, str] | None:
    """The first reach for an underscore name (`x.__class__`, `x['_y']`, `x|attr('_y')`)."""
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Filter)):
        name = None
        if isinstance(node, nodes.Getattr):
            name = node.attr
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            name = node.arg.value
        elif isinstance(node, nodes.Filter) and node.name == "attr" and node.args:
            name = node.args[0].value if isinstance(node.args[0], nodes.Const) else None
        if isinstance(name, str) and name.startswith("_"):
            return node, name
    return None


def _where(template: Template, error: BaseException) -> str:
    """`file:line` of the template line that raised, as Jinja rewrites it into the traceback."""
    tb = traceback.extract_tb(error.__traceback__)
    lines = [frame.lineno for frame in tb if frame.filename == template.filename]
    return f"{template.filename}:{lines[-1]}" if lines else str(template.filename)


def _finish(text: str) -> str:
    """Trailing blanks and stacked empty lines cost characters and read like a broken SMS."""
    lines = "\n".join(line.rstrip() for line in text.split("\n")).strip()
    return re.sub(r"\n{3,}", "\n\n", lines)


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""Control characters (NUL, ESC, a form feed: nothing a reader sees, and a NUL ends the message
for gateways that take C strings) and the bidi embeddings, overrides and isolates, which would
show what follows them reversed on the recipient's phone (the payment link included)."""


def _one_line(value: str) -> str:
    """A record's text as one line of printable text: a newline in a name must not start a
    line of the notice of its own (a forged "Pay at ..." line)."""
    return " ".join(_UNPRINTABLE.sub(" ", value).split())


def _cut(value: str, limit: int | None) -> str:
    """The value, or its first `limit` characters and "..." (GSM-7, unlike the ellipsis)."""
    return value if limit is None or len(value) <= limit else value[:limit] + "..."


def _primary(tag: str) -> str:
    return tag.replace("_", "-").split("-")[0].casefold()
