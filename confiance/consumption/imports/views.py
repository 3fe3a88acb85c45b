"""Pages of the CSV import: upload, preview and result of a job, confirmation, progress partial.

Only those who may log time for others on the engagement (its lead, the owner) reach them;
everyone else gets a 404, as for anything out of reach.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from confiance import access
from confiance.consumption import services as consumption_services
from confiance.consumption.imports import selectors, services
from confiance.consumption.imports.forms import FORMAT_CHOICES, ImportForm
from confiance.consumption.models import ImportJob
from confiance.core.decorators import workspace_view
from confiance.core.forms import add_service_errors
from confiance.core.models import Membership
from confiance.engagements.models import Engagement

RECENT_IMPORTS = 10
DETAIL_TEMPLATE = "consumption/imports/import_detail.html"


def _engagement(membership: Membership, pk: int) -> Engagement:
    engagement = access.get_engagement(membership, pk)
    if not access.can_log_time_for_others(membership, engagement):
        raise Http404
    return engagement


def _job_context(membership: Membership, engagement: Engagement, job: ImportJob) -> dict[str, Any]:
    return {
        "engagement": engagement,
        "job": job,
        "preview": job.preview,
        # "auto" stays only when no layout was recognised.
        "format_label": dict(FORMAT_CHOICES[1:]).get(job.source_format, "—"),
        "problems": selectors.import_problems(job),
        "progress": selectors.import_progress(job),
        "interrupted": selectors.import_interrupted(job),
    }


@require_http_methods(["GET", "POST"])
@workspace_view()
def import_upload(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """Choose a file (and its format); the next page previews what importing it would do."""
    engagement = _engagement(membership, pk)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.import_prepare(
                membership=membership,
                engagement=engagement,
                file=upload,
                filename=upload.name,
                source_format=form.cleaned_data["source_format"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect(
                "import-detail", ws=membership.workspace.slug, pk=engagement.pk, job_id=job.pk
            )
    context = {
        "engagement": engagement,
        "form": form,
        # A closed (or stopped, or draft) engagement takes no time: no upload form.
        "writable": engagement.status in consumption_services.LOGGABLE_STATUSES,
        "jobs": selectors.import_job_list(fetched_by=membership, engagement=engagement)[
            :RECENT_IMPORTS
        ],
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "consumption/imports/import_upload.html", context, status=status)


@require_GET
@workspace_view()
def import_detail(
    request: HttpRequest, membership: Membership, pk: int, job_id: int
) -> HttpResponse:
    """One import: its errors, or its preview and the confirmation, or its progress and result."""
    engagement = _engagement(membership, pk)
    job = selectors.import_job_get(fetched_by=membership, engagement=engagement, job_id=job_id)
    return render(request, DETAIL_TEMPLATE, _job_context(membership, engagement, job))


@require_POST
@workspace_view()
def import_confirm(
    request: HttpRequest, membership: Membership, pk: int, job_id: int
) -> HttpResponse:
    engagement = _engagement(membership, pk)
    job = selectors.import_job_get(fetched_by=membership, engagement=engagement, job_id=job_id)
    try:
        services.import_confirm(membership=membership, job=job)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    return redirect("import-detail", ws=membership.workspace.slug, pk=engagement.pk, job_id=job.pk)


@require_GET
@workspace_view()
def import_progress(
    request: HttpRequest, membership: Membership, pk: int, job_id: int
) -> HttpResponse:
    """The progress bar and counts (polled by htmx while the import is queued or running)."""
    engagement = _engagement(membership, pk)
    job = selectors.import_job_get(fetched_by=membership, engagement=engagement, job_id=job_id)
    return render(request, DETAIL_TEMPLATE + "#progress", _job_context(membership, engagement, job))
