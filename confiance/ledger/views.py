"""Pages of the ledger: name or remove a witness of an engagement's ledger (both sides)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from confiance import access
from confiance.core.decorators import workspace_view
from confiance.core.models import Membership
from confiance.ledger import witnessing
from confiance.ledger.models import Witness


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
