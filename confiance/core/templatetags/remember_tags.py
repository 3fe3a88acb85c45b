"""`{% remember "name" a b ... %}…{% endremember %}`: a fragment rendered once per process and key.

The navigation's links cost every page fourteen `{% url %}`, as many translations and
conditions, for markup that only depends on the workspace, the viewer's role and client, the
current page's name and the two counts shown. The fragment is rendered once for each set of
the values named in the tag, in a language, under a script prefix and URL configuration (part
of the key), and its markup remembered; every value the fragment reads must be named in the
tag (the tag does not check it: a value forgotten would show another viewer's markup). The
name, a literal, tells fragments apart. With the engine's debug on (templates read again when
they change) the fragment is always rendered.
"""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock
from typing import Any

from django import template
from django.template.base import FilterExpression, NodeList, Parser, Token
from django.template.context import Context
from django.urls import get_script_prefix, get_urlconf
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_REMEMBERED = 1024
_cache: OrderedDict[tuple[Any, ...], SafeString] = OrderedDict()
_lock = Lock()


class RememberNode(template.Node):
    def __init__(self, nodelist: NodeList, values: list[FilterExpression]) -> None:
        self.nodelist = nodelist
        self.values = values

    def render(self, context: Context) -> SafeString:
        if context.template is None or context.template.engine.debug:
            return mark_safe(self.nodelist.render(context))  # noqa: S308 - rendered by the engine
        key = (
            translation.get_language(),
            get_script_prefix(),
            get_urlconf(),
            *(value.resolve(context) for value in self.values),
        )
        with _lock:
            found = _cache.get(key)
            if found is not None:
                _cache.move_to_end(key)
                return found
        markup = mark_safe(self.nodelist.render(context))  # noqa: S308 - rendered by the engine
        with _lock:
            _cache[key] = markup
            while len(_cache) > _REMEMBERED:
                _cache.popitem(last=False)
        return markup


@register.tag
def remember(parser: Parser, token: Token) -> RememberNode:
    bits = token.split_contents()[1:]
    if not bits or bits[0][0] not in "\"'":
        raise template.TemplateSyntaxError("{% remember %} takes a quoted name first")
    values = [parser.compile_filter(bit) for bit in bits]
    nodelist = parser.parse(("endremember",))
    parser.delete_first_token()
    return RememberNode(nodelist, values)
