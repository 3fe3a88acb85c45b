"""Every trust indicator, declared as data, and the functions that read its facts.

An indicator turns facts already recorded by another app into evidence for one
*direction* and one *dimension* of the trust model (DESIGN.md, "Trust model").
Directions: ``c2p`` (client→provider, "can the client rely on us?") and ``p2c``
(provider→client). A fact carries a positive and a negative amount in units of
the indicator's weight; the workspace may change the weights (TrustSettings).

======================================  ========================  ====  ==============  ====  ======
key                                     source                    dir   dimension       sign  weight
======================================  ========================  ====  ==============  ====  ======
time_logged_promptly                    consumption.TimeEntry     c2p   transparency    +     0.2
time_logged_late                        consumption.TimeEntry     c2p   transparency    -     0.5
budget_threshold_shared                 consumption.BudgetAlert   c2p   transparency    +     0.5
overrun_announced_early                 consumption.BudgetAlert   c2p   transparency    +     2.0
overrun_unannounced                     consumption.BudgetAlert   c2p   reliability     -     3.0
budget_exhausted_announced              consumption.BudgetAlert   c2p   reliability     -     1.0
checkpoint_consistent                   ledger.Checkpoint         c2p   transparency    ±     0.5/5
provider_commitment_kept                followup.Commitment...    c2p   reliability     +     1.0
provider_commitment_kept_late           followup.Commitment...    c2p   reliability     -     0.5
provider_commitment_broken              followup.Commitment...    c2p   reliability     -     2.0
client_commitment_kept                  followup.Commitment...    p2c   good_faith      +     1.0
client_commitment_kept_late             followup.Commitment...    p2c   good_faith      -     0.5
client_commitment_broken                followup.Commitment...    p2c   good_faith      -     2.0
provider_attendance                     followup.MeetingAttendee  c2p   engagement      ±     0.5/1
client_attendance                       followup.MeetingAttendee  p2c   engagement      ±     0.5/1
provider_cancelled_late                 followup.Meeting          c2p   engagement      -     1.0
client_cancelled_late                   followup.Meeting          p2c   engagement      -     1.0
payment_on_time                         followup.Payment          p2c   good_faith      +     1.5
payment_late                            followup.Payment          p2c   good_faith      -     1.5
problem_acknowledged_in_time            problems.ProblemEvent     c2p   responsiveness  +     1.0
problem_update_given                    problems.ProblemEvent     c2p   responsiveness  +     0.5
problem_escalated_early                 problems.ProblemEvent     c2p   responsiveness  +     1.0
problem_target_missed                   problems.ProblemBreach    c2p   responsiveness  -     1.5
problem_proactive                       problems.Problem          c2p   transparency    +     2.0
client_pulse                            pulse.PulseAnswer         c2p   perceived       ±     1.0
provider_pulse                          pulse.PulseAnswer         p2c   perceived       ±     1.0
======================================  ========================  ====  ==============  ====  ======

``±`` marks graded evidence: each pulse answer adds ``(s-1)/4·w`` to ``r`` and
``(5-s)/4·w`` to ``s`` for each of the five virtues scored ``s`` in 1..5 (one fact per
closed round and side, with at least three answers); a
checkpoint adds 0.5 when it extends the previous one and 5 negative when it
does not; an attendance adds 0.5 when present and 1 negative when absent.
docs/trust.md argues each weight. An indicator whose source app is not
installed yields nothing: adding a source is adding one ``Indicator`` here.

Every indicator function streams (``.iterator()``): a 100,000-entry engagement
is never loaded at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db.models import F
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from confiance.engagements.models import Engagement

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
class Fact:
    """One observed fact as evidence: amounts in units of its indicator's weight."""

    indicator: str
    at: datetime
    positive: float
    negative: float
    label: str
    link: str
    source_type: str
    source_id: str


Collect = Callable[["Engagement", "datetime | None"], Iterator[Fact]]


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

    @property
    def available(self) -> bool:
        """The source model exists in this installation."""
        app_label, model = self.source.split(".")
        return _model(app_label, model) is not None


def _model(app_label: str, name: str) -> Any:
    if not apps.is_installed(f"confiance.{app_label}"):
        return None
    try:
        return apps.get_model(app_label, name)
    except LookupError:
        return None


def _noon(day: Any) -> datetime:
    """A date as a moment (noon UTC), for facts that only know their day."""
    return datetime.combine(day, time(12, 0), tzinfo=UTC)


def _url(name: str, engagement: Engagement, **extra: Any) -> str:
    return reverse(name, kwargs={"ws": engagement.workspace.slug, "pk": engagement.pk, **extra})


# -- consumption ------------------------------------------------------------------------------


def _entries(engagement: Engagement, since: datetime | None, late: bool) -> Iterator[Fact]:
    model = _model("consumption", "TimeEntry")
    threshold = engagement.workspace.late_logging_days
    rows = model.objects.filter(engagement=engagement).exclude(kind="reversal")
    rows = (
        rows.filter(log_delay_days__gt=threshold)
        if late
        else rows.filter(log_delay_days__lte=threshold)
    )
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    link = _url("consumption", engagement)
    key = "time_logged_late" if late else "time_logged_promptly"
    for pk, day, created, delay in rows.values_list(
        "pk", "date", "created_at", "log_delay_days"
    ).iterator(chunk_size=2000):
        label = (
            _("Time for %(day)s logged %(n)s days late")
            if late
            else _("Time for %(day)s logged on time")
        )
        yield Fact(
            key,
            created,
            0.0 if late else 1.0,
            1.0 if late else 0.0,
            str(label % {"day": day.isoformat(), "n": delay}),
            link,
            "consumption.timeentry",
            str(pk),
        )


def time_logged_promptly(engagement: Engagement, since: datetime | None) -> Iterator[Fact]:
    return _entries(engagement, since, late=False)


def time_logged_late(engagement: Engagement, since: datetime | None) -> Iterator[Fact]:
    return _entries(engagement, since, late=True)


def _alerts(engagement: Engagement, since: datetime | None) -> Iterator[Any]:
    model = _model("consumption", "BudgetAlert")
    rows = model.objects.filter(engagement=engagement).order_by("created_at", "id")
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    return rows.iterator()


def budget_threshold_shared(engagement: Engagement, since: datetime | None) -> Iterator[Fact]:
    link = _url("consumption", engagement)
    for alert in _alerts(engagement, since):
        if alert.level in ("50", "80"):
            yield Fact(
                "budget_threshold_shared",
                alert.created_at,
                1.0,
                0.0,
                str(
                    _("%(level)s %% of the budget reached, told to both sides at once")
                    % {"level": alert.level}
                ),
                link,
                "consumption.budgetalert",
                str(alert.pk),
            )


def overrun_announced_early(engagement: Engagement, since: datetime | None) -> Iterator[Fact]:
    link = _url("consumption", engagement)
    for alert in _alerts(engagement, since):
        if alert.level == "forecast" and alert.consumed_minutes < alert.budget_minutes:
            yield Fact(
                "overrun_announced_early",
                alert.created_at,
                1.0,
                0.0,
                str(_("Overrun forecast announced before the budget was consumed")),
                link,
                "consumption.budgetalert",
                str(alert.pk),
            )


def _forecast_before(engagement: Engagement, moment: datetime) -> bool:
    model = _model("consumption", "BudgetAlert")
    return model.objects.filter(
        engagement=engagement,
        level="forecast",
        created_at__lte=moment,
        consumed_minutes__lt=F("budget_minutes"),
    ).exists()


def _exhausted(engagement: Engagement, since: datetime | None, announced: bool) -> Iterator[Fact]:
    link = _url("consumption", engagement)
    for alert in _alerts(engagement, since):
        if alert.level != "100":
            continue
        if _forecast_before(engagement, alert.created_at) != announced:
            continue
        if announced:
            key, label = (
                "budget_exhausted_announced",
                _("Budget consumed (overrun announced earlier)"),
            )
        else:
            key, label = (
                "overrun_unannounced",
                _("Budget consumed without an earlier forecast alert"),
            )
        yield Fact(
            key,
            alert.created_at,
            0.0,
            1.0,
            str(label),
            link,
            "consumption.budgetalert",
            str(alert.pk),
        )


def overrun_unannounced(engagement: Engagement, since: datetime | None) -> Iterator[Fact]:
    return _exhausted(engagement, since, announced=False)


def budget_exhausted_announced(engagement: Engagement, since: datetime | None) -> Iterator[Fact]:
    return _exhausted(engagement, since, announced=True)


# -- ledger -----------------------------------------------------------------------------------


def checkpoint_consistent(engagement: Engagement, since: datetime | None) -> Iterator[Fact]:
    """Each checkpoint proved an extension of the previous one (+), or not (-, ten times worse)."""
    from confiance.ledger import merkle, selectors

    model = _model("ledger", "Checkpoint")
    previous = None
    for checkpoint in model.objects.filter(engagement=engagement).order_by("size").iterator():
        if previous is not None and (since is None or checkpoint.created_at >= since):
            try:
                _size, proof = selectors.consistency(
                    engagement=engagement, old=previous.size, new=checkpoint.size
                )
                good = merkle.verify_consistency(
                    previous.size,
                    checkpoint.size,
                    bytes(previous.root_hash),
                    bytes(checkpoint.root_hash),
                    proof,
                )
            except (ValueError, LookupError):
                good = False
            yield Fact(
                "checkpoint_consistent",
                checkpoint.created_at,
                1.0 if good else 0.0,
                0.0 if good else 10.0,
                str(
                    (
                        _("Ledger checkpoint %(size)s extends the previous one")
                        if good
                        else _("Ledger checkpoint %(size)s does not extend the previous one")
                    )
                    % {"size": checkpoint.size}
                ),
                _url("consumption", engagement),
                "ledger.checkpoint",
                str(checkpoint.pk),
            )
        previous = checkpoint


# -- follow-up --------------------------------------------------------------------------------


def _held(engagement: Engagement, source: str) -> set[str]:
    """Facts the side concerned contested (until resolved) or their author withdrew: held out
    of the evidence (see confiance.followup.reviews)."""
    from confiance.followup.reviews import held_evidence

    return held_evidence(engagement.pk, source)


def _commitments(side: str, status: str) -> Collect:
    def collect(engagement: Engagement, since: datetime | None) -> Iterator[Fact]:
        held = _held(engagement, "followup.commitmentstatuschange")
        model = _model("followup", "CommitmentStatusChange")
        rows = model.objects.filter(
            commitment__engagement=engagement, commitment__side=side, to_status=status
        ).select_related("commitment")
        if since is not None:
            rows = rows.filter(changed_at__gte=since)
        labels = {
            "kept": _("Commitment kept: %(text)s"),
            "kept_late": _("Commitment kept late: %(text)s"),
            "broken": _("Commitment broken: %(text)s"),
        }
        for change in rows.iterator(chunk_size=1000):
            if str(change.pk) in held:
                continue
            yield Fact(
                f"{side}_commitment_{status}",
                change.changed_at,
                1.0 if status == "kept" else 0.0,
                0.0 if status == "kept" else 1.0,
                str(labels[status] % {"text": change.commitment.text[:80]}),
                _commitment_link(engagement, change.commitment_id),
                "followup.commitmentstatuschange",
                str(change.pk),
            )

    return collect


def _commitment_link(engagement: Engagement, commitment_id: int) -> str:
    from django.urls import NoReverseMatch

    try:
        return _url("commitment-detail", engagement, cid=commitment_id)
    except NoReverseMatch:  # the follow-up app may name its URL differently
        return _url("followup", engagement)


def _attendance(side: str) -> Collect:
    def collect(engagement: Engagement, since: datetime | None) -> Iterator[Fact]:
        held = _held(engagement, "followup.meetingattendee")
        model = _model("followup", "MeetingAttendee")
        rows = model.objects.filter(
            meeting__engagement=engagement, side=side, attendance__in=("present", "absent")
        ).select_related("meeting")
        if since is not None:
            rows = rows.filter(recorded_at__gte=since)
        for row in rows.iterator(chunk_size=1000):
            if str(row.pk) in held:
                continue
            present = row.attendance == "present"
            yield Fact(
                f"{side}_attendance",
                row.recorded_at or row.meeting.starts_at,
                0.5 if present else 0.0,
                0.0 if present else 1.0,
                str(
                    (
                        _("Present at the meeting “%(title)s”")
                        if present
                        else _("Absent from the meeting “%(title)s”")
                    )
                    % {"title": row.meeting.title}
                ),
                _url("followup", engagement),
                "followup.meetingattendee",
                str(row.pk),
            )

    return collect


def _late_cancel(side: str) -> Collect:
    def collect(engagement: Engagement, since: datetime | None) -> Iterator[Fact]:
        model = _model("followup", "Meeting")
        rows = model.objects.filter(
            engagement=engagement, status="cancelled", cancelled_by_side=side
        )
        if since is not None:
            rows = rows.filter(cancelled_at__gte=since)
        for meeting in rows.iterator(chunk_size=1000):
            if meeting.cancelled_at is None:
                continue
            if meeting.starts_at - meeting.cancelled_at >= timedelta(hours=LATE_CANCEL_HOURS):
                continue
            yield Fact(
                f"{side}_cancelled_late",
                meeting.cancelled_at,
                0.0,
                1.0,
                str(
                    _("Meeting “%(title)s” cancelled less than a day before")
                    % {"title": meeting.title}
                ),
                _url("followup", engagement),
                "followup.meeting",
                str(meeting.pk),
            )

    return collect


def _payments(on_time: bool) -> Collect:
    def collect(engagement: Engagement, since: datetime | None) -> Iterator[Fact]:
        held = _held(engagement, "followup.payment")
        model = _model("followup", "Payment")
        rows = model.objects.filter(engagement=engagement, paid_date__isnull=False)
        rows = (
            rows.filter(paid_date__lte=F("due_date"))
            if on_time
            else rows.filter(paid_date__gt=F("due_date"))
        )
        if since is not None:
            rows = rows.filter(paid_recorded_at__gte=since)
        for payment in rows.iterator(chunk_size=1000):
            if str(payment.pk) in held:
                continue
            yield Fact(
                "payment_on_time" if on_time else "payment_late",
                _noon(payment.paid_date),
                1.0 if on_time else 0.0,
                0.0 if on_time else 1.0,
                str(
                    (
                        _("“%(label)s” paid by its due date")
                        if on_time
                        else _("“%(label)s” paid after its due date")
                    )
                    % {"label": payment.label}
                ),
                _url("followup", engagement),
                "followup.payment",
                str(payment.pk),
            )

    return collect


# -- problems ---------------------------------------------------------------------------------


def _problem_link(engagement: Engagement, problem_id: int) -> str:
    try:
        return reverse(
            "problem-detail",
            kwargs={"ws": engagement.workspace.slug, "pk": engagement.pk, "problem_id": problem_id},
        )
    except Exception:  # the problems app may name its URL differently
        return _url("problem-list", engagement)


def _problem_events(kind: str, key: str, label: Promise) -> Collect:
    def collect(engagement: Engagement, since: datetime | None) -> Iterator[Fact]:
        model = _model("problems", "ProblemEvent")
        rows = model.objects.filter(problem__engagement=engagement, kind=kind)
        if kind == "acknowledged":  # in time: no acknowledgement breach on that problem
            rows = rows.exclude(problem__breaches__kind="acknowledge")
        if kind == "escalated":  # early: before any target was missed
            rows = rows.filter(before_breach=True)
        if since is not None:
            rows = rows.filter(at__gte=since)
        for event in rows.select_related("problem").iterator(chunk_size=1000):
            yield Fact(
                key,
                event.at,
                1.0,
                0.0,
                str(label % {"title": event.problem.title}),
                _problem_link(engagement, event.problem_id),
                "problems.problemevent",
                str(event.pk),
            )

    return collect


def problem_target_missed(engagement: Engagement, since: datetime | None) -> Iterator[Fact]:
    model = _model("problems", "ProblemBreach")
    rows = model.objects.filter(problem__engagement=engagement).select_related("problem")
    if since is not None:
        rows = rows.filter(detected_at__gte=since)
    for breach in rows.iterator(chunk_size=1000):
        yield Fact(
            "problem_target_missed",
            breach.detected_at,
            0.0,
            1.0,
            str(
                _("%(kind)s: %(title)s")
                % {"kind": breach.get_kind_display(), "title": breach.problem.title}
            ),
            _problem_link(engagement, breach.problem_id),
            "problems.problembreach",
            str(breach.pk),
        )


def problem_proactive(engagement: Engagement, since: datetime | None) -> Iterator[Fact]:
    model = _model("problems", "Problem")
    rows = model.objects.filter(engagement=engagement, proactive=True)
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    for problem in rows.iterator(chunk_size=1000):
        yield Fact(
            "problem_proactive",
            problem.created_at,
            1.0,
            0.0,
            str(
                _("Problem raised by us before the client noticed: %(title)s")
                % {"title": problem.title}
            ),
            _problem_link(engagement, problem.pk),
            "problems.problem",
            str(problem.pk),
        )


# -- pulse ------------------------------------------------------------------------------------

VIRTUES = ("common_language", "common_vision", "discretion", "receptivity", "proximity")


def _pulse(side: str) -> Collect:
    """One fact per closed round and side, from the answers' summed graded evidence.

    Only closed rounds count (an answer may change while its round is open), and only rounds
    with at least access.PULSE_MIN_ANSWERS answers of that side: below that, a move of the
    figure would tell a colleague how one person answered (the pulse's own privacy rule).
    """

    def collect(engagement: Engagement, since: datetime | None) -> Iterator[Fact]:
        from django.utils import timezone

        from confiance import access

        minimum = getattr(access, "PULSE_MIN_ANSWERS", 3)
        model = _model("pulse", "PulseAnswer")
        rows = model.objects.filter(
            engagement=engagement, side=side, survey__closes_at__lte=timezone.now()
        )
        if since is not None:
            rows = rows.filter(survey__closes_at__gte=since)
        rows = rows.order_by("survey_id", "id").values_list(
            "survey_id", "survey__closes_at", *VIRTUES
        )
        current: list[Any] | None = None  # [survey_id, closes_at, r, s, total, count]

        def fact(acc: list[Any]) -> Fact | None:
            survey_id, closes_at, positive, negative, total, count = acc
            if count < minimum:
                return None
            return Fact(
                f"{side}_pulse",
                closes_at,
                positive,
                negative,
                str(
                    _("Pulse round, %(side)s side: %(mean).1f / 5 from %(n)s answers")
                    % {
                        "side": _("client") if side == "client" else _("provider"),
                        "mean": total / max(1, count * len(VIRTUES)),
                        "n": count,
                    }
                ),
                _url("pulse", engagement) if _has_pulse_url() else "",
                "pulse.pulsesurvey",
                str(survey_id),
            )

        for survey_id, closes_at, *scores in rows.iterator(chunk_size=2000):
            if current is not None and current[0] != survey_id:
                if (done := fact(current)) is not None:
                    yield done
                current = None
            if current is None:
                current = [survey_id, closes_at, 0.0, 0.0, 0, 0]
            given = [score for score in scores if score is not None]
            # Graded evidence: each virtue scored s in 1..5 adds (s-1)/4 and (5-s)/4.
            current[2] += sum((score - 1) / 4 for score in given)
            current[3] += sum((5 - score) / 4 for score in given)
            current[4] += sum(given)
            current[5] += 1
        if current is not None and (done := fact(current)) is not None:
            yield done

    return collect


def _has_pulse_url() -> bool:
    from django.urls import NoReverseMatch

    try:
        reverse("pulse", kwargs={"ws": "x", "pk": 1})
    except NoReverseMatch:
        return False
    return True


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
        time_logged_promptly,
    ),
    Indicator(
        "time_logged_late",
        "consumption.TimeEntry",
        C2P,
        TRANSPARENCY,
        "-",
        0.5,
        _("Time logged late: the client saw the consumption only afterwards."),
        time_logged_late,
    ),
    Indicator(
        "budget_threshold_shared",
        "consumption.BudgetAlert",
        C2P,
        TRANSPARENCY,
        "+",
        0.5,
        _("A budget threshold reached was told to both sides at the same moment."),
        budget_threshold_shared,
    ),
    Indicator(
        "overrun_announced_early",
        "consumption.BudgetAlert",
        C2P,
        TRANSPARENCY,
        "+",
        2.0,
        _("An overrun was forecast and announced before the budget was consumed."),
        overrun_announced_early,
    ),
    Indicator(
        "overrun_unannounced",
        "consumption.BudgetAlert",
        C2P,
        RELIABILITY,
        "-",
        3.0,
        _("The budget ran out with no earlier forecast alert: a surprise for the client."),
        overrun_unannounced,
    ),
    Indicator(
        "budget_exhausted_announced",
        "consumption.BudgetAlert",
        C2P,
        RELIABILITY,
        "-",
        1.0,
        _("The budget ran out; it had been announced, so it weighs less."),
        budget_exhausted_announced,
    ),
    Indicator(
        "checkpoint_consistent",
        "ledger.Checkpoint",
        C2P,
        TRANSPARENCY,
        "±",
        0.5,
        _("Each ledger checkpoint extends the previous one: nothing was rewritten."),
        checkpoint_consistent,
    ),
    Indicator(
        "provider_commitment_kept",
        "followup.CommitmentStatusChange",
        C2P,
        RELIABILITY,
        "+",
        1.0,
        _("A commitment of ours kept on time."),
        _commitments("provider", "kept"),
    ),
    Indicator(
        "provider_commitment_kept_late",
        "followup.CommitmentStatusChange",
        C2P,
        RELIABILITY,
        "-",
        0.5,
        _("A commitment of ours kept, but late."),
        _commitments("provider", "kept_late"),
    ),
    Indicator(
        "provider_commitment_broken",
        "followup.CommitmentStatusChange",
        C2P,
        RELIABILITY,
        "-",
        2.0,
        _("A commitment of ours broken."),
        _commitments("provider", "broken"),
    ),
    Indicator(
        "client_commitment_kept",
        "followup.CommitmentStatusChange",
        P2C,
        GOOD_FAITH,
        "+",
        1.0,
        _("A commitment of the client kept on time."),
        _commitments("client", "kept"),
    ),
    Indicator(
        "client_commitment_kept_late",
        "followup.CommitmentStatusChange",
        P2C,
        GOOD_FAITH,
        "-",
        0.5,
        _("A commitment of the client kept, but late."),
        _commitments("client", "kept_late"),
    ),
    Indicator(
        "client_commitment_broken",
        "followup.CommitmentStatusChange",
        P2C,
        GOOD_FAITH,
        "-",
        2.0,
        _("A commitment of the client broken."),
        _commitments("client", "broken"),
    ),
    Indicator(
        "provider_attendance",
        "followup.MeetingAttendee",
        C2P,
        ENGAGEMENT,
        "±",
        1.0,
        _("Our people present at (or absent from) the meetings they were expected at."),
        _attendance("provider"),
    ),
    Indicator(
        "client_attendance",
        "followup.MeetingAttendee",
        P2C,
        ENGAGEMENT,
        "±",
        1.0,
        _("The client's people present at (or absent from) the meetings."),
        _attendance("client"),
    ),
    Indicator(
        "provider_cancelled_late",
        "followup.Meeting",
        C2P,
        ENGAGEMENT,
        "-",
        1.0,
        _("A meeting we cancelled less than a day before."),
        _late_cancel("provider"),
    ),
    Indicator(
        "client_cancelled_late",
        "followup.Meeting",
        P2C,
        ENGAGEMENT,
        "-",
        1.0,
        _("A meeting the client cancelled less than a day before."),
        _late_cancel("client"),
    ),
    Indicator(
        "payment_on_time",
        "followup.Payment",
        P2C,
        GOOD_FAITH,
        "+",
        1.5,
        _("A deposit or invoice paid by its due date."),
        _payments(on_time=True),
    ),
    Indicator(
        "payment_late",
        "followup.Payment",
        P2C,
        GOOD_FAITH,
        "-",
        1.5,
        _("A deposit or invoice paid after its due date."),
        _payments(on_time=False),
    ),
    Indicator(
        "problem_acknowledged_in_time",
        "problems.ProblemEvent",
        C2P,
        RESPONSIVENESS,
        "+",
        1.0,
        _("A problem acknowledged within the target time."),
        _problem_events(
            "acknowledged",
            "problem_acknowledged_in_time",
            _("Problem acknowledged in time: %(title)s"),
        ),
    ),
    Indicator(
        "problem_update_given",
        "problems.ProblemEvent",
        C2P,
        RESPONSIVENESS,
        "+",
        0.5,
        _("A progress update on a problem: progress over perfection."),
        _problem_events("update", "problem_update_given", _("Progress update: %(title)s")),
    ),
    Indicator(
        "problem_escalated_early",
        "problems.ProblemEvent",
        C2P,
        RESPONSIVENESS,
        "+",
        1.0,
        _("A problem escalated before any target was missed."),
        _problem_events("escalated", "problem_escalated_early", _("Escalated early: %(title)s")),
    ),
    Indicator(
        "problem_target_missed",
        "problems.ProblemBreach",
        C2P,
        RESPONSIVENESS,
        "-",
        1.5,
        _("A problem left unacknowledged, unowned or without update past its target."),
        problem_target_missed,
    ),
    Indicator(
        "problem_proactive",
        "problems.Problem",
        C2P,
        TRANSPARENCY,
        "+",
        2.0,
        _("A problem we raised before the client could see it."),
        problem_proactive,
    ),
    Indicator(
        "client_pulse",
        "pulse.PulseAnswer",
        C2P,
        PERCEIVED,
        "±",
        1.0,
        _("How the client's people score the five virtues in the pulse."),
        _pulse("client"),
    ),
    Indicator(
        "provider_pulse",
        "pulse.PulseAnswer",
        P2C,
        PERCEIVED,
        "±",
        1.0,
        _("How our people score the five virtues in the pulse."),
        _pulse("provider"),
    ),
)

BY_KEY: dict[str, Indicator] = {indicator.key: indicator for indicator in INDICATORS}
DEFAULT_WEIGHTS: dict[str, float] = {i.key: i.weight for i in INDICATORS}


def available_indicators() -> list[Indicator]:
    """The indicators whose source exists in this installation."""
    return [indicator for indicator in INDICATORS if indicator.available]
