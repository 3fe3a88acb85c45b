"""Facts from the pulse: one fact per closed round and side, or per pooled rounds of a small side.

Only closed rounds count (an answer may change while its round is open), and only with at least
access.PULSE_MIN_ANSWERS answers together: below that, a move of the figure would tell a colleague
how one person answered (the pulse's own privacy rule). A side with fewer people pools its
consecutive rounds until that many answers exist, and its fact says how many rounds it pools.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_noop

from confiance.trust import facts
from confiance.trust.facts import Collect, Fact, Rows, model, url

if TYPE_CHECKING:
    from confiance.engagements.models import Engagement

VIRTUES = ("common_language", "common_vision", "discretion", "receptivity", "proximity")

LABELS = {
    ("client", False): gettext_noop("Pulse round, client side: %(mean).1f / 5 from %(n)s answers"),
    ("provider", False): gettext_noop(
        "Pulse round, provider side: %(mean).1f / 5 from %(n)s answers"
    ),
    ("client", True): gettext_noop(
        "Pulse, client side: %(mean).1f / 5 from %(n)s answers over %(rounds)s rounds "
        "(pooled: fewer than three people answer each round)"
    ),
    ("provider", True): gettext_noop(
        "Pulse, provider side: %(mean).1f / 5 from %(n)s answers over %(rounds)s rounds "
        "(pooled: fewer than three people answer each round)"
    ),
}


def _has_pulse_url() -> bool:
    try:
        reverse("pulse", kwargs={"ws": "x", "pk": 1})
    except NoReverseMatch:
        return False
    return True


def closed_rounds(engagement: Engagement, since: datetime | None) -> Any:
    """Answers of either side in rounds closed since the moment (the probe of both pulses)."""
    rows = model("pulse", "PulseAnswer").objects.filter(
        engagement=engagement, survey__closes_at__lte=facts.now()
    )
    return rows.filter(survey__closes_at__gte=since) if since is not None else rows


def round_rows(side: str) -> Rows:
    """The side's answers in rounds closed since a moment. A pulse fact appears only when a round
    closes (a closed round's answers no longer change), so without such answers the side's pulse
    has nothing new, although the collector re-reads every closed round for its pools."""

    def rows(engagement: Engagement, since: datetime | None) -> Any:
        found = model("pulse", "PulseAnswer").objects.filter(
            engagement=engagement, side=side, survey__closes_at__lte=timezone.now()
        )
        return found.filter(survey__closes_at__gte=since) if since is not None else found

    return rows


def pulse(side: str) -> Collect:
    source = round_rows(side)

    def collect(engagement: Engagement, since: datetime | None) -> Iterator[Fact]:
        from confiance import access

        minimum = access.PULSE_MIN_ANSWERS
        # Every closed round of the side is read (a pool may start before `since`); rounds are
        # few (one every few weeks), and the unique fact key makes re-reading harmless.
        rows = (
            source(engagement, None)
            .order_by("survey__closes_at", "survey_id", "id")
            .values_list("survey_id", "survey__closes_at", *VIRTUES)
        )
        link = url("pulse", engagement) if _has_pulse_url() else ""
        pool: dict[str, Any] = {"r": 0.0, "s": 0.0, "total": 0, "scores": 0, "n": 0, "rounds": 0}
        current: tuple[int, datetime] | None = None

        def close_round() -> Fact | None:
            assert current is not None
            pool["rounds"] += 1
            if pool["n"] < minimum:
                return None  # keep pooling with the next round
            survey_id, closes_at = current
            pooled = pool["rounds"] > 1
            fact = Fact(
                f"{side}_pulse",
                closes_at,
                pool["r"],
                pool["s"],
                LABELS[(side, pooled)],
                link,
                "pulse.pulsesurvey",
                str(survey_id),
                {
                    "mean": pool["total"] / max(1, pool["scores"]),
                    "n": pool["n"],
                    "rounds": pool["rounds"],
                },
            )
            pool.update(r=0.0, s=0.0, total=0, scores=0, n=0, rounds=0)
            return fact

        for survey_id, closes_at, *scores in rows.iterator(chunk_size=2000):
            if (
                current is not None
                and current[0] != survey_id
                and (done := close_round()) is not None
            ):
                yield done
            current = (survey_id, closes_at)
            given = [score for score in scores if score is not None]
            # Graded evidence: each virtue scored s in 1..5 adds (s-1)/4 and (5-s)/4.
            pool["r"] += sum((score - 1) / 4 for score in given)
            pool["s"] += sum((5 - score) / 4 for score in given)
            pool["total"] += sum(given)
            pool["scores"] += len(given)
            pool["n"] += 1
        if current is not None and (done := close_round()) is not None:
            yield done

    return collect
