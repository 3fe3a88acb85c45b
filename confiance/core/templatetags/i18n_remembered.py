"""`{% load i18n_remembered %}`: Django's `i18n` library, with `{% translate "a constant" %}`
remembered per language.

A page renders thirty to a hundred constant translations (headings, labels, buttons), and
Django's node looks each one up again on every render: a lazy string made, the catalogue asked,
the text made safe or escaped, about 15 µs each. The text of a constant depends only on the
message, the active language and whether the context escapes, so the node keeps what it
rendered under those three. Everything else (a variable, a filter, `noop`, `context "…"`,
`as name`) is Django's own node, unchanged, as are the library's other tags. The page templates
load this library in place of `i18n` (a test checks that they all do); overriding the `i18n`
label itself would make Django warn of two libraries under one name.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.base import Parser, Token, Variable
from django.template.context import Context
from django.templatetags import i18n
from django.utils import translation
from django.utils.autoreload import file_changed

register = template.Library()
register.tags.update(i18n.register.tags)
register.filters.update(i18n.register.filters)

_REMEMBERED = 8192  # far more than the catalogue's messages in two languages
_rendered: dict[tuple[str, str | None, bool], Any] = {}
# Other texts made once per language from the catalogue (trust.tables' labels), forgotten with
# the remembered translations.
_also: list[Callable[[], None]] = []


def forget_with_catalogue(clear: Callable[[], None]) -> None:
    """Call `clear` whenever the remembered translations are forgotten (the languages or the
    catalogues changed): for a cache of texts translated once per language elsewhere."""
    _also.append(clear)


def _forget_translations() -> None:
    _rendered.clear()
    for clear in _also:
        clear()


class RememberedTranslateNode(i18n.TranslateNode):
    """`{% translate "constant" %}`, rendered once per message, language and escaping."""

    def render(self, context: Context) -> Any:
        key = (self.filter_expression.var.literal, translation.get_language(), context.autoescape)
        found = _rendered.get(key)
        if found is None:
            found = super().render(context)
            if len(_rendered) >= _REMEMBERED:
                _rendered.clear()
            _rendered[key] = found
        return found


@register.tag("translate")
@register.tag("trans")
def do_translate(parser: Parser, token: Token) -> template.Node:
    node = i18n.do_translate(parser, token)
    expression = node.filter_expression
    constant = (
        isinstance(expression.var, Variable)
        and expression.var.lookups is None
        and isinstance(expression.var.literal, str)
    )
    if not constant or expression.filters or node.noop or node.asvar or node.message_context:
        return node
    return RememberedTranslateNode(expression, node.noop)


@receiver(setting_changed)
def _forget(*, setting: str, **kwargs: Any) -> None:
    """A test that changes the languages or the catalogues' paths reads them afresh."""
    if setting in {"LANGUAGES", "LANGUAGE_CODE", "LOCALE_PATHS", "INSTALLED_APPS"}:
        _forget_translations()


@receiver(file_changed)
def _catalogue_changed(*, file_path: Path, **kwargs: Any) -> None:
    """The development server reads a compiled catalogue again without restarting (Django's
    own translation reloader): what was rendered from the old one is forgotten with it. Says
    nothing of whether to restart (None)."""
    if file_path.suffix == ".mo":
        _forget_translations()
