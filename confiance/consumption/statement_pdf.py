"""The monthly consumption statement as a PDF (reportlab), for the client and the provider.

Built from `exports.month_statement`, which holds only what the reader may see: shared notes,
never internal ones; amounts only for who sees amounts. Text goes through the closure report's
cp1252-safe paragraph helper (Helvetica covers French in full).
"""

from __future__ import annotations

import io

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer

from confiance.closure.report import _p, _Styles, _table
from confiance.consumption.exports import MonthStatement
from confiance.consumption.templatetags.consumption_tags import hours, money, one_decimal


def _days(value: object) -> str:
    return _("%(days)s days") % {"days": one_decimal(value)}  # type: ignore[arg-type]


def statement_pdf(statement: MonthStatement, *, currency: str, provider: str) -> bytes:
    """The statement's PDF bytes."""
    s = _Styles()
    e = statement.engagement
    month = date_format(statement.month, "YEAR_MONTH_FORMAT")
    story = [
        _p(_("Consumption statement: %(month)s") % {"month": month}, s.title),
        _p(
            _("%(engagement)s, for %(client)s, by %(provider)s")
            % {"engagement": e.title, "client": e.client.name, "provider": provider},
            s.body,
        ),
        Spacer(1, 4 * mm),
    ]
    figures = [
        [
            _p(_("Consumed this month"), s.small),
            _p(_days(statement.days(statement.month_minutes)), s.small),
        ],
        [
            _p(_("Consumed to the end of the month"), s.small),
            _p(_days(statement.days(statement.to_date_minutes)), s.small),
        ],
    ]
    if statement.budget_minutes:
        share = round(100 * statement.to_date_minutes / statement.budget_minutes)
        figures += [
            [
                _p(_("Budget"), s.small),
                _p(_days(statement.days(statement.budget_minutes)), s.small),
            ],
            [_p(_("Share of the budget"), s.small), _p(f"{share} %", s.small)],
        ]
    story.append(_table(figures, [70 * mm, 60 * mm]))

    story.append(_p(_("By person"), s.h2))
    rows = [[_p(_("Person"), s.small), _p(_("Hours"), s.small)]]
    if statement.show_amounts:
        rows[0].append(_p(_("Amount"), s.small))
    for name, minutes, amount in statement.by_person:
        row = [_p(name, s.small), _p(hours(minutes), s.small)]
        if statement.show_amounts:
            row.append(_p(money(amount, currency), s.small))
        rows.append(row)
    story.append(_table(rows, [70 * mm, 30 * mm, 40 * mm][: len(rows[0])]))

    story.append(_p(_("By activity"), s.h2))
    rows = [[_p(_("Activity"), s.small), _p(_("Hours"), s.small)]]
    rows += [
        [_p(name, s.small), _p(hours(minutes), s.small)] for name, minutes in statement.by_activity
    ]
    story.append(_table(rows, [70 * mm, 30 * mm]))

    story.append(_p(_("Time entries"), s.h2))
    if statement.entries:
        rows = [
            [
                _p(h, s.small)
                for h in (_("Date worked"), _("Person"), _("Duration"), _("Activity"), _("Note"))
            ]
        ]
        for entry in statement.entries:
            rows.append(
                [
                    _p(date_format(entry.date, "SHORT_DATE_FORMAT"), s.small),
                    _p(entry.person.get_full_name(), s.small),
                    _p(hours(entry.minutes), s.small),
                    _p(entry.activity.name if entry.activity else "—", s.small),
                    _p(entry.shared_note, s.small),
                ]
            )
        story.append(_table(rows, [22 * mm, 35 * mm, 18 * mm, 30 * mm, 65 * mm]))
    else:
        story.append(_p(_("Nothing logged this month."), s.body))
    story.append(Spacer(1, 4 * mm))
    story.append(
        _p(
            _(
                "Figures from the engagement's ledger at tree size %(size)s. Anyone can check the "
                "ledger bundle offline with confiance verify."
            )
            % {"size": statement.figures_size},
            s.small,
        )
    )
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=_("Consumption statement: %(month)s") % {"month": month},
        leftMargin=15 * mm,
        rightMargin=15 * mm,
    ).build(story)
    return buffer.getvalue()
