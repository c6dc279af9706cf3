"""Hypothesis strategies and settings the fuzz tests share (issue 18), so every target is fed
the same hostile inputs and the suite's fuzzing budget is set in one place."""

import copy

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st


def fuzz(max_examples: int) -> settings:
    """Bounded by examples, never by time: a loaded 2-core runner must not turn a slow example
    into a failure (deadline) or skip the property (health check)."""
    return settings(
        max_examples=max_examples, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )


FUZZ = fuzz(300)

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def value_changes(data: object) -> st.SearchStrategy[tuple[tuple, object]]:
    """(path, value): a place anywhere in JSON-shaped data (below the root) and arbitrary data
    to put there, for `replaced`."""
    paths: list[tuple] = []

    def walk(node: object, path: tuple) -> None:
        paths.append(path)
        if isinstance(node, dict):
            for key, child in node.items():
                walk(child, (*path, key))
        elif isinstance(node, list):
            for index, child in enumerate(node):
                walk(child, (*path, index))

    walk(data, ())
    return st.tuples(st.sampled_from(paths[1:]), JSON)


def replaced(data: object, path: tuple, value: object) -> object:
    """A copy of the data with the value at `path` replaced."""
    changed = copy.deepcopy(data)
    node = changed
    for key in path[:-1]:
        node = node[key]  # type: ignore[index]
    node[path[-1]] = value  # type: ignore[index]
    return changed


HOSTILE_PIECES = (
    "{{ 7*7 }}",
    "{{7*7}}",
    "{% if true %}x{% endif %}",
    "{# c #}",
    "{{ ''.__class__ }}",
    "<script>alert(1)</script>",
    "&amp;<b>",
    "\x00",
    "\x1b",
    "\x7f",
    "\r\n",
    "\n",
    "\t",
    "\f",
    "\u202e",  # right-to-left override
    "\u202d\u2066\u2069",
    "\u200b\u200c\u200d\ufeff",  # zero-width
    "\u0301\u0308",  # combining marks
    "\u2028\u2029",
    "مرحبا",
    "שלום",
    "ＡＢ１２",  # fullwidth
    "😀👨‍👩‍👧",
    "\U0001d400",
    "€[]{}^~|\\",
    "张伟明",
    "粤B12345",
)
"""Text that has broken renderers elsewhere: template syntax, markup, control and bidi
characters, zero-width and combining marks, other scripts, astral characters."""

HOSTILE_TEXT = st.lists(st.sampled_from(HOSTILE_PIECES) | st.text(max_size=12), max_size=12).map(
    "".join
)
"""Pieces of hostile text among arbitrary unicode; `very_long` adds the length attacks."""


def very_long(text: st.SearchStrategy[str] = HOSTILE_TEXT) -> st.SearchStrategy[str]:
    """The text, sometimes repeated to thousands of characters."""
    return st.tuples(text, st.sampled_from([1, 1, 1, 40, 500])).map(lambda t: t[0] * t[1])
