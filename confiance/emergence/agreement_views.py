"""Pages of the agreement: read and co-edit it clause by clause, compare versions, accept, PDF."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from confiance.core.decorators import workspace_view
from confiance.core.models import Membership
from confiance.emergence import selectors, services
from confiance.emergence.agreement_pdf import agreement_pdf
from confiance.emergence.forms import (
    AcceptForm,
    AgreementStartForm,
    ClauseCommentForm,
    ClauseForm,
    ClauseRemoveForm,
    TermsForm,
)
from confiance.emergence.models import Opportunity
from confiance.emergence.views import _submit


def _to_agreement(membership: Membership, opportunity: Opportunity, anchor: str = "") -> Any:
    response = redirect("agreement", ws=membership.workspace.slug, pk=opportunity.pk)
    if anchor:
        response["Location"] += f"#{anchor}"
    return response


def _page(
    request: HttpRequest,
    membership: Membership,
    opportunity: Opportunity,
    status: int = 200,
    bound: dict[str, forms.Form] | None = None,
) -> HttpResponse:
    """The agreement page; `bound` holds a refused form (by its id) to show with its errors."""
    bound = bound or {}
    view = selectors.agreement_view(opportunity=opportunity, fetched_by=membership)
    perms = selectors.permissions(opportunity=opportunity, fetched_by=membership)
    context: dict[str, Any] = {
        "opportunity": opportunity,
        "perms": perms,
        "view": view,
        "start_form": bound.get("start") or AgreementStartForm(),
        "can_start": perms.steer and opportunity.phase in services.AGREEMENT_PHASES,
    }
    if view is not None:
        number = view.latest.number
        terms = view.latest.terms
        context["terms_form"] = bound.get("terms") or TermsForm(
            initial={
                "base_version": number,
                "objectives": "\n".join(terms.get("objectives", [])),
                **{name: terms.get(name) for name in services.agreements.TERM_BOUNDS},
            },
            auto_id="id_terms_%s",
        )
        context["clause_forms"] = [
            (
                clause,
                bound.get(f"edit-{clause.key}")
                or ClauseForm(
                    initial={"base_version": number, "title": clause.title, "text": clause.text},
                    auto_id=f"id_{clause.key}_%s",
                ),
                bound.get(f"remove-{clause.key}")
                or ClauseRemoveForm(
                    initial={"base_version": number}, auto_id=f"id_rm_{clause.key}_%s"
                ),
                bound.get(f"comment-{clause.key}")
                or ClauseCommentForm(auto_id=f"id_c_{clause.key}_%s"),
            )
            for clause in view.clauses
        ]
        context["terms_comment_form"] = bound.get("comment-terms") or ClauseCommentForm(
            auto_id="id_c_terms_%s"
        )
        context["add_form"] = bound.get("add") or ClauseForm(
            initial={"base_version": number}, auto_id="id_new_%s"
        )
        context["accept_form"] = AcceptForm(
            initial={"version": number, "sha256": view.latest.sha256}
        )
        context["accept_errors"] = bound.get("accept")
    return render(request, "emergence/agreement.html", context, status=status)


@workspace_view()
def agreement(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """The agreement as it stands: terms, clauses with their comments, versions, acceptances."""
    opportunity = selectors.opportunity_get(fetched_by=membership, pk=pk)
    return _page(request, membership, opportunity)


def _post(
    request: HttpRequest,
    membership: Membership,
    pk: int,
    form_id: str,
    form: forms.Form,
    call: Callable[[Opportunity, dict[str, Any]], object],
    done: str,
    anchor: str = "",
    steer: bool = False,
) -> HttpResponse:
    """A write on the agreement: those who may not make it get a 404, as for any other write."""
    opportunity = selectors.opportunity_get(fetched_by=membership, pk=pk)
    perms = selectors.permissions(opportunity=opportunity, fetched_by=membership)
    if not (perms.steer if steer else perms.speak or form_id == "accept"):
        raise Http404
    try:
        ok = _submit(request, form, lambda data: call(opportunity, data), done)
    except PermissionDenied:
        raise Http404 from None
    if ok:
        return _to_agreement(membership, opportunity, anchor)
    return _page(request, membership, opportunity, status=400, bound={form_id: form})


@require_POST
@workspace_view()
def agreement_start(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    return _post(
        request,
        membership,
        pk,
        "start",
        AgreementStartForm(request.POST),
        lambda o, data: services.agreement_start(
            membership=membership, opportunity=o, language=data["language"]
        ),
        _("The agreement is started from the template: write it together."),
        steer=True,
    )


@require_POST
@workspace_view()
def clause_edit(request: HttpRequest, membership: Membership, pk: int, key: str) -> HttpResponse:
    return _post(
        request,
        membership,
        pk,
        f"edit-{key}",
        ClauseForm(request.POST, auto_id=f"id_{key}_%s"),
        lambda o, data: services.clause_edit(membership=membership, opportunity=o, key=key, **data),
        _("Clause changed: a new version, and earlier acceptances are void."),
        f"clause-{key}",
    )


@require_POST
@workspace_view()
def clause_add(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    return _post(
        request,
        membership,
        pk,
        "add",
        ClauseForm(request.POST, auto_id="id_new_%s"),
        lambda o, data: services.clause_add(membership=membership, opportunity=o, **data),
        _("Clause added: a new version, and earlier acceptances are void."),
    )


@require_POST
@workspace_view()
def clause_remove(request: HttpRequest, membership: Membership, pk: int, key: str) -> HttpResponse:
    return _post(
        request,
        membership,
        pk,
        f"remove-{key}",
        ClauseRemoveForm(request.POST, auto_id=f"id_rm_{key}_%s"),
        lambda o, data: services.clause_remove(
            membership=membership, opportunity=o, key=key, **data
        ),
        _("Clause removed: a new version, and earlier acceptances are void."),
    )


@require_POST
@workspace_view()
def clause_comment(request: HttpRequest, membership: Membership, pk: int, key: str) -> HttpResponse:
    return _post(
        request,
        membership,
        pk,
        f"comment-{key}",
        ClauseCommentForm(request.POST, auto_id=f"id_c_{key}_%s"),
        lambda o, data: services.clause_comment(
            membership=membership, opportunity=o, key=key, body=data["body"]
        ),
        _("Comment added."),
        f"clause-{key}",
    )


@require_POST
@workspace_view()
def terms_set(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    return _post(
        request,
        membership,
        pk,
        "terms",
        TermsForm(request.POST, auto_id="id_terms_%s"),
        lambda o, data: services.terms_set(membership=membership, opportunity=o, **data),
        _("Terms changed: a new version, and earlier acceptances are void."),
        "terms",
    )


@require_POST
@workspace_view()
def agreement_accept(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    opportunity = selectors.opportunity_get(fetched_by=membership, pk=pk)
    if services.acceptance_side(membership, opportunity) is None:
        raise Http404
    form = AcceptForm(request.POST)
    return _post(
        request,
        membership,
        pk,
        "accept",
        form,
        lambda o, data: services.agreement_accept(
            membership=membership,
            opportunity=o,
            version_number=data["version"],
            sha256=data["sha256"],
        ),
        _("You accepted this version for your side."),
        "acceptances",
    )


@workspace_view()
def agreement_diff(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """What changed between any two versions (?a=&b=), clause by clause."""
    opportunity = selectors.opportunity_get(fetched_by=membership, pk=pk)
    view = selectors.agreement_view(opportunity=opportunity, fetched_by=membership)
    if view is None:
        raise Http404
    latest = view.latest.number

    def number(name: str, default: int) -> int:
        try:
            return int(request.GET.get(name, default))
        except ValueError:
            return -1

    first, second = number("a", max(1, latest - 1)), number("b", latest)
    old, new, sections = selectors.agreement_diff(
        agreement=view.agreement, first=first, second=second
    )
    context = {
        "opportunity": opportunity,
        "view": view,
        "old": old,
        "new": new,
        "sections": sections,
    }
    return render(request, "emergence/agreement_diff.html", context)


@workspace_view()
def agreement_download(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """The agreement's latest version as a PDF, with its SHA-256 and the acceptances."""
    opportunity = selectors.opportunity_get(fetched_by=membership, pk=pk)
    view = selectors.agreement_view(opportunity=opportunity, fetched_by=membership)
    if view is None:
        raise Http404
    data = agreement_pdf(view=view, opportunity=opportunity)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="agreement-{opportunity.pk}-v{view.latest.number}.pdf"'
    )
    return response
