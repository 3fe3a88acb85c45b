"""`{% glance_cells g %}`: the "where are we" cells of one engagement row, built in Python.

A row of the engagement list (or of a client's page) shows consumed, trust, open problems and
the next commitment due; written directly, with the texts and formats the template used, it
costs a fraction of a per-row `{% include %}` with a dozen translation tags.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from confiance.consumption.templatetags.consumption_tags import short_date
from confiance.engagements.glance import Glance

register = template.Library()

_TO = "\u2013"  # the en dash between the two ends of a range


def _status(status: str) -> str:
    if status == "under":
        return _("Under budget")
    if status == "on":
        return _("On budget")
    if status == "at_risk":
        return _("Forecast over budget")
    if status == "over":
        return _("Over budget")
    return _("No budget in days")


@register.simple_tag(takes_context=True)
def glance_cells(context: Any, g: Glance) -> SafeString:
    """Consumed, trust, open problems and next commitment due: four cells."""
    slug = context["membership"].workspace.slug
    # gettext calls stay outside f-strings: xgettext does not read inside them.
    none_text = escape(_("none"))
    none = f'<span class="muted">{none_text}</span>'
    percent = f'<span class="num">{g.percent} %</span> ' if g.percent is not None else ""
    status = escape(_status(g.status))
    consumed = f'{percent}<span class="pill pill-{escape(g.status)}">{status}</span>'
    if g.trust:
        t = g.trust
        # As {% blocktranslate %} did: the catalogue's text as is, the values escaped.
        title = _("Between %(low)s %% and %(high)s %%, uncertainty %(u)s %%") % {
            "low": t.low,
            "high": t.high,
            "u": t.uncertainty,
        }
        trust = (
            f'<span class="pill pill-trust-{t.level}" title="{title}">{t.projected} % '
            f"<small>({t.low}{_TO}{t.high})</small></span>"
        )
    else:
        trust = '<span class="muted">—</span>'
    problems = none
    if g.open_problems:
        url = reverse("problem-list", kwargs={"ws": slug, "pk": g.engagement.pk})
        count = ngettext("%(n)s open", "%(n)s open", g.open_problems) % {"n": g.open_problems}
        problems = f'<a href="{escape(url)}" class="pill pill-over">{count}</a>'
    due = none
    if g.next_commitment:
        commitment = g.next_commitment
        url = reverse("followup", kwargs={"ws": slug, "pk": g.engagement.pk})
        overdue = ""
        if g.overdue_commitments:
            n = g.overdue_commitments
            overdue_text = ngettext("%(n)s overdue", "%(n)s overdue", n) % {"n": n}
            overdue = f' <span class="pill pill-over">{overdue_text}</span>'
        due = (
            f'<a href="{escape(url)}">{escape(short_date(commitment.due_date))}</a>{overdue}'
            f'<br><small class="clip" title="{escape(commitment.text)}">'
            f"{escape(Truncator(commitment.text).chars(60))}</small>"
        )
    labels = [
        escape(label)
        for label in (_("Consumed"), _("Trust"), _("Open problems"), _("Next commitment due"))
    ]
    cells = (consumed, trust, problems, due)
    return mark_safe(  # noqa: S308 - every text above is escaped or from the catalogue
        "".join(
            f'<td data-label="{label}">{cell}</td>\n'
            for label, cell in zip(labels, cells, strict=True)
        )
    )
