"""The closure report as a PDF, rendered server-side with reportlab.

One document for both sides: it is built from the closure analysis (which holds nothing
internal) and from the shared parts of commitments and problems, never from internal notes.

Fonts: reportlab's standard Helvetica is encoded in WinAnsi (cp1252), which covers French in
full, "œ" and "Œ" included (they are not in Latin-1, but are in cp1252). A character outside
cp1252 has no glyph there: `_clean` replaces it by its closest ASCII form or "?", rather than
printing an empty box.
"""

from __future__ import annotations

import io
import unicodedata
from typing import Any
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from confiance.closure.models import Attainment, Outcome, Side
from confiance.closure.selectors import ClosureView, ReportExtras


def _clean(text: str) -> str:
    """Text for a Paragraph: escaped markup, characters the font lacks replaced, line breaks."""
    out = []
    for char in text:
        try:
            char.encode("cp1252")
        except UnicodeEncodeError:
            folded = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
            char = folded or "?"
        out.append(char)
    return escape("".join(out)).replace("\n", "<br/>")


class _Styles:
    def __init__(self) -> None:
        sheet = getSampleStyleSheet()
        self.title = sheet["Title"]
        self.h2 = sheet["Heading2"]
        self.h3 = sheet["Heading3"]
        self.body = sheet["BodyText"]
        self.small = ParagraphStyle("small", parent=sheet["BodyText"], fontSize=8, leading=10)
        self.mono = ParagraphStyle("mono", parent=sheet["Code"], fontSize=7.5, leading=9)


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(_clean(text), style)


def _table(rows: list[list[Any]], widths: list[float]) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8ecf0")),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa5b1")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _when(moment: Any) -> str:
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _days(value: Any) -> str:
    """Days with one decimal, in the reader's number format."""
    from confiance.consumption.templatetags.consumption_tags import one_decimal

    return _("%(days)s days") % {"days": one_decimal(value)}


def render_pdf(*, view: ClosureView, extras: ReportExtras) -> bytes:
    """The closure report of `view`, in the active language."""
    s = _Styles()
    engagement = view.engagement
    closure = view.closure
    story: list[Any] = [
        _p(_("Closure report"), s.title),
        _p(f"{engagement.title} · {engagement.client.name}", s.h2),
    ]
    if closure.outcome == Outcome.STOPPED_EARLY:
        story += [
            _p(_("Outcome: stopped early, a valid outcome."), s.body),
            _p(_("Why it stopped early: %(reason)s") % {"reason": closure.stop_reason}, s.body),
        ]
    else:
        story.append(_p(_("Outcome: completed."), s.body))

    # Objectives and attainment.
    story.append(_p(_("Objectives and attainment"), s.h2))
    if view.rows:
        labels = dict(Attainment.choices)
        rows: list[list[Any]] = [
            [_p(_("Objective"), s.small), _p(_("Attainment"), s.small), _p(_("Evidence"), s.small)]
        ]
        for row in view.rows:
            a = row.assessment
            rows.append(
                [
                    Paragraph(
                        _clean(row.objective.text)
                        + "<br/><i>"
                        + _clean(_("Judged by: %(m)s") % {"m": row.objective.success_measure})
                        + "</i>",
                        s.small,
                    ),
                    _p(str(labels[a.attainment]) if a else _("Not assessed yet"), s.small),
                    _p(a.evidence if a else "—", s.small),
                ]
            )
        story.append(_table(rows, [70 * mm, 30 * mm, 70 * mm]))
    else:
        story.append(_p(_("No objective recorded."), s.body))

    # Consumption against the budget.
    c = view.summary
    story.append(_p(_("Consumption against the budget"), s.h2))
    budget = _days(c.budget_days) if c.budget_days is not None else _("none")
    figures = [
        [_p(_("Budget"), s.small), _p(budget, s.small)],
        [_p(_("Consumed"), s.small), _p(_days(c.consumed_days), s.small)],
    ]
    if c.percent is not None:
        figures.append([_p(_("Share of the budget"), s.small), _p(f"{c.percent} %", s.small)])
    story.append(_table(figures, [60 * mm, 60 * mm]))

    # Commitments and problems: only where their apps are installed.
    if extras.commitments is not None:
        story.append(_p(_("Commitments"), s.h2))
        if extras.commitments:
            rows = [[_p(h, s.small) for h in (_("Commitment"), _("Side"), _("Due"), _("Status"))]]
            for item in extras.commitments:
                rows.append(
                    [
                        _p(item.text, s.small),
                        _p(str(item.get_side_display()), s.small),
                        _p(date_format(item.due_date, "SHORT_DATE_FORMAT"), s.small),
                        _p(str(item.get_status_display()), s.small),
                    ]
                )
            story.append(_table(rows, [85 * mm, 25 * mm, 25 * mm, 35 * mm]))
        else:
            story.append(_p(_("No commitment recorded."), s.body))
    if extras.problems is not None:
        story.append(_p(_("Problems"), s.h2))
        if extras.problems:
            rows = [[_p(h, s.small) for h in (_("Problem"), _("Severity"), _("Status"))]]
            for problem in extras.problems:
                title = problem.title
                if problem.proactive:
                    title += " " + _("(raised before the client noticed)")
                rows.append(
                    [
                        _p(title, s.small),
                        _p(str(problem.get_severity_display()), s.small),
                        _p(str(problem.get_status_display()), s.small),
                    ]
                )
            story.append(_table(rows, [100 * mm, 30 * mm, 40 * mm]))
        else:
            story.append(_p(_("No problem raised."), s.body))

    # Retrospective, both sides.
    story.append(_p(_("Retrospective"), s.h2))
    for side, heading in ((Side.PROVIDER, _("Provider side")), (Side.CLIENT, _("Client side"))):
        story.append(_p(heading, s.h3))
        contributions = view.side(side)
        if not contributions:
            story.append(_p(_("No contribution yet."), s.body))
        for contribution in contributions:
            story.append(_p(contribution.author.get_full_name(), s.body))
            for label, text in (
                (_("What went well"), contribution.went_well),
                (_("What to improve"), contribution.to_improve),
                (_("Lessons"), contribution.lessons),
            ):
                if text:
                    story.append(Paragraph(f"<b>{_clean(label)}</b>: {_clean(text)}", s.small))
            story.append(Spacer(1, 2 * mm))

    # Approval for payment.
    story.append(_p(_("Approval for payment"), s.h2))
    state = view.approval
    if state.approval is None:
        story.append(_p(_("Not approved yet."), s.body))
    else:
        approval = state.approval
        story.append(
            _p(
                _("Approved for payment by %(who)s on %(when)s.")
                % {
                    "who": approval.approved_by.get_full_name(),
                    "when": _when(approval.approved_at),
                },
                s.body,
            )
        )
        story.append(_p(_("Approved analysis hash (SHA-256):"), s.small))
        story.append(_p(approval.analysis_hash, s.mono))
        if state.void:
            story.append(
                _p(
                    _("Approval void: the analysis changed since. A new approval is needed."),
                    s.body,
                )
            )
    story.append(_p(_("Current analysis hash (SHA-256):"), s.small))
    story.append(_p(state.current_hash, s.mono))

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=" · ".join((_("Closure report"), engagement.title)),
        author="Confiance",
        leftMargin=20 * mm,
        rightMargin=20 * mm,
    )
    document.build(story)
    return buffer.getvalue()
