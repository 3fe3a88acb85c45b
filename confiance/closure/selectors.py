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
    Attainment,
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


@dataclass
class OpenItems:
    """What is still open when the client approves: problems not closed, commitments live."""

    problems: list[Any]
    commitments: list[Any]

    @property
    def count(self) -> int:
        return len(self.problems) + len(self.commitments)

    def as_data(self) -> dict[str, list[int]]:
        return {
            "problems": [p.pk for p in self.problems],
            "commitments": [c.pk for c in self.commitments],
        }


def open_items(*, engagement: Engagement) -> OpenItems:
    """Problems not yet closed by the client and commitments still to be kept, both sides'."""
    problem_model = apps.get_model("problems", "Problem")
    commitment_model = apps.get_model("followup", "Commitment")
    problems = list(
        problem_model.objects.filter(engagement=engagement)
        .exclude(status="closed")
        .order_by("created_at", "pk")
    )
    commitments = list(
        commitment_model.objects.filter(engagement=engagement, status__in=("open", "renegotiated"))
        .select_related("owner")
        .order_by("due_date", "pk")
    )
    return OpenItems(problems=problems, commitments=commitments)


def analysis_diff(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What changed between two analyses, one line per change, in the active language."""
    from django.utils.translation import gettext as _

    if not before:
        return []
    lines: list[str] = []
    labels = dict(Attainment.choices)
    old = {o["objective"]: o for o in before.get("objectives", [])}
    new = {o["objective"]: o for o in after.get("objectives", [])}
    for pk, objective in new.items():
        was = old.get(pk)
        if was is None:
            lines.append(_("New objective: %(text)s") % {"text": objective["text"]})
            continue
        if was.get("attainment") != objective.get("attainment"):
            lines.append(
                _("Objective “%(text)s”: %(before)s → %(after)s")
                % {
                    "text": objective["text"],
                    "before": labels.get(was.get("attainment"), "—"),
                    "after": labels.get(objective.get("attainment"), "—"),
                }
            )
        if was.get("evidence") != objective.get("evidence"):
            lines.append(
                _("Objective “%(text)s”: the evidence now reads: %(evidence)s")
                % {"text": objective["text"], "evidence": objective.get("evidence") or "—"}
            )
        if was.get("text") != objective.get("text") or was.get("success_measure") != objective.get(
            "success_measure"
        ):
            lines.append(_("Objective reworded: %(text)s") % {"text": objective["text"]})
    for pk, objective in old.items():
        if pk not in new:
            lines.append(_("Objective removed: %(text)s") % {"text": objective["text"]})
    side_labels = {Side.PROVIDER: _("the provider"), Side.CLIENT: _("the client")}
    for side, label in side_labels.items():
        if before.get("retrospective", {}).get(side) != after.get("retrospective", {}).get(side):
            lines.append(_("The retrospective of %(side)s changed.") % {"side": label})
    was_c, now_c = before.get("consumption", {}), after.get("consumption", {})
    if was_c.get("consumed_days") != now_c.get("consumed_days"):
        lines.append(
            _("Consumed: %(before)s → %(after)s days")
            % {"before": was_c.get("consumed_days"), "after": now_c.get("consumed_days")}
        )
    if was_c.get("budget_days") != now_c.get("budget_days"):
        lines.append(
            _("Budget: %(before)s → %(after)s days")
            % {"before": was_c.get("budget_days"), "after": now_c.get("budget_days")}
        )
    if before.get("outcome") != after.get("outcome") or before.get("stop_reason") != after.get(
        "stop_reason"
    ):
        lines.append(_("How the engagement ends changed."))
    return lines


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
