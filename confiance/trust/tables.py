"""The trust pages' tables built once in Python, not cell by cell in the template: the
portfolio's two, and an engagement's dimensions and facts of each direction.

A hundred rows of eight cells and a hundred of five heat cells cost the template engine tens of
milliseconds in lookups; an engagement's two directions, eight dimensions and twenty facts with
their dates and weights, about 6 ms. These rows are the same markup written directly, in the
reader's language and formats.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache

from django.utils import formats
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from confiance.consumption.templatetags.consumption_tags import short_date
from confiance.core.rows import escaped, row_url
from confiance.core.templatetags.i18n_remembered import forget_with_catalogue
from confiance.trust import indicators
from confiance.trust.models import TrustAlert
from confiance.trust.selectors import ExplainedFact, Figure, PortfolioRow

_TO = "\u2013"  # the en dash between the two ends of a range
_MINUS = "\u2212"  # the sign of a fact that lowers trust


def _trend(trend: int | None) -> str:
    if trend is None:
        return "—"
    if trend > 0:
        return f"↑ +{trend}"
    if trend < 0:
        return f"↓ {trend}"
    return "→ 0"


_LABELS: dict[tuple[str, str | None], dict[str, str]] = {}
forget_with_catalogue(_LABELS.clear)  # a recompiled catalogue, other languages (tests)


def _labels(
    name: str, language: str | None, pairs: Iterable[tuple[object, object]]
) -> dict[str, str]:
    """Some choices' labels in a language given (the active one), made once per language."""
    labels = _LABELS.get((name, language))
    if labels is None:
        labels = _LABELS[name, language] = {str(value): str(label) for value, label in pairs}
    return labels


def _kind_labels(language: str | None) -> dict[str, str]:
    """Each alert kind's label (`TrustAlert.get_kind_display()`): Django's own builds a
    dictionary of every kind for each call (a hundred alerts a page)."""
    field = TrustAlert._meta.get_field("kind")
    return _labels("kind", language, field.flatchoices)  # type: ignore[union-attr]


def _alerts(row: PortfolioRow, now: datetime, kinds: dict[str, str]) -> str:
    if not row.alerts:
        return "—"
    parts = []
    for a in row.alerts:  # not snoozed first (selectors.trust_portfolio)
        later = ""
        if a.snoozed(now) and a.snoozed_until is not None:
            until = short_date(a.snoozed_until)
            said = _("snoozed until %(until)s: %(reason)s") % {
                "until": until,
                "reason": a.snooze_reason,
            }
            later = f' · <span data-testid="snoozed">{escaped(said)}</span>'
        parts.append(
            f'<span class="badge">{escaped(kinds.get(a.kind, a.kind))}</span> '
            f"<small>{escaped(a.who)}{later}</small> "
        )
    return "".join(parts)


def portfolio_rows(
    rows: Iterable[PortfolioRow], *, workspace_slug: str, now: datetime
) -> SafeString:
    """The riskiest-first table: engagement, client, lead, both directions, trend, alerts (a
    snooze as of `now`, the moment the rows were ranked and sorted at)."""
    trust_url = row_url("trust", ws=workspace_slug)
    kinds = _kind_labels(get_language())  # the language read once a table
    html = []
    for row in rows:
        engagement = row.engagement
        url = trust_url(engagement.pk)
        lead = engagement.lead_name or "—"
        c2p, p2c = row.c2p, row.p2c
        html.append(
            f'<tr>\n      <th scope="row"><a href="{escaped(url)}">{escaped(engagement.title)}</a>'
            f"</th>\n      <td>{escaped(engagement.client_name)}</td>\n"
            f"      <td>{escaped(lead)}</td>\n"
            f'      <td>{c2p.projected} % <small class="muted">({c2p.low}{_TO}{c2p.high})</small>'
            f"</td>\n      <td>{c2p.uncertainty} %</td>\n      <td>{p2c.projected} %</td>\n"
            f"      <td>{_trend(row.trend)}</td>\n"
            f"      <td>{_alerts(row, now, kinds)}</td>\n    </tr>\n"
        )
    return mark_safe("".join(html))  # noqa: S308 - every text above is escaped


def heat_rows(rows: Iterable[PortfolioRow]) -> SafeString:
    """The heat map: client → provider trust by dimension, grey where too little is known."""
    unknown_text = escaped(_("too little evidence to say"))  # outside the f-string for xgettext
    unknown = (
        f'<span aria-hidden="true">—</span><span class="visually-hidden">{unknown_text}</span>'
    )
    html = []
    for row in rows:
        cells = "".join(
            f'<td class="{c.css}">{unknown}</td>'
            if c.css == "heat-unknown"
            else f'<td class="{c.css}">{c.projected} %<small> {c.low}{_TO}{c.high}</small></td>'
            for c in row.heat
        )
        html.append(f'<tr><th scope="row">{escaped(row.engagement.title)}</th>{cells}</tr>\n')
    return mark_safe("".join(html))  # noqa: S308 - every text above is escaped


def _fact(fact: ExplainedFact, up: str, down: str) -> str:
    """A fact's sign and label, linked to what it came from."""
    label = escaped(fact.label)
    if fact.link:
        label = f'<a href="{escaped(fact.link)}">{label}</a>'
    return f"{up if fact.positive else down} {label}"


def dimension_rows(figures: Iterable[Figure]) -> SafeString:
    """One direction's dimensions: label, the plain sentence, projected trust with its details,
    and the facts that weigh most in it (or why there are none)."""
    details = escaped(_("Details"))
    none = escaped(_("No evidence yet: the base rate of the contact origin."))
    html = []
    for f in figures:
        ranges = _(
            "range %(low)s–%(high)s %%, uncertainty %(u)s %%, belief %(b)s %%, disbelief %(dd)s %%"  # noqa: RUF001 - the catalogue's en dash
        ) % {"low": f.low, "high": f.high, "u": f.uncertainty, "b": f.belief, "dd": f.disbelief}
        if f.reasons:
            items = "".join(f"<li>{_fact(r, '+', _MINUS)}</li>" for r in f.reasons)
            why = f'<ul class="reasons">{items}</ul>'
        else:
            why = f'<span class="muted">{none}</span>'
        html.append(
            f'\n      <tr>\n        <th scope="row">{escaped(f.label)}</th>\n'
            f"        <td>{escaped(f.sentence)}</td>\n"
            f"        <td>{f.projected} %<details><summary>{details}</summary>"
            f"<small>{escaped(ranges)}</small></details></td>\n"
            f"        <td>{why}</td>\n      </tr>\n    "
        )
    return mark_safe("".join(html))  # noqa: S308 - every text above is escaped


@lru_cache(maxsize=4096)
def _weight(weight: float, language: str | None) -> str:
    """A fact's decayed weight as the template showed a float, in a language given."""
    return formats.localize(weight)


def explanation_rows(facts: Iterable[ExplainedFact]) -> SafeString:
    """The facts that moved one direction most: fact, dimension, day, weight now, why it
    counts."""
    language = get_language()
    up = f'<span class="up" aria-label="{escaped(_("raises trust"))}">+</span>'
    down = f'<span class="down" aria-label="{escaped(_("lowers trust"))}">{_MINUS}</span>'
    labels = _dimension_labels(language)
    html = [
        f"\n      <tr>\n        <td>{_fact(r, up, down)}</td>\n"
        f"        <td>{escaped(labels.get(r.dimension, r.dimension))}</td>\n"
        f"        <td>{escaped(short_date(r.at))}</td>\n"
        f"        <td>{escaped(_weight(r.weight, language))}</td>\n"
        f'        <td class="muted">{escaped(r.reason)}</td>\n      </tr>\n    '
        for r in facts
    ]
    return mark_safe("".join(html))  # noqa: S308 - every text above is escaped


def _dimension_labels(language: str | None) -> dict[str, str]:
    """Each dimension's label."""
    return _labels("dimension", language, indicators.DIMENSION_LABELS.items())
