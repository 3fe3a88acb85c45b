"""The trust portfolio's two tables built once in Python, not cell by cell in the template.

A hundred rows of eight cells and a hundred of five heat cells cost the template engine tens of
milliseconds in lookups; these rows are the same markup written directly.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.utils import formats, timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from confiance.core.rows import escaped, row_url
from confiance.trust.models import TrustAlert
from confiance.trust.selectors import PortfolioRow

_TO = "\u2013"  # the en dash between the two ends of a range


def _trend(trend: int | None) -> str:
    if trend is None:
        return "—"
    if trend > 0:
        return f"↑ +{trend}"
    if trend < 0:
        return f"↓ {trend}"
    return "→ 0"


_KINDS: dict[str | None, dict[str, str]] = {}


def _kind_label(kind: str) -> str:
    """`TrustAlert.get_kind_display()` from a table of the labels in the current language, made
    once per language: Django's own builds a dictionary of every kind for each call (a hundred
    alerts a page)."""
    language = get_language()
    labels = _KINDS.get(language)
    if labels is None:
        choices = TrustAlert._meta.get_field("kind").flatchoices  # type: ignore[union-attr]
        labels = _KINDS[language] = {str(value): str(label) for value, label in choices}
    return labels.get(kind, kind)


def _alerts(row: PortfolioRow, now: datetime) -> str:
    if not row.alerts:
        return "—"
    parts = []
    for a in row.alerts:  # not snoozed first (selectors.trust_portfolio)
        later = ""
        if a.snoozed(now) and a.snoozed_until is not None:
            until = formats.date_format(timezone.localtime(a.snoozed_until), "SHORT_DATE_FORMAT")
            said = _("snoozed until %(until)s: %(reason)s") % {
                "until": until,
                "reason": a.snooze_reason,
            }
            later = f' · <span data-testid="snoozed">{escaped(said)}</span>'
        parts.append(
            f'<span class="badge">{escaped(_kind_label(a.kind))}</span> '
            f"<small>{escaped(a.who)}{later}</small> "
        )
    return "".join(parts)


def portfolio_rows(
    rows: Iterable[PortfolioRow], *, workspace_slug: str, now: datetime
) -> SafeString:
    """The riskiest-first table: engagement, client, lead, both directions, trend, alerts (a
    snooze as of `now`, the moment the rows were ranked and sorted at)."""
    trust_url = row_url("trust", ws=workspace_slug)
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
            f"      <td>{_trend(row.trend)}</td>\n      <td>{_alerts(row, now)}</td>\n    </tr>\n"
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
