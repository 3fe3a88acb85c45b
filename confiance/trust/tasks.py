"""Background tasks of the trust model: updates, the daily refresh, alerts sent once."""

from __future__ import annotations

from django_tasks import task

from confiance.core.notices import notify
from confiance.core.queries import Prepared
from confiance.engagements.models import Engagement
from confiance.trust.models import TrustSettings, TrustSnapshot


@task()
def trust_update_task(engagement_id: int) -> int:
    """Fold the engagement's new facts into its trust state, then check its alerts."""
    from confiance.trust.live import trust_update_started
    from confiance.trust.services import trust_check_alerts, trust_update

    trust_update_started(engagement_id)
    engagement = Engagement.objects.select_related("workspace", "lead").get(pk=engagement_id)
    recorded = trust_update(engagement=engagement)
    trust_check_alerts(engagement=engagement)
    return recorded


# Asked of every engagement at every refresh: compiled once per process.
_HAS_SNAPSHOT = Prepared(
    lambda engagement: (
        TrustSnapshot.objects.filter(engagement_id=engagement).order_by().values_list("pk")[:1]
    ),
    engagement=int,
)


@task()
def trust_refresh_all() -> int:
    """The periodic refresh (run hourly by the worker's schedule): update, snapshot, alerts."""
    from django.utils import timezone

    from confiance.trust.services import (
        ACTIVE_STATUSES,
        trust_backfill_snapshots,
        trust_settings_for,
        trust_snapshot_and_check,
        trust_update,
    )

    engagements = Engagement.objects.filter(status__in=ACTIVE_STATUSES).select_related(
        "workspace", "lead"
    )
    settings_by_ws: dict[int, TrustSettings] = {}  # read once per workspace and refresh

    def settings_of(engagement: Engagement) -> TrustSettings:
        workspace_id = engagement.workspace_id
        if workspace_id not in settings_by_ws:
            settings_by_ws[workspace_id] = trust_settings_for(workspace_id)
        return settings_by_ws[workspace_id]

    recorded = 0
    for engagement in engagements.iterator(chunk_size=200):
        recorded += trust_update(engagement=engagement, settings=settings_of(engagement))
        if not _HAS_SNAPSHOT.rows(engagement=engagement.pk):
            # First run on an engagement with history: draw its trend from the facts.
            trust_backfill_snapshots(engagement=engagement)
    # Every engagement updated first (a returning client's base rate reads its earlier
    # engagements' states), then each one's snapshot of the day and alert check, which share the
    # opinions they both read.
    day = timezone.localdate()
    for engagement in engagements.iterator(chunk_size=200):
        trust_snapshot_and_check(
            engagement=engagement, settings=settings_of(engagement), day=day, now=timezone.now()
        )
    return recorded


@task()
def trust_rebuild_workspace(workspace_id: int) -> None:
    """After the weights changed: read every source again and redraw the trend."""
    from confiance.trust.models import TrustSnapshot
    from confiance.trust.services import trust_backfill_snapshots, trust_rebuild

    TrustSnapshot.objects.filter(workspace_id=workspace_id).delete()
    for engagement in (
        Engagement.objects.filter(workspace_id=workspace_id)
        .select_related("workspace")
        .iterator(chunk_size=200)
    ):
        trust_rebuild(engagement=engagement)
        trust_backfill_snapshots(engagement=engagement)


@task()
def send_trust_alert(alert_id: int, again: str = "") -> None:
    """Tell who should act, in the app and by e-mail, when the alert opens; `again` ("worse",
    "snooze_over") when a snooze ends and the cause still holds."""
    from confiance.trust.models import TrustAlert
    from confiance.trust.services import _recipients

    alert = TrustAlert.objects.select_related("engagement__workspace", "engagement__lead").get(
        pk=alert_id
    )
    engagement = alert.engagement
    notify(
        workspace_id=engagement.workspace_id,
        users=_recipients(engagement),
        kind="trust.alert",
        params={
            "engagement": engagement.title,
            "kind": alert.kind,
            "reason": alert.reason,
            "reason_params": alert.reason_params,
            "again": again,
        },
        link=alert.link,
    )
