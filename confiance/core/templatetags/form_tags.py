"""`{% form_fields form %}`: a form's fields as `form_fields.html` writes them, unbound ones once.

Django renders a widget through three or four small templates; an unbound form of six fields
costs 1-3 ms, and a page of forms (the consumption page has four) spends more on them than on
its figures. An unbound form's markup depends only on what the key below holds: the language,
the form's prefix and ids, and for each field its kind, widget, label, help, flags, initial
value and choices (read from their querysets, so a new activity or person is a new key). The
markup is remembered per process under that key; a bound form (errors, values typed) is
always rendered.
"""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock
from typing import Any

from django import forms, template
from django.template.loader import get_template
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

TEMPLATE = "form_fields.html"
_REMEMBERED = 512
_cache: OrderedDict[tuple[Any, ...], SafeString] = OrderedDict()
_lock = Lock()


def _field_key(bound: forms.BoundField) -> tuple[Any, ...]:
    field, widget = bound.field, bound.field.widget
    choices: tuple[tuple[str, str], ...] = ()
    if isinstance(field, forms.ChoiceField):
        # Read once (a model choice field queries on every read) and not through list(),
        # which asks the iterator's length first: a COUNT query. Rendering reads the same.
        # `offered`: the rows the view read already (core.forms.offer_choices).
        read: list[Any] = getattr(field, "offered", None) or [
            choice
            for choice in field.choices  # type: ignore[union-attr]
        ]
        widget.choices = read  # type: ignore[attr-defined]
        choices = tuple((str(value), str(label)) for value, label in read)
    return (
        bound.html_name,
        bound.auto_id,
        type(field),
        type(widget),
        tuple(sorted((k, str(v)) for k, v in widget.attrs.items())),
        getattr(widget, "format", None),
        str(field.label),
        str(field.help_text),
        field.required,
        field.disabled,
        field.localize,
        field.show_hidden_initial,
        repr(bound.value()),
        choices,
    )


def form_key(form: forms.BaseForm) -> tuple[Any, ...]:
    """Everything an unbound form's markup depends on."""
    return (
        translation.get_language(),
        type(form),
        form.prefix,
        form.auto_id,
        form.label_suffix,
        form.use_required_attribute,
        tuple(_field_key(bound) for bound in form),
    )


@register.simple_tag
def form_fields(form: forms.BaseForm) -> SafeString:
    """The fields of `form` (labels, widgets, errors, help) as `form_fields.html` writes them."""
    html: SafeString
    if form.is_bound:
        return mark_safe(get_template(TEMPLATE).render({"form": form}))  # noqa: S308
    key = form_key(form)
    with _lock:
        html_or_none = _cache.get(key)
        if html_or_none is not None:
            _cache.move_to_end(key)
            return html_or_none
    html = mark_safe(get_template(TEMPLATE).render({"form": form}))  # noqa: S308 - autoescaped
    with _lock:
        _cache[key] = html
        while len(_cache) > _REMEMBERED:
            _cache.popitem(last=False)
    return html
