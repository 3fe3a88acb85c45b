"""Every trust indicator, declared once as data: source, direction, dimension, sign, weight.

An indicator turns facts already recorded by another app into evidence for one
*direction* and one *dimension* of the trust model (DESIGN.md, "Trust model").
Directions: ``c2p`` (client→provider, "can the client rely on us?") and ``p2c``
(provider→client). A fact carries a positive and a negative amount in units of
the indicator's weight; the workspace may change the weights (TrustSettings).
The functions that read the facts live in ``trust/sources/``, one module per source app;
docs/trust.md tabulates and argues every weight. An indicator whose source app is not
installed yields nothing: adding a source is adding one ``Indicator`` here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from confiance.trust.facts import Appended, Collect, Fact, Rows, model
from confiance.trust.sources import consumption, followup, problems, pulse

__all__ = ["BY_KEY", "INDICATORS", "Collect", "Fact", "Indicator", "available_indicators"]

C2P = "c2p"
P2C = "p2c"
DIRECTIONS = (C2P, P2C)

RELIABILITY = "reliability"
TRANSPARENCY = "transparency"
RESPONSIVENESS = "responsiveness"
ENGAGEMENT = "engagement"
PERCEIVED = "perceived"
GOOD_FAITH = "good_faith"
OVERALL = "overall"
DIMENSIONS = (RELIABILITY, TRANSPARENCY, RESPONSIVENESS, ENGAGEMENT, PERCEIVED, GOOD_FAITH)

DIMENSION_LABELS: dict[str, Promise] = {
    RELIABILITY: _("Reliability"),
    TRANSPARENCY: _("Transparency"),
    RESPONSIVENESS: _("Responsiveness"),
    ENGAGEMENT: _("Involvement"),
    PERCEIVED: _("Perceived trust"),
    GOOD_FAITH: _("Good faith"),
    OVERALL: _("Overall"),
}
DIRECTION_LABELS: dict[str, Promise] = {
    C2P: _("Client → provider: can the client rely on us?"),
    P2C: _("Provider → client: can we rely on the client?"),
}

HALF_LIFE_DAYS = 90
PRIOR_WEIGHT = 2.0

# Base rate (prior) per contact origin; docs/trust.md argues each value.
BASE_RATES: dict[str, float] = {
    "peer_referral": 0.7,
    "emergence": 0.65,
    "existing_client": 0.65,
    "tender": 0.5,
    "chance": 0.5,
    "cold_prospecting": 0.4,
}
DEFAULT_BASE_RATE = 0.5

LATE_CANCEL_HOURS = 24


@dataclass(frozen=True, slots=True)
class Indicator:
    key: str
    source: str  # "app_label.Model"
    direction: str
    dimension: str
    sign: str  # "+", "-" or "±"
    weight: float
    reason: Promise
    collect: Collect
    # Diminishing returns: how many positive facts of this indicator count fully in one week;
    # each further one counts half the one before (None: no limit). docs/trust.md, "Padding".
    per_week: int | None = None
    # The rows `collect` reads since a moment (facts.Rows): none, nothing new to read, and the
    # refresh skips the indicator. None: always collected.
    changed: Rows | None = None
    # The facts of the rows appended to the ledger at some indexes (facts.Appended): an update
    # reads this instead of `collect` since a moment, so it reads only the rows appended since
    # the last one (an import's 100,000 entries are read once, not again at every update).
    appended: Appended | None = None

    @property
    def available(self) -> bool:
        """The source model exists in this installation."""
        app_label, model_name = self.source.split(".")
        return model(app_label, model_name) is not None


# -- the declaration --------------------------------------------------------------------------

INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "time_logged_promptly",
        "consumption.TimeEntry",
        C2P,
        TRANSPARENCY,
        "+",
        0.2,
        _("Time logged within the workspace's delay: the client sees the effort as it happens."),
        consumption.time_logged_promptly,
        changed=consumption.time_rows,
        appended=consumption.time_logged_promptly_appended,
        per_week=7,
    ),
    Indicator(
        "time_logged_late",
        "consumption.TimeEntry",
        C2P,
        TRANSPARENCY,
        "-",
        0.5,
        _("Time logged late: the client saw the consumption only afterwards."),
        consumption.time_logged_late,
        changed=consumption.time_rows,
        appended=consumption.time_logged_late_appended,
    ),
    Indicator(
        "budget_threshold_shared",
        "consumption.BudgetAlert",
        C2P,
        TRANSPARENCY,
        "+",
        0.5,
        _("A budget threshold reached was told to both sides at the same moment."),
        consumption.budget_threshold_shared,
        changed=consumption.alert_rows,
    ),
    Indicator(
        "overrun_announced_early",
        "consumption.BudgetAlert",
        C2P,
        TRANSPARENCY,
        "+",
        2.0,
        _("An overrun was forecast and announced before the budget was consumed."),
        consumption.overrun_announced_early,
        changed=consumption.alert_rows,
    ),
    Indicator(
        "overrun_unannounced",
        "consumption.BudgetAlert",
        C2P,
        RELIABILITY,
        "-",
        3.0,
        _("The budget ran out with no earlier forecast alert: a surprise for the client."),
        consumption.overrun_unannounced,
        changed=consumption.alert_rows,
    ),
    Indicator(
        "budget_exhausted_announced",
        "consumption.BudgetAlert",
        C2P,
        RELIABILITY,
        "-",
        1.0,
        _("The budget ran out; it had been announced, so it weighs less."),
        consumption.budget_exhausted_announced,
        changed=consumption.alert_rows,
    ),
    Indicator(
        "checkpoint_consistent",
        "ledger.Checkpoint",
        C2P,
        TRANSPARENCY,
        "±",
        0.5,
        _("Each ledger checkpoint extends the previous one: nothing was rewritten."),
        consumption.checkpoint_consistent,
        changed=consumption.checkpoint_rows,
    ),
    Indicator(
        "provider_commitment_kept",
        "followup.CommitmentStatusChange",
        C2P,
        RELIABILITY,
        "+",
        1.0,
        _("A commitment of ours kept on time."),
        followup.commitments("provider", "kept"),
        changed=followup.status_changes,
        per_week=3,
    ),
    Indicator(
        "provider_commitment_kept_late",
        "followup.CommitmentStatusChange",
        C2P,
        RELIABILITY,
        "-",
        0.5,
        _("A commitment of ours kept, but late."),
        followup.commitments("provider", "kept_late"),
        changed=followup.status_changes,
    ),
    Indicator(
        "provider_commitment_broken",
        "followup.CommitmentStatusChange",
        C2P,
        RELIABILITY,
        "-",
        2.0,
        _("A commitment of ours broken."),
        followup.commitments("provider", "broken"),
        changed=followup.status_changes,
    ),
    Indicator(
        "client_commitment_kept",
        "followup.CommitmentStatusChange",
        P2C,
        GOOD_FAITH,
        "+",
        1.0,
        _("A commitment of the client kept on time."),
        followup.commitments("client", "kept"),
        changed=followup.status_changes,
        per_week=3,
    ),
    Indicator(
        "client_commitment_kept_late",
        "followup.CommitmentStatusChange",
        P2C,
        GOOD_FAITH,
        "-",
        0.5,
        _("A commitment of the client kept, but late."),
        followup.commitments("client", "kept_late"),
        changed=followup.status_changes,
    ),
    Indicator(
        "client_commitment_broken",
        "followup.CommitmentStatusChange",
        P2C,
        GOOD_FAITH,
        "-",
        2.0,
        _("A commitment of the client broken."),
        followup.commitments("client", "broken"),
        changed=followup.status_changes,
    ),
    Indicator(
        "provider_commitment_renegotiated",
        "followup.CommitmentRevision",
        C2P,
        RELIABILITY,
        "-",
        0.25,
        _("A commitment of ours renegotiated again: from the second renegotiation on."),
        followup.renegotiations("provider"),
        changed=followup.revisions,
    ),
    Indicator(
        "client_commitment_renegotiated",
        "followup.CommitmentRevision",
        P2C,
        GOOD_FAITH,
        "-",
        0.25,
        _("A commitment of the client renegotiated again: from the second renegotiation on."),
        followup.renegotiations("client"),
        changed=followup.revisions,
    ),
    Indicator(
        "provider_attendance",
        "followup.MeetingAttendee",
        C2P,
        ENGAGEMENT,
        "±",
        1.0,
        _("Our people present at (or absent from) the meetings they were expected at."),
        followup.attendance("provider"),
        changed=followup.attendance_changes,
        per_week=3,
    ),
    Indicator(
        "client_attendance",
        "followup.MeetingAttendee",
        P2C,
        ENGAGEMENT,
        "±",
        1.0,
        _("The client's people present at (or absent from) the meetings."),
        followup.attendance("client"),
        changed=followup.attendance_changes,
        per_week=3,
    ),
    Indicator(
        "provider_cancelled_late",
        "followup.Meeting",
        C2P,
        ENGAGEMENT,
        "-",
        1.0,
        _("A meeting we cancelled less than a day before."),
        followup.late_cancel("provider"),
        changed=followup.cancellations,
    ),
    Indicator(
        "client_cancelled_late",
        "followup.Meeting",
        P2C,
        ENGAGEMENT,
        "-",
        1.0,
        _("A meeting the client cancelled less than a day before."),
        followup.late_cancel("client"),
        changed=followup.cancellations,
    ),
    Indicator(
        "payment_on_time",
        "followup.Payment",
        P2C,
        GOOD_FAITH,
        "+",
        1.5,
        _("A deposit or invoice paid by its due date."),
        followup.payments(on_time=True),
        changed=followup.payment_changes,
    ),
    Indicator(
        "payment_late",
        "followup.Payment",
        P2C,
        GOOD_FAITH,
        "-",
        1.5,
        _("A deposit or invoice paid after its due date."),
        followup.payments(on_time=False),
        changed=followup.payment_changes,
    ),
    Indicator(
        "payment_overdue",
        "followup.Payment",
        P2C,
        GOOD_FAITH,
        "-",
        0.5,
        _("A payment still unpaid past its due date: each full week counts."),
        followup.payment_overdue,
        changed=followup.payment_changes,
    ),
    Indicator(
        "problem_acknowledged_in_time",
        "problems.ProblemEvent",
        C2P,
        RESPONSIVENESS,
        "+",
        1.0,
        _("A problem acknowledged within the target time."),
        problems.problem_events(
            "acknowledged",
            "problem_acknowledged_in_time",
            gettext_noop("Problem acknowledged in time: %(title)s"),
        ),
        changed=problems.events,
    ),
    Indicator(
        "problem_update_given",
        "problems.ProblemEvent",
        C2P,
        RESPONSIVENESS,
        "+",
        0.5,
        _("A progress update on a problem: progress over perfection."),
        problems.problem_events(
            "update", "problem_update_given", gettext_noop("Progress update: %(title)s")
        ),
        changed=problems.events,
        per_week=3,
    ),
    Indicator(
        "problem_escalated_early",
        "problems.ProblemEvent",
        C2P,
        RESPONSIVENESS,
        "+",
        1.0,
        _("A problem escalated before any target was missed."),
        problems.problem_events(
            "escalated", "problem_escalated_early", gettext_noop("Escalated early: %(title)s")
        ),
        changed=problems.events,
    ),
    Indicator(
        "problem_target_missed",
        "problems.ProblemBreach",
        C2P,
        RESPONSIVENESS,
        "-",
        1.5,
        _("A problem left unacknowledged, unowned or without update past its target."),
        problems.problem_target_missed,
        changed=problems.breach_rows,
    ),
    Indicator(
        "problem_proactive",
        "problems.Problem",
        C2P,
        TRANSPARENCY,
        "+",
        2.0,
        _("A problem we raised before the client could see it."),
        problems.problem_proactive,
        changed=problems.proactive_rows,
    ),
    Indicator(
        "client_pulse",
        "pulse.PulseAnswer",
        C2P,
        PERCEIVED,
        "±",
        1.0,
        _("How the client's people score the five virtues in the pulse."),
        pulse.pulse("client"),
        changed=pulse.closed_rounds,
    ),
    Indicator(
        "provider_pulse",
        "pulse.PulseAnswer",
        P2C,
        PERCEIVED,
        "±",
        1.0,
        _("How our people score the five virtues in the pulse."),
        pulse.pulse("provider"),
        changed=pulse.closed_rounds,
    ),
)

BY_KEY: dict[str, Indicator] = {indicator.key: indicator for indicator in INDICATORS}

# How much each dimension weighs in a direction's overall figure (a weighted average of the
# dimension opinions, docs/trust.md): equal, each dimension being a different question.
DIMENSION_WEIGHTS: dict[str, float] = {d: 1.0 for d in DIMENSIONS}


@cache
def dimensions_of(direction: str) -> tuple[str, ...]:
    """The dimensions that have indicators in this direction (good faith is the client's)."""
    return tuple(
        d
        for d in DIMENSIONS
        if any(i.direction == direction and i.dimension == d for i in INDICATORS)
    )


DEFAULT_WEIGHTS: dict[str, float] = {i.key: i.weight for i in INDICATORS}


def available_indicators() -> list[Indicator]:
    """The indicators whose source exists in this installation."""
    return [indicator for indicator in INDICATORS if indicator.available]
