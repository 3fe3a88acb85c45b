"""Background tasks of the closure: tell the provider that the client approved for payment."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from django_tasks import task

from confiance.closure.models import ClosureApproval
from confiance.core.notices import notify


@task()
def notify_closure_approved(approval_id: int, in_history: bool = False) -> None:
    """The engagement lead and whoever started the closure get a notice and an e-mail (an
    approval recorded in history, the demo's, is told with its date and no e-mail today)."""
    approval = ClosureApproval.objects.select_related(
        "approved_by",
        "closure__started_by",
        "closure__engagement__workspace",
        "closure__engagement__lead",
    ).get(pk=approval_id)
    engagement = approval.closure.engagement
    recipients = [approval.closure.started_by, engagement.lead]
    link = reverse("closure", kwargs={"ws": engagement.workspace.slug, "pk": engagement.pk})
    notify(
        workspace_id=engagement.workspace_id,
        users=sorted((u for u in recipients if u is not None), key=lambda u: u.pk),
        kind="closure.approved",
        params={
            "engagement": engagement.title,
            "who": approval.approved_by.get_full_name(),
            "hash": approval.analysis_hash,
        },
        link=link,
        at=approval.approved_at if in_history else None,
    )


def closure_approved_text(params: dict[str, str]) -> str:
    return _("%(engagement)s: %(who)s approved the closure for payment.") % {
        "engagement": params.get("engagement", ""),
        "who": params.get("who", ""),
    }


def closure_approved_details(params: dict[str, Any]) -> list[str]:
    if not params.get("hash"):
        return []
    return [_("Approved analysis (SHA-256): %(hash)s") % {"hash": params["hash"]}]
