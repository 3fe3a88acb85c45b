"""Trust figures told in one plain sentence, from the reader's side.

"Can you rely on Meridian Conseil? Fairly — between 72 % and 83 %, from 3 pulse rounds and 40
days of time logged; nothing known yet about reliability." The numbers behind it (belief,
disbelief, base rate, weights) stay on the page, behind a "details" disclosure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from confiance.trust.opinion import Opinion

UNKNOWN_ABOVE = 0.8
"""Above this uncertainty a figure says nothing yet (the heat map greys the same cells)."""

# What the facts of each indicator are, counted for the reader: (indicator prefixes, noun).
EVIDENCE: tuple[tuple[tuple[str, ...], Callable[[int], str]], ...] = (
    (
        ("time_logged_",),
        lambda n: ngettext("%(n)s day of time logged", "%(n)s days of time logged", n),
    ),
    (
        ("client_pulse", "provider_pulse"),
        lambda n: ngettext("%(n)s pulse round", "%(n)s pulse rounds", n),
    ),
    (
        ("provider_commitment_", "client_commitment_"),
        lambda n: ngettext("%(n)s commitment fact", "%(n)s commitment facts", n),
    ),
    (
        ("provider_attendance", "client_attendance", "provider_cancelled", "client_cancelled"),
        lambda n: ngettext("%(n)s meeting attendance", "%(n)s meeting attendances", n),
    ),
    (("payment_",), lambda n: ngettext("%(n)s payment fact", "%(n)s payment facts", n)),
    (("problem_",), lambda n: ngettext("%(n)s problem fact", "%(n)s problem facts", n)),
    (
        ("budget_", "overrun_", "checkpoint_"),
        lambda n: ngettext("%(n)s budget or ledger fact", "%(n)s budget or ledger facts", n),
    ),
)


def evidence_text(counts: Iterable[tuple[str, int]]) -> str:
    """ "3 pulse rounds and 40 days of time logged" from (indicator, number of facts) pairs."""
    totals = [0] * len(EVIDENCE)
    for indicator, n in counts:
        for i, (prefixes, _noun) in enumerate(EVIDENCE):
            if indicator.startswith(prefixes):
                totals[i] += n
                break
    parts = [noun(n) % {"n": n} for (_p, noun), n in zip(EVIDENCE, totals, strict=True) if n]
    return join(parts)


def join(parts: list[str]) -> str:
    """ "a, b and c" in the active language."""
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    return _("%(list)s and %(last)s") % {"list": ", ".join(parts[:-1]), "last": parts[-1]}


def answer(opinion: Opinion) -> str:
    """The one-word answer: yes, fairly, partly, doubtful, or not known yet."""
    if opinion.uncertainty > UNKNOWN_ABOVE:
        return _("Not known yet")
    p = opinion.projected()
    if p >= 0.8:
        return _("Yes")
    if p >= 0.65:
        return _("Fairly")
    if p >= 0.5:
        return _("Partly")
    return _("Doubtful")


def question(*, direction: str, reader_is_provider: bool, provider: str, client: str) -> str:
    """The question a figure answers, asked from the reader's side."""
    if direction == "c2p":
        if reader_is_provider:
            return _("Can %(client)s rely on you?") % {"client": client}
        return _("Can you rely on %(provider)s?") % {"provider": provider}
    if reader_is_provider:
        return _("Can you rely on %(client)s?") % {"client": client}
    return _("Can %(provider)s rely on you?") % {"provider": provider}


def figure_sentence(opinion: Opinion, evidence: str, unknown: list[str] | None = None) -> str:
    """ "Fairly — between 72 % and 83 %, from …; nothing known yet about …"."""
    low, high = opinion.band()
    if not evidence:
        text = _("%(answer)s — nothing observed so far.") % {"answer": _("Not known yet")}
    else:
        text = _("%(answer)s — between %(low)s %% and %(high)s %%, from %(evidence)s") % {
            "answer": answer(opinion),
            "low": round(low * 100),
            "high": round(high * 100),
            "evidence": evidence,
        }
        if unknown:
            text += _("; nothing known yet about %(dimensions)s") % {"dimensions": join(unknown)}
        text += "."
    return text
