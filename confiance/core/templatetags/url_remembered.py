"""`{% url %}` remembered per process: a builtin in place of Django's (TEMPLATES' `builtins`).

`reverse` costs about 50 µs, and a page writes ten to twenty links whose targets are the same
on every view of it. A URL depends only on the view's name, its arguments, the URL
configuration and script prefix, the current application namespace and (with
`i18n_patterns`) the language: all part of the key. Only arguments that are plain text or whole
numbers are remembered (a model or any other object is Django's own conversion, every time),
and `{% url … as name %}` is Django's node unchanged: a link that carries a secret (the password
reset's token) is written that way, so that it is never kept. A name that does not reverse
raises as before, and nothing is kept.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from threading import Lock
from typing import Any

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template import defaulttags
from django.template.base import Parser, Token
from django.template.context import Context
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import translation
from django.utils.html import conditional_escape

register = template.Library()

_REMEMBERED = 16_384  # a thousand engagements' links of one page and more
_urls: OrderedDict[tuple[Any, ...], str] = OrderedDict()
_lock = Lock()


def _plain(value: object) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _current_app(context: Context) -> Any:
    """The namespace Django's node reverses in: the request's current app, else the resolved
    view's namespace (as `URLNode.render` finds it)."""
    try:
        return context.request.current_app  # type: ignore[attr-defined]
    except AttributeError:
        try:
            return context.request.resolver_match.namespace  # type: ignore[attr-defined]
        except AttributeError:
            return None


def reverse_remembered(
    view_name: str,
    args: Sequence[Any] = (),
    kwargs: dict[str, Any] | None = None,
    current_app: Any = None,
) -> str:
    """`reverse`, remembered per process when every argument is plain text or a whole number
    (the key is the module's); other arguments are reversed every time."""
    kwargs = kwargs or {}
    if not all(map(_plain, [*args, *kwargs.values()])):
        return reverse(view_name, args=args, kwargs=kwargs, current_app=current_app)
    key = (
        view_name,
        tuple(args),
        tuple(sorted(kwargs.items())),
        current_app,
        get_urlconf(),
        get_script_prefix(),
        translation.get_language(),
    )
    with _lock:
        url = _urls.get(key)
        if url is not None:
            _urls.move_to_end(key)
    if url is None:
        url = reverse(view_name, args=args, kwargs=kwargs, current_app=current_app)
        with _lock:
            _urls[key] = url
            while len(_urls) > _REMEMBERED:
                _urls.popitem(last=False)
    return url


class RememberedURLNode(defaulttags.URLNode):
    def render(self, context: Context) -> str:
        args = [arg.resolve(context) for arg in self.args]
        kwargs = {name: value.resolve(context) for name, value in self.kwargs.items()}
        if not all(map(_plain, [*args, *kwargs.values()])):
            return super().render(context)
        view_name = self.view_name.resolve(context)
        url = reverse_remembered(view_name, args, kwargs, _current_app(context))
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser: Parser, token: Token) -> template.Node:
    node = defaulttags.url(parser, token)
    if node.asvar:
        return node
    return RememberedURLNode(node.view_name, node.args, node.kwargs, node.asvar)


@receiver(setting_changed)
def _forget(*, setting: str, **kwargs: Any) -> None:
    """A test that changes the URL configuration reverses afresh."""
    if setting in {"ROOT_URLCONF", "FORCE_SCRIPT_NAME", "LANGUAGES", "LANGUAGE_CODE"}:
        with _lock:
            _urls.clear()
