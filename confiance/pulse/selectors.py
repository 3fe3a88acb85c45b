"""Reads of the pulse: the rounds of an engagement with the aggregates each viewer may see.

An individual answer is never returned for display except to its author (or signed, for a side
of one). The page's queries do not grow with the answers: counts and means are GROUP BY queries.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Avg, Count, IntegerField, Q, QuerySet, Sum
from django.db.models.functions import Cast
from django.utils import timezone

from confiance import access
from confiance.core.models import Membership
from confiance.engagements.models import Engagement
from confiance.pulse.models import VIRTUE_FIELDS, PulseAnswer, PulseInvitee, PulseSurvey, Side

MAX_ROUNDS_SHOWN = 24


def answers_for_trust(engagement: Engagement) -> Iterator[PulseAnswer]:
    """Every answer of the engagement, oldest first, as evidence for the trust model.

    For computation only: the answers are individual, so whatever is shown from them must be
    aggregated (never one unsigned answer's scores or comment on its own).
    """
    return (
        PulseAnswer.objects.filter(engagement_id=engagement.pk)
        .order_by("answered_at", "id")
        .iterator()
    )


@dataclass
class SideResult:
    """One side's figures for one round, with whether the viewer may see them."""

    side: str
    asked: int = 0
    answered: int = 0
    signed: int = 0
    means: dict[str, float] = field(default_factory=dict)
    visible: bool = False
    signed_by: str = ""  # the name on a signed answer of a one-person side
    signed_comment: str = ""

    @property
    def label(self) -> str:
        return str(Side(self.side).label)

    def mean_list(self) -> list[float | None]:
        return [self.means.get(name) if self.visible else None for name in VIRTUE_FIELDS]


@dataclass
class Round:
    survey: PulseSurvey
    sides: list[SideResult]
    is_open: bool


@dataclass
class PulsePage:
    engagement: Engagement
    viewer_side: str | None
    open_round: PulseSurvey | None
    asked: bool  # the viewer is asked in the open round
    my_answer: PulseAnswer | None
    one_person_side: bool  # the viewer alone on their side in the open round (may sign)
    rounds: list[Round]

    def to_revisit(self) -> list[tuple[str, str, float]]:
        """The common language or vision scored low on the latest round with figures the viewer
        may see: (virtue, side label, mean), so the page suggests revisiting the glossary or
        the shared vision together."""
        for round_ in self.rounds:
            shown = [side for side in round_.sides if side.visible and side.means]
            if not shown:
                continue
            return [
                (virtue, side.label, side.means[virtue])
                for side in shown
                for virtue in ("common_language", "common_vision")
                if side.means.get(virtue) is not None and side.means[virtue] <= REVISIT_AT_OR_BELOW
            ]
        return []


REVISIT_AT_OR_BELOW = 3.0
"""A common language or vision scored this low (out of 5) by one side is worth revisiting."""


def _side_results(surveys: list[PulseSurvey], now: datetime) -> dict[tuple[int, str], SideResult]:
    survey_ids = [s.pk for s in surveys]
    closed = {s.pk: s.closes_at <= now for s in surveys}
    results: dict[tuple[int, str], SideResult] = {}
    for sid in survey_ids:
        for side in (Side.PROVIDER, Side.CLIENT):
            results[(sid, side.value)] = SideResult(side=side.value)
    asked = (
        PulseInvitee.objects.filter(survey_id__in=survey_ids)
        .values("survey_id", "side")
        .annotate(n=Count("id"))
    )
    for row in asked:
        results[(row["survey_id"], row["side"])].asked = row["n"]
    answered = (
        PulseAnswer.objects.filter(survey_id__in=survey_ids)
        .values("survey_id", "side")
        .annotate(
            n=Count("id"),
            n_signed=Sum(Cast("signed", IntegerField())),
            **{name: Avg(name) for name in VIRTUE_FIELDS},
        )
    )
    for row in answered:
        result = results[(row["survey_id"], row["side"])]
        result.answered = row["n"]
        result.signed = row["n_signed"] or 0
        # django-stubs types the row without the averages unpacked into annotate(**...).
        averages: Mapping[str, Any] = row
        result.means = {name: round(float(averages[name]), 1) for name in VIRTUE_FIELDS}
    for (sid, _side), result in results.items():
        result.visible = access.can_see_pulse_aggregate(
            answered=result.answered, asked=result.asked, signed=result.signed, closed=closed[sid]
        )
        if not result.visible:
            result.means = {}
    # A signed answer of a one-person side is attributable: its name and comment are shown.
    single_signed = [
        key for key, r in results.items() if r.visible and r.asked == 1 and r.answered == 1
    ]
    if single_signed:
        condition = Q()
        for sid, side_value in single_signed:
            condition |= Q(survey_id=sid, side=side_value)
        for answer in PulseAnswer.objects.filter(condition, signed=True).select_related(
            "respondent"
        ):
            result = results[(answer.survey_id, answer.side)]
            result.signed_by = answer.respondent.get_full_name()
            result.signed_comment = answer.comment
    return results


def pulse_page(*, fetched_by: Membership, engagement: Engagement) -> PulsePage:
    """The pulse of one engagement as this person may see it (the caller got it via access)."""
    now = timezone.now()
    side = access.pulse_side(fetched_by, engagement)
    surveys = list(
        PulseSurvey.objects.filter(engagement=engagement, opened_at__lte=now).order_by(
            "-opened_at", "-id"
        )[:MAX_ROUNDS_SHOWN]
    )
    open_round = next((s for s in surveys if s.is_open(now)), None)
    results = _side_results(surveys, now)
    rounds = [
        Round(
            survey=s,
            sides=[results[(s.pk, Side.PROVIDER.value)], results[(s.pk, Side.CLIENT.value)]],
            is_open=s is open_round,
        )
        for s in surveys
    ]
    invitee = None
    my_answer = None
    if open_round is not None:
        invitee = PulseInvitee.objects.filter(survey=open_round, user_id=fetched_by.user_id).first()
        if invitee is not None:
            my_answer = PulseAnswer.objects.filter(
                survey=open_round, respondent_id=fetched_by.user_id
            ).first()
    one_person = False
    if invitee is not None:
        one_person = results[(open_round.pk, invitee.side)].asked == 1  # type: ignore[union-attr]
    return PulsePage(
        engagement=engagement,
        viewer_side=side,
        open_round=open_round,
        asked=invitee is not None,
        my_answer=my_answer,
        one_person_side=one_person,
        rounds=rounds,
    )


def rounds_waiting(*, fetched_by: Membership, now: datetime | None = None) -> QuerySet[PulseSurvey]:
    """Open rounds this person was asked to answer and has not answered, soonest closing first."""
    now = now or timezone.now()
    visible = Engagement.objects.visible_to(fetched_by)
    return (
        PulseSurvey.objects.filter(
            workspace_id=fetched_by.workspace_id,
            invitees__user_id=fetched_by.user_id,
            opened_at__lte=now,
            closes_at__gt=now,
            engagement__in=visible,
        )
        .exclude(answers__respondent_id=fetched_by.user_id)
        .select_related("engagement__client")
        .order_by("closes_at", "pk")
    )


def rounds_answered_open(
    *, fetched_by: Membership, now: datetime | None = None
) -> QuerySet[PulseSurvey]:
    """Open rounds this person already answered (the answer can still change)."""
    now = now or timezone.now()
    return (
        PulseSurvey.objects.filter(
            workspace_id=fetched_by.workspace_id,
            answers__respondent_id=fetched_by.user_id,
            opened_at__lte=now,
            closes_at__gt=now,
            engagement__in=Engagement.objects.visible_to(fetched_by),
        )
        .select_related("engagement__client")
        .order_by("closes_at", "pk")
    )
