"""Each Textual CSS source is parsed once per test process, not once per App.

Textual caches parsed CSS per `Stylesheet`, and every App start builds fresh stylesheets
(`set_variables` clears the cache, `reparse` starts a new one), so each App in the suite parsed
every widget's DEFAULT_CSS and the app's own CSS again: about 0.35 s of CPU an App, and the UI
tests start hundreds. Here `Stylesheet._parse_rules` keeps its result for the process, keyed by
everything the parse reads: the CSS text, where it came from, default-or-not, the tie breaker, the
scope and the CSS variables (the theme). The result is the same rules Textual would build: it
already hands one parse's `RuleSet`s to every later parse of the same stylesheet and to every
node the rules match, and nothing changes a `RuleSet` after its parse.

A pytest plugin (`tests/conftest.py` loads it): the app in production starts once a process and
keeps Textual's own behaviour.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.css.model import RuleSet
from textual.css.stylesheet import Stylesheet

_ParseKey = tuple[str, Any, bool, int, str, tuple[tuple[str, str], ...]]
_PARSED: dict[_ParseKey, list[RuleSet]] = {}
_TEXTUALS_PARSE = Stylesheet._parse_rules


def _parse_rules_once(
    self: Stylesheet,
    css: str,
    read_from: Any,
    is_default_rules: bool = False,
    tie_breaker: int = 0,
    scope: str = "",
) -> list[RuleSet]:
    """Textual's `_parse_rules`, remembered for the process (a failing parse is not kept)."""
    variables = tuple(sorted(self._variables.items()))
    key = (css, read_from, is_default_rules, tie_breaker, scope, variables)
    rules = _PARSED.get(key)
    if rules is None:
        rules = _TEXTUALS_PARSE(self, css, read_from, is_default_rules, tie_breaker, scope)
        _PARSED[key] = rules
    return rules


def pytest_configure(config: pytest.Config) -> None:
    Stylesheet._parse_rules = _parse_rules_once  # type: ignore[method-assign]


def pytest_unconfigure(config: pytest.Config) -> None:
    Stylesheet._parse_rules = _TEXTUALS_PARSE  # type: ignore[method-assign]
    _PARSED.clear()
