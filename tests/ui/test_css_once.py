"""The suite's shared CSS parse (`tests.css_once`) gives the app the rules Textual's own parse
gives, and a second App reuses them instead of parsing again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.css.model import RuleSet
from textual.css.stylesheet import Stylesheet
from textual.layout import Layout

from tests import css_once
from tests.ui.app_factory import SMALL, make_test_app


def shape(rule: RuleSet) -> tuple[Any, ...]:
    """What a rule says, comparable across two parses (a layout is compared by its name)."""
    values = {
        name: value.name if isinstance(value, Layout) else value
        for name, value in rule.styles._rules.items()
    }
    return (
        rule.selectors,
        values,
        sorted(rule.styles.important),
        rule.is_default_rules,
        rule.tie_breaker,
        sorted(rule.selector_names),
        sorted(rule.pseudo_classes),
        [message for _token, message in rule.errors],
    )


async def test_the_shared_parse_is_textuals_parse_and_a_second_app_reuses_it(
    data_dir: Path,
) -> None:
    app = make_test_app(data_dir)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        shared = app.stylesheet
        sources = list(shared.source.items())
        rules = [shape(rule) for rule in shared.rules]
        variables = dict(shared._variables)
    assert len(sources) > 20  # the app's CSS and every widget's DEFAULT_CSS

    fresh = Stylesheet(variables=variables)
    own: list[tuple[Any, ...]] = []
    for read_from, (css, is_default, tie_breaker, scope) in sources:
        parsed = css_once._TEXTUALS_PARSE(fresh, css, read_from, is_default, tie_breaker, scope)
        own.extend(shape(rule) for rule in parsed)
    assert rules == own

    again = make_test_app(data_dir)
    async with again.run_test(size=SMALL) as pilot:
        await pilot.pause()
        assert {id(rule) for rule in again.stylesheet.rules} == {id(rule) for rule in shared.rules}
