"""The agreement as a PDF, with reportlab and the closure report's building blocks (as the
monthly consumption statement does): the text in the agreement's own language, then the SHA-256
of its canonical text and every acceptance, so a printed copy can be checked against the page."""

from __future__ import annotations

import io

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer

from confiance.closure.report import _p, _Styles, _table
from confiance.emergence import agreement_template as template
from confiance.emergence.models import Opportunity
from confiance.emergence.selectors import AgreementView


def agreement_pdf(*, view: AgreementView, opportunity: Opportunity) -> bytes:
    """The PDF bytes of the agreement's latest version."""
    s = _Styles()
    version = view.latest
    labels = template.LABELS[view.agreement.language]
    story = [
        _p(f"{labels['agreement']}: {opportunity.title}", s.title),
        _p(f"{labels['client']}: {opportunity.client.name}", s.body),
        _p(f"{labels['provider']}: {opportunity.workspace.name}", s.body),
        Spacer(1, 3 * mm),
        _p(labels["terms"], s.h2),
    ]
    terms = version.terms or {}
    rows = [
        [
            _p(labels[name], s.small),
            _p(str(terms[name]) if terms.get(name) is not None else labels["unset"], s.small),
        ]
        for name in template.TERM_NUMBERS
    ]
    rows.append(
        [
            _p(labels["objectives"], s.small),
            _p("\n".join(terms.get("objectives", [])) or labels["unset"], s.small),
        ]
    )
    story.append(_table(rows, [70 * mm, 105 * mm]))
    for number, clause in enumerate(version.clauses, start=1):
        story.append(_p(f"{number}. {clause['title']}", s.h3))
        story.append(_p(clause["text"], s.body))
    story.append(Spacer(1, 4 * mm))
    story.append(_p(_("Version %(n)s") % {"n": version.number}, s.h2))
    story.append(_p(_("SHA-256 of the text: %(sha)s") % {"sha": version.sha256}, s.mono))
    story.append(_p(_("Acceptances"), s.h2))
    acceptances = [a for a in view.acceptances if a.version_id == version.pk]
    if acceptances:
        head = [_p(h, s.small) for h in (_("Side"), _("Who"), _("When"), _("Status"))]
        body = [
            [
                _p(str(a.get_side_display()), s.small),
                _p(a.by.get_full_name(), s.small),
                _p(date_format(timezone.localtime(a.at), "Y-m-d H:i"), s.small),
                _p(_("void: the text changed") if a.voided_at else _("valid"), s.small),
            ]
            for a in acceptances
        ]
        story.append(_table([head, *body], [30 * mm, 55 * mm, 35 * mm, 55 * mm]))
    else:
        story.append(_p(_("No side has accepted this version yet."), s.body))
    if view.agreed is not None:
        story.append(_p(_("Agreed: the client and the provider accepted this text."), s.body))
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=f"{labels['agreement']}: {opportunity.title}",
        leftMargin=15 * mm,
        rightMargin=15 * mm,
    ).build(story)
    return buffer.getvalue()
