"""Reads of the closure: the analysis both sides see, its hash, and the approval's state.

The analysis is one plain structure (`analysis_data`): the page, the PDF and the approval hash
all read it, so what the client approves is exactly what it was shown. It holds nothing
internal: no internal notes, no rates or amounts (which depend on who looks).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.http import Http404

from confiance import access
from confiance.closure.models import (
    Closure,
    ClosureApproval,
    ObjectiveAssessment,
    RetrospectiveContribution,
    Side,
)
from confiance.consumption.selectors import ConsumptionSummary, consumption_summary
from confiance.core.models import Membership
from confiance.engagements.models import Engagement, Objective
from confiance.ledger.merkle import canonical_json


def closure_of(*, fetched_by: Membership, engagement: Engagement) -> Closure | None:
    """The engagement's closure (None before it starts); 404 for whoever may not see it."""
    if not access.can_see_closure(fetched_by, engagement):
        raise Http404
    closure = Closure.objects.filter(engagement=engagement).first()
    if closure is not None:
        closure.engagement = engagement  # already fetched through the policy
    return closure


@dataclass
class ObjectiveRow:
    objective: Objective
    assessment: ObjectiveAssessment | None


def consumption_figures(summary: ConsumptionSummary) -> dict[str, Any]:
    """Consumption against the budget, in what does not depend on the viewer nor on today."""
    return {
        "budget_minutes": summary.budget_minutes,
        "consumed_minutes": summary.consumed_minutes,
        "minutes_per_day": summary.minutes_per_day,
        "budget_days": None if summary.budget_days is None else str(summary.budget_days),
        "consumed_days": str(summary.consumed_days),
    }


def analysis_data(
    *,
    closure: Closure,
    rows: list[ObjectiveRow],
    contributions: list[RetrospectiveContribution],
    summary: ConsumptionSummary,
) -> dict[str, Any]:
    """The closure analysis as data: what the approval's hash covers."""
    return {
        "engagement": closure.engagement_id,
        "outcome": closure.outcome,
        "stop_reason": closure.stop_reason or None,
        "objectives": [
            {
                "objective": row.objective.pk,
                "text": row.objective.text,
                "success_measure": row.objective.success_measure,
                "attainment": row.assessment.attainment if row.assessment else None,
                "evidence": row.assessment.evidence if row.assessment else None,
            }
            for row in rows
        ],
        "retrospective": {
            side: [c.as_data() for c in contributions if c.side == side] for side in Side.values
        },
        "consumption": consumption_figures(summary),
    }


def analysis_hash(data: dict[str, Any]) -> str:
    """SHA-256 (hex) of the analysis's canonical JSON, as the ledger encodes its leaves."""
    return hashlib.sha256(canonical_json(data)).hexdigest()


@dataclass
class ApprovalState:
    approval: ClosureApproval | None  # the latest approval, valid or not
    current_hash: str

    @property
    def valid(self) -> bool:
        return self.approval is not None and self.approval.analysis_hash == self.current_hash

    @property
    def void(self) -> bool:
        """Approved once, but the analysis changed since: a new approval is needed."""
        return self.approval is not None and not self.valid


@dataclass
class ClosureView:
    engagement: Engagement
    closure: Closure
    rows: list[ObjectiveRow]
    contributions: list[RetrospectiveContribution]
    summary: ConsumptionSummary
    data: dict[str, Any]
    approval: ApprovalState
    approvals: list[ClosureApproval] = field(default_factory=list)

    @property
    def all_assessed(self) -> bool:
        return all(row.assessment is not None for row in self.rows)

    def side(self, side: str) -> list[RetrospectiveContribution]:
        return [c for c in self.contributions if c.side == side]

    @property
    def provider_retrospective(self) -> list[RetrospectiveContribution]:
        return self.side(Side.PROVIDER)

    @property
    def client_retrospective(self) -> list[RetrospectiveContribution]:
        return self.side(Side.CLIENT)

    def contribution_of(self, user_id: int) -> RetrospectiveContribution | None:
        return next((c for c in self.contributions if c.author_id == user_id), None)


def closure_view(*, fetched_by: Membership, closure: Closure) -> ClosureView:
    """Everything the closure page and its report show; a fixed number of queries."""
    engagement = closure.engagement
    if not access.can_see_closure(fetched_by, engagement):
        raise Http404
    assessments = {
        a.objective_id: a
        for a in ObjectiveAssessment.objects.filter(closure=closure).select_related("assessed_by")
    }
    rows = [
        ObjectiveRow(objective, assessments.get(objective.pk))
        for objective in Objective.objects.filter(engagement=engagement).order_by("position", "id")
    ]
    contributions = list(
        RetrospectiveContribution.objects.filter(closure=closure)
        .select_related("author")
        .order_by("id")
    )
    summary = consumption_summary(fetched_by=fetched_by, engagement=engagement)
    data = analysis_data(closure=closure, rows=rows, contributions=contributions, summary=summary)
    approvals = list(
        ClosureApproval.objects.filter(closure=closure)
        .select_related("approved_by")
        .order_by("-approved_at", "-id")
    )
    state = ApprovalState(approvals[0] if approvals else None, analysis_hash(data))
    return ClosureView(
        engagement=engagement,
        closure=closure,
        rows=rows,
        contributions=contributions,
        summary=summary,
        data=data,
        approval=state,
        approvals=approvals,
    )


def current_hash(*, fetched_by: Membership, closure: Closure) -> str:
    """The hash of the analysis as it stands now."""
    return closure_view(fetched_by=fetched_by, closure=closure).approval.current_hash


@dataclass
class ReportExtras:
    """Sections of the report that exist only where their apps are installed."""

    commitments: list[Any] | None = None
    problems: list[Any] | None = None


def report_extras(*, fetched_by: Membership, engagement: Engagement) -> ReportExtras:
    """Commitments (follow-up app) and problems (problems app), through their own selectors."""
    extras = ReportExtras()
    if apps.is_installed("confiance.followup"):
        from confiance.followup.selectors import commitment_list

        extras.commitments = commitment_list(fetched_by=fetched_by, engagement=engagement)
    if apps.is_installed("confiance.problems"):
        from confiance.problems.selectors import problem_list

        extras.problems = list(problem_list(fetched_by=fetched_by, engagement=engagement))
    return extras
