"""Pages of the ledger: the workspace's signing key and its rotation; name or remove a witness
of an engagement's ledger (both sides)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from confiance import access
from confiance.core.decorators import workspace_view
from confiance.core.models import Membership
from confiance.engagements.models import Engagement
from confiance.ledger import prepared, services, witnessing
from confiance.ledger.api import bundle_file, bundle_stream
from confiance.ledger.models import Witness, WorkspaceKey


def _back(membership: Membership, pk: int) -> HttpResponse:
    url = reverse("consumption", kwargs={"ws": membership.workspace.slug, "pk": pk})
    return redirect(f"{url}#ledger")


@require_POST
@workspace_view()
def witness_add(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """Add a witness from the Ledger section's form; errors come back as messages."""
    engagement = access.get_engagement(membership, pk)
    if not witnessing.can_manage_witnesses(membership, engagement):
        raise Http404
    try:
        witness = witnessing.witness_add(
            membership=membership,
            engagement=engagement,
            verifier_key=request.POST.get("verifier_key", ""),
            url=request.POST.get("url", ""),
        )
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
    except PermissionDenied:
        raise Http404 from None
    else:
        messages.success(
            request,
            _("Witness %(name)s added: it will cosign the next checkpoints.")
            % {"name": witness.name},
        )
    return _back(membership, pk)


@require_POST
@workspace_view()
def witness_remove(
    request: HttpRequest, membership: Membership, pk: int, witness_id: int
) -> HttpResponse:
    """Remove a witness the member's own side added."""
    engagement = access.get_engagement(membership, pk)
    witness = Witness.objects.filter(pk=witness_id, engagement=engagement).first()
    if witness is None:
        raise Http404
    try:
        witnessing.witness_remove(membership=membership, witness=witness)
    except PermissionDenied:
        raise Http404 from None
    messages.success(request, _("Witness %(name)s removed.") % {"name": witness.name})
    return _back(membership, pk)


def _key_page(
    request: HttpRequest, membership: Membership, error: str = "", status: int = 200
) -> HttpResponse:
    workspace = membership.workspace
    current = services.workspace_key_get_or_create(workspace=workspace)
    retired = WorkspaceKey.objects.filter(workspace=workspace, retired_at__isnull=False)
    return render(
        request,
        "ledger/signing_key.html",
        {
            "current": current,
            "retired": list(retired.select_related("rotated_by").order_by("-retired_at")),
            "may_rotate": access.can_rotate_ledger_key(membership),
            "error": error,
            "reason": request.POST.get("reason", "") if error else "",
        },
        status=status,
    )


@workspace_view(access.can_see_ledger_key)
def signing_key(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The key that signs every ledger of the workspace and its history.

    Every reader of a ledger sees it (a client contact checks bundles with it); a rotation is
    announced in each log, signed by the old key, so browsers and `confiance verify` follow it.
    """
    return _key_page(request, membership)


@require_POST
@workspace_view(access.can_rotate_ledger_key)
def signing_key_rotate(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The owner replaces the signing key, with a reason both sides read."""
    try:
        services.workspace_key_rotate(
            workspace=membership.workspace,
            actor=membership.user,
            reason=request.POST.get("reason", ""),
        )
    except ValidationError as exc:
        return _key_page(request, membership, " ".join(exc.messages), status=400)
    messages.success(
        request,
        _(
            "The signing key was replaced. Each ledger announces the change, signed by the "
            "previous key."
        ),
    )
    return redirect("ledger-key", ws=membership.workspace.slug)


def _bundle_answer(membership: Membership, pk: int) -> tuple[Engagement, prepared.BundleAnswer]:
    engagement = access.get_engagement(membership, pk)
    return engagement, prepared.bundle_prepare(membership=membership, engagement=engagement)


@require_GET
@workspace_view()
def bundle_download(request: HttpRequest, membership: Membership, pk: int) -> HttpResponseBase:
    """The reader's ledger bundle: at once for a small log, else once the worker prepared it.

    Whoever sees the engagement (both sides) gets the openings they may see, as from the API.
    While a large log's bundle is prepared, a page shows the progress and then the link.
    """
    engagement, answer = _bundle_answer(membership, pk)
    if answer.inline:
        return bundle_stream(membership, engagement, answer.size)
    if answer.ready and answer.bundle is not None:
        response = bundle_file(request, engagement, answer.bundle)
        if response is not None:
            return response
    context = {"engagement": engagement, "answer": answer}
    return render(request, "ledger/bundle_preparing.html", context)


@require_GET
@workspace_view()
def bundle_progress(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """The progress of a bundle being prepared (polled by htmx), then its download link."""
    engagement, answer = _bundle_answer(membership, pk)
    context = {"engagement": engagement, "answer": answer}
    return render(request, "ledger/bundle_preparing.html#progress", context)
