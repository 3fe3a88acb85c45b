"""Facts from the follow-up app: commitments, renegotiations, attendance, cancellations, payments.

Padding (docs/trust.md): a commitment kept or an attendance recorded by the side it is about counts
half until the other side confirms it (records it themselves) or lets it stand CONFIRM_DAYS; a
commitment counts by how long it was a promise (made and kept the same day, it says little); a
withdrawal by the committing side alone counts as broken.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from confiance.core.queries import Prepared, build, columns
from confiance.trust import facts
from confiance.trust.facts import (
    CONFIRM_DAYS,
    Collect,
    Fact,
    Rows,
    client_people,
    model,
    noon,
    overdue_before,
    probe_stand_ins,
    read_once,
    stood_since,
    url,
    url_or,
)

if TYPE_CHECKING:
    from confiance.engagements.models import Engagement

FULL_PROMISE_DAYS = 7
"""A commitment that was a promise for this long (from made to kept or due) counts fully; one made
and kept the same day counts MIN_PROMISE_SHARE (docs/trust.md, "Padding")."""
MIN_PROMISE_SHARE = 0.05
STOOD = ".stood"


def _side_of(user_id: int | None, clients: set[int]) -> str:
    return "client" if user_id in clients else "provider"


def promise_share(created: datetime, kept: datetime, due: date) -> float:
    """How much a kept commitment matters: the days it was a promise, up to FULL_PROMISE_DAYS."""
    end = min(timezone.localdate(kept), due)
    days = (end - timezone.localdate(created)).days
    return max(MIN_PROMISE_SHARE, min(1.0, days / FULL_PROMISE_DAYS))


def _held(engagement: Engagement, source: str) -> set[str]:
    """Facts the side concerned contested (until resolved) or their author withdrew: held out
    of the evidence (see confiance.followup.reviews)."""
    from confiance.followup.reviews import held_evidence_all

    found: dict[str, set[str]] = read_once(
        ("held", engagement.pk), lambda: held_evidence_all(engagement.pk)
    )
    return found[source]


def _shared(
    key: str, engagement: Engagement, since: datetime, rows: Callable[[], Any]
) -> list[Any]:
    """The rows of a source table that several indicators read since a moment (their probe's
    rows), read once per refresh for all of them; each indicator then keeps its own. A full read
    (since None) streams each indicator's rows instead: they may be many. `rows` builds the
    query, only for the first of them."""
    found: list[Any] = read_once((key, engagement.pk, since), lambda: list(rows()))
    return found


@cache
def _window_query(probe: Rows, related: str | None) -> tuple[Prepared, Any, Any]:
    """A probe's rows (with the row it names `related`, as select_related reads it), compiled
    once per process with stand-ins for its moments (facts.probe_stand_ins): the window every
    refresh reads when the probe says there are rows."""
    from confiance.engagements.models import Engagement

    table = probe(Engagement(pk=1), None).model
    joined = table._meta.get_field(related).related_model if related else None

    def make(
        engagement: int, since: datetime, stood: datetime, now: datetime, overdue_before: date
    ) -> Any:
        with probe_stand_ins(since=since, stood=stood, now=now, overdue_before=overdue_before):
            rows = probe(Engagement(pk=engagement), since)
        selected = columns(table) + (columns(joined, f"{related}__") if joined else [])
        return rows.values_list(*selected)

    query = Prepared(
        make, engagement=int, since=datetime, stood=datetime, now=datetime, overdue_before=date
    ).may_leave_out("since", "stood", "now", "overdue_before")  # each probe asks its own
    return query, table, joined


def _window(probe: Rows, related: str | None, engagement: Engagement, since: datetime) -> list[Any]:
    """The rows of `probe(engagement, since)`, with their `related` row, in the same order."""
    query, table, joined = _window_query(probe, related)
    found = []
    for row in query.rows(
        engagement=engagement.pk,
        since=since,
        stood=stood_since(since),
        now=facts.now(),
        overdue_before=overdue_before(),
    ):
        instance, at = build(table, row)
        if related:
            setattr(instance, related, build(joined, row, at)[0])
        found.append(instance)
    return found


def _payments_window(engagement: Engagement, since: datetime) -> list[Any]:
    """The rows of payment_changes, read once per refresh for the three payment indicators."""
    return _shared(
        "payment_changes",
        engagement,
        since,
        lambda: _window(payment_changes, None, engagement, since),
    )


def _commitment_link(engagement: Engagement, commitment_id: int) -> str:
    return url_or("commitment-detail", "followup", engagement, cid=commitment_id)


LABELS = {
    "kept": gettext_noop("Commitment kept: %(text)s"),
    "kept_late": gettext_noop("Commitment kept late: %(text)s"),
    "broken": gettext_noop("Commitment broken: %(text)s"),
    "withdrawn": gettext_noop("Commitment withdrawn by the side that made it: %(text)s"),
    "stood": gettext_noop("Commitment kept, left standing by the other side: %(text)s"),
    "confirmed": gettext_noop("Commitment kept, confirmed by the other side: %(text)s"),
}


# Probes of the refresh (Indicator.changed): each covers every row that some indicator of its
# source table reads since a moment, so an empty probe means none of them has anything new.


def status_changes(engagement: Engagement, since: datetime | None) -> Any:
    """Every commitment status change the six commitment indicators may read (in their order)."""
    rows = model("followup", "CommitmentStatusChange").objects.filter(
        commitment__engagement=engagement
    )
    return rows.filter(changed_at__gte=stood_since(since)) if since is not None else rows


def attendance_changes(engagement: Engagement, since: datetime | None) -> Any:
    rows = model("followup", "MeetingAttendee").objects.filter(
        meeting__engagement=engagement, attendance__in=("present", "absent")
    )
    return rows.filter(recorded_at__gte=stood_since(since)) if since is not None else rows


def revisions(engagement: Engagement, since: datetime | None) -> Any:
    rows = model("followup", "CommitmentRevision").objects.filter(
        commitment__engagement=engagement, version__gte=3
    )
    return rows.filter(created_at__gte=since) if since is not None else rows


def cancellations(engagement: Engagement, since: datetime | None) -> Any:
    rows = model("followup", "Meeting").objects.filter(engagement=engagement, status="cancelled")
    return rows.filter(cancelled_at__gte=since) if since is not None else rows


def payment_changes(engagement: Engagement, since: datetime | None) -> Any:
    """Payments recorded paid since the moment, or unpaid a week past due (payment_overdue)."""
    rows = model("followup", "Payment").objects.filter(engagement=engagement)
    if since is None:
        return rows
    return rows.filter(
        Q(paid_recorded_at__gte=since) | Q(paid_date__isnull=True, due_date__lt=overdue_before())
    )


def commitment_rows(side: str, status: str) -> Rows:
    """The status changes `commitments(side, status)` reads (kept ones from CONFIRM_DAYS earlier:
    they may have stood since)."""

    def rows(engagement: Engagement, since: datetime | None) -> Any:
        to = ("broken", "withdrawn") if status == "broken" else (status,)
        found = model("followup", "CommitmentStatusChange").objects.filter(
            commitment__engagement=engagement, commitment__side=side, to_status__in=to
        )
        if since is None:
            return found
        return found.filter(changed_at__gte=stood_since(since) if status == "kept" else since)

    return rows


def commitments(side: str, status: str) -> Collect:
    """Kept (+), kept late (-) or broken (-) commitments of one side."""
    source = commitment_rows(side, status)

    def collect(engagement: Engagement, since: datetime | None) -> Iterator[Fact]:
        held = _held(engagement, "followup.commitmentstatuschange")
        clients = client_people(engagement)
        now = timezone.now()
        rows: Iterable[Any]
        if since is None:
            rows = (
                source(engagement, since)
                .select_related("commitment")
                .order_by("changed_at", "id")
                .iterator(chunk_size=1000)
            )
        else:  # the rows of status_changes (the same order), this indicator's among them
            to = ("broken", "withdrawn") if status == "broken" else (status,)
            lower = stood_since(since) if status == "kept" else since
            rows = (
                change
                for change in _shared(
                    "status_changes",
                    engagement,
                    since,
                    lambda: _window(status_changes, "commitment", engagement, since),
                )
                if change.commitment.side == side
                and change.to_status in to
                and change.changed_at >= lower
            )
        for change in rows:
            if str(change.pk) in held:
                continue
            commitment = change.commitment
            by_itself = _side_of(change.changed_by_id, clients) == side
            params = {"text": commitment.text[:80]}
            link = _commitment_link(engagement, commitment.pk)
            if change.to_status == "withdrawn":
                if by_itself:  # withdrawn without the other side: as good as broken
                    yield Fact(
                        f"{side}_commitment_broken",
                        change.changed_at,
                        0.0,
                        1.0,
                        LABELS["withdrawn"],
                        link,
                        "followup.commitmentstatuschange",
                        str(change.pk),
                        params,
                    )
                continue
            if status != "kept":
                yield Fact(
                    f"{side}_commitment_{status}",
                    change.changed_at,
                    0.0,
                    1.0,
                    LABELS[status],
                    link,
                    "followup.commitmentstatuschange",
                    str(change.pk),
                    params,
                )
                continue
            share = promise_share(commitment.created_at, change.changed_at, commitment.due_date)
            if not by_itself:
                yield Fact(
                    f"{side}_commitment_kept",
                    change.changed_at,
                    share,
                    0.0,
                    LABELS["confirmed"],
                    link,
                    "followup.commitmentstatuschange",
                    str(change.pk),
                    params,
                )
                continue
            if since is None or change.changed_at >= since:
                yield Fact(
                    f"{side}_commitment_kept",
                    change.changed_at,
                    share / 2,
                    0.0,
                    LABELS["kept"],
                    link,
                    "followup.commitmentstatuschange",
                    str(change.pk),
                    params,
                )
            stood = change.changed_at + timedelta(days=CONFIRM_DAYS)
            if stood <= now:
                yield Fact(
                    f"{side}_commitment_kept",
                    stood,
                    share / 2,
                    0.0,
                    LABELS["stood"],
                    link,
                    "followup.commitmentstatuschange" + STOOD,
                    str(change.pk),
                    params,
                )

    return collect


def renegotiation_rows(side: str) -> Rows:
    def rows(engagement: Engagement, since: datetime | None) -> Any:
        found = model("followup", "CommitmentRevision").objects.filter(
            commitment__engagement=engagement, commitment__side=side, version__gte=3
        )
        return found.filter(created_at__gte=since) if since is not None else found

    return rows


def renegotiations(side: str) -> Collect:
    """Each agreed renegotiation of a commitment from its second on: mild negative evidence
    (one change of plan is life; a commitment moved again and again is not being kept)."""
    source = renegotiation_rows(side)

    def collect(engagement: Engagement, since: datetime | None) -> Iterator[Fact]:
        rows = source(engagement, since).select_related("commitment")
        for revision in rows.iterator(chunk_size=1000):
            yield Fact(
                f"{side}_commitment_renegotiated",
                revision.created_at,
                0.0,
                1.0,
                gettext_noop("Commitment renegotiated again (%(n)s times): %(text)s"),
                _commitment_link(engagement, revision.commitment_id),
                "followup.commitmentrevision",
                str(revision.pk),
                {"n": revision.version - 1, "text": revision.commitment.text[:80]},
            )

    return collect


def attendance_rows(side: str) -> Rows:
    """The attendance `attendance(side)` reads (from CONFIRM_DAYS earlier: it may have stood)."""

    def rows(engagement: Engagement, since: datetime | None) -> Any:
        found = model("followup", "MeetingAttendee").objects.filter(
            meeting__engagement=engagement, side=side, attendance__in=("present", "absent")
        )
        return found.filter(recorded_at__gte=stood_since(since)) if since is not None else found

    return rows


def attendance(side: str) -> Collect:
    source = attendance_rows(side)

    def collect(engagement: Engagement, since: datetime | None) -> Iterator[Fact]:
        held = _held(engagement, "followup.meetingattendee")
        clients = client_people(engagement)
        now = timezone.now()
        link = url("followup", engagement)
        rows: Iterable[Any]
        if since is None:
            rows = source(engagement, since).select_related("meeting").iterator(chunk_size=1000)
        else:  # the rows of attendance_changes (ordered by side, then id), this side's
            rows = (
                row
                for row in _shared(
                    "attendance_changes",
                    engagement,
                    since,
                    lambda: _window(attendance_changes, "meeting", engagement, since),
                )
                if row.side == side
            )
        for row in rows:
            if str(row.pk) in held:
                continue
            at = row.recorded_at or row.meeting.starts_at
            params = {"title": row.meeting.title}
            if row.attendance == "absent":
                if since is None or at >= since:
                    yield Fact(
                        f"{side}_attendance",
                        at,
                        0.0,
                        1.0,
                        gettext_noop("Absent from the meeting “%(title)s”"),
                        link,
                        "followup.meetingattendee",
                        str(row.pk),
                        params,
                    )
                continue
            by_itself = _side_of(row.recorded_by_id, clients) == side
            if not by_itself:
                if since is None or at >= since:
                    yield Fact(
                        f"{side}_attendance",
                        at,
                        0.5,
                        0.0,
                        gettext_noop("Present at the meeting “%(title)s”"),
                        link,
                        "followup.meetingattendee",
                        str(row.pk),
                        params,
                    )
                continue
            if since is None or at >= since:
                yield Fact(
                    f"{side}_attendance",
                    at,
                    0.25,
                    0.0,
                    gettext_noop("Present at the meeting “%(title)s” (recorded by that side)"),
                    link,
                    "followup.meetingattendee",
                    str(row.pk),
                    params,
                )
            stood = at + timedelta(days=CONFIRM_DAYS)
            if stood <= now:
                yield Fact(
                    f"{side}_attendance",
                    stood,
                    0.25,
                    0.0,
                    gettext_noop(
                        "Present at the meeting “%(title)s”, left standing by the other side"
                    ),
                    link,
                    "followup.meetingattendee" + STOOD,
                    str(row.pk),
                    params,
                )

    return collect


def late_cancel_rows(side: str) -> Rows:
    def rows(engagement: Engagement, since: datetime | None) -> Any:
        found = model("followup", "Meeting").objects.filter(
            engagement=engagement, status="cancelled", cancelled_by_side=side
        )
        return found.filter(cancelled_at__gte=since) if since is not None else found

    return rows


def late_cancel(side: str) -> Collect:
    source = late_cancel_rows(side)

    def collect(engagement: Engagement, since: datetime | None) -> Iterator[Fact]:
        for meeting in source(engagement, since).iterator(chunk_size=1000):
            if meeting.cancelled_at is None:
                continue
            if meeting.starts_at - meeting.cancelled_at >= timedelta(hours=24):
                continue
            yield Fact(
                f"{side}_cancelled_late",
                meeting.cancelled_at,
                0.0,
                1.0,
                gettext_noop("Meeting “%(title)s” cancelled less than a day before"),
                url("followup", engagement),
                "followup.meeting",
                str(meeting.pk),
                {"title": meeting.title},
            )

    return collect


def payment_rows(on_time: bool) -> Rows:
    def rows(engagement: Engagement, since: datetime | None) -> Any:
        found = model("followup", "Payment").objects.filter(
            engagement=engagement, paid_date__isnull=False
        )
        found = (
            found.filter(paid_date__lte=F("due_date"))
            if on_time
            else found.filter(paid_date__gt=F("due_date"))
        )
        return found.filter(paid_recorded_at__gte=since) if since is not None else found

    return rows


def payments(on_time: bool) -> Collect:
    source = payment_rows(on_time)

    def collect(engagement: Engagement, since: datetime | None) -> Iterator[Fact]:
        held = _held(engagement, "followup.payment")
        rows: Iterable[Any]
        if since is None:
            rows = source(engagement, since).iterator(chunk_size=1000)
        else:  # the rows of payment_changes (the same order), those paid since, on time or not
            rows = (
                payment
                for payment in _payments_window(engagement, since)
                if payment.paid_date is not None
                and (payment.paid_date <= payment.due_date) == on_time
                and payment.paid_recorded_at is not None
                and payment.paid_recorded_at >= since
            )
        for payment in rows:
            if str(payment.pk) in held:
                continue
            yield Fact(
                "payment_on_time" if on_time else "payment_late",
                noon(payment.paid_date),
                1.0 if on_time else 0.0,
                0.0 if on_time else 1.0,
                gettext_noop("“%(label)s” paid by its due date")
                if on_time
                else gettext_noop("“%(label)s” paid after its due date"),
                url("followup", engagement),
                "followup.payment",
                str(payment.pk),
                {"label": payment.label},
            )

    return collect


def overdue_rows(engagement: Engagement, since: datetime | None) -> Any:
    """Payments a week or more past due: unpaid ones, and those paid since the last read."""
    rows = model("followup", "Payment").objects.filter(
        engagement=engagement, due_date__lt=overdue_before()
    )
    if since is None:
        return rows
    return rows.filter(Q(paid_date__isnull=True) | Q(paid_recorded_at__gte=since))


def payment_overdue(engagement: Engagement, since: datetime | None) -> Iterator[Fact]:
    """Each full week a payment stays unpaid past its due date (counted while it is unpaid, and
    kept once paid: the weeks of waiting happened)."""
    today = timezone.localdate()
    first_not_overdue = overdue_before()
    link = url("followup", engagement)
    rows: Iterable[Any]
    if since is None:
        rows = overdue_rows(engagement, since).iterator(chunk_size=1000)
    else:  # the rows of payment_changes (the same order), those a week or more past due
        rows = (
            payment
            for payment in _payments_window(engagement, since)
            if payment.due_date < first_not_overdue
            and (
                payment.paid_date is None
                or (payment.paid_recorded_at is not None and payment.paid_recorded_at >= since)
            )
        )
    for payment in rows:
        end = payment.paid_date or today
        weeks = (end - payment.due_date).days // 7
        for week in range(1, weeks + 1):
            day = payment.due_date + timedelta(days=7 * week)
            yield Fact(
                "payment_overdue",
                noon(day),
                0.0,
                1.0,
                gettext_noop("“%(label)s” still unpaid %(n)s week(s) after its due date"),
                link,
                "followup.payment.week",
                f"{payment.pk}:{week}",
                {"label": payment.label, "n": week},
            )
