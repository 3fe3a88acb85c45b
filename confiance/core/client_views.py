"""Client organisations: the list, one client's page (its contacts and engagements at a glance).

The provider's people see every client; a client contact sees only its own organisation's
page: each of its engagements' consumption, trust, open problems and next commitment due.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from confiance import access
from confiance.core import selectors, services
from confiance.core.decorators import workspace_view
from confiance.core.forms import ClientForm, add_service_errors
from confiance.core.models import Client, Membership
from confiance.engagements.glance import glance
from confiance.engagements.selectors import engagement_table_page
from confiance.engagements.tables import client_rows


@workspace_view(check=access.is_internal)
def client_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Every client of the workspace; POST creates one."""
    manage = access.can_manage_clients(membership)
    form = ClientForm(request.POST or None) if manage else None
    if request.method == "POST":
        if form is None:
            raise Http404
        if form.is_valid():
            try:
                client = services.client_create(membership=membership, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Client %(name)s created.") % {"name": client.name})
                return redirect("client-detail", ws=membership.workspace.slug, pk=client.pk)
    status = 400 if request.method == "POST" else 200
    context = {"clients": selectors.client_overview(fetched_by=membership), "form": form}
    return render(request, "core/client_list.html", context, status=status)


def _client_page(
    request: HttpRequest,
    membership: Membership,
    client: Client,
    rename_form: ClientForm | None = None,
    status: int = 200,
) -> HttpResponse:
    manage = access.can_manage_clients(membership)
    # Fifty engagements a page, as the engagement list: the page costs the same for a client
    # of three engagements and for one of three hundred.
    page = engagement_table_page(
        fetched_by=membership, number=request.GET.get("page"), client_id=client.pk
    )
    engagements = list(page.object_list)
    figures = glance(fetched_by=membership, engagements=engagements)
    rows = [figures[e.pk] for e in engagements]
    context = {
        "client": client,
        "manage": manage,
        "contacts": selectors.client_contacts(fetched_by=membership, client=client),
        "invitations": [
            i
            for i in selectors.pending_invitations(fetched_by=membership)
            if i.client_id == client.pk
        ],
        "rows": rows,
        "page": page,
        "table_rows": client_rows(rows, workspace_slug=membership.workspace.slug),
        "rename_form": rename_form
        or (ClientForm(initial={"name": client.name}, prefix="rename") if manage else None),
        "can_invite": access.can_invite(membership, "client") and client.archived_at is None,
    }
    return render(request, "core/client_detail.html", context, status=status)


@workspace_view()
def client_detail(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """One client: its contacts and its engagements at a glance (also the client's own page)."""
    client = selectors.client_get(fetched_by=membership, client_id=pk)
    return _client_page(request, membership, client)


@require_POST
@workspace_view(check=access.can_manage_clients)
def client_rename(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    client = selectors.client_get(fetched_by=membership, client_id=pk)
    form = ClientForm(request.POST, prefix="rename")
    if form.is_valid():
        try:
            services.client_rename(membership=membership, client_id=client.pk, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Client renamed."))
            return redirect("client-detail", ws=membership.workspace.slug, pk=client.pk)
    return _client_page(request, membership, client, rename_form=form, status=400)


@require_POST
@workspace_view(check=access.can_manage_clients)
def client_archive(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """Archive the client, or restore it with `restore=1`."""
    client = selectors.client_get(fetched_by=membership, client_id=pk)
    archived = request.POST.get("restore") != "1"
    try:
        services.client_set_archived(membership=membership, client_id=client.pk, archived=archived)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Client archived.") if archived else _("Client restored."))
    return redirect("client-detail", ws=membership.workspace.slug, pk=client.pk)
