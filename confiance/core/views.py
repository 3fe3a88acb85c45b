"""Core pages: home, first run, invitations, members, API tokens. Thin: parse, call, render."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.i18n import set_language

from confiance import access
from confiance.core import erasure as erasure_service
from confiance.core import selectors, services, totp
from confiance.core.decorators import workspace_view
from confiance.core.forms import (
    AcceptInvitationForm,
    ErasureForm,
    InvitationForm,
    NoticePreferencesForm,
    SetupForm,
    TokenForm,
    TwoFactorForm,
    WorkspaceSettingsForm,
    add_service_errors,
)
from confiance.core.links import public_base_url
from confiance.core.models import ApiToken, Invitation, Membership, Role, User


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def home(request: HttpRequest) -> HttpResponse:
    """Send each person to the right place: setup, log-in, their workspace."""
    if not User.objects.exists():
        return redirect("setup")
    if not request.user.is_authenticated:
        return redirect("login")
    memberships = list(selectors.memberships_of(user=request.user))  # type: ignore[arg-type]
    if len(memberships) == 1:
        return redirect("workspace-home", ws=memberships[0].workspace.slug)
    return render(request, "core/home.html", {"memberships": memberships})


def setup(request: HttpRequest) -> HttpResponse:
    """First run: create the first workspace and its owner; gone once anyone exists."""
    if User.objects.exists():
        raise Http404
    form = SetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user, workspace = services.first_run_setup(**form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome. Your workspace is ready."))
            return redirect("engagement-list", ws=workspace.slug)
    return render(request, "core/setup.html", {"form": form})


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Join a workspace through an invitation link (signed, single-use, expiring)."""
    try:
        invitation = services.invitation_from_token(token)
    except services.InvitationError as error:
        return render(request, "core/invitation_invalid.html", {"reason": str(error)}, status=410)
    user = request.user if request.user.is_authenticated else None
    if user is None and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
        # A newcomer who chose no language yet reads the page in the one they were invited in.
        translation.activate(invitation.language or settings.LANGUAGE_CODE)
        request.LANGUAGE_CODE = translation.get_language()
    wrong_account = user is not None and user.email != invitation.email  # type: ignore[union-attr]
    form = AcceptInvitationForm(request.POST or None) if user is None else None
    if request.method == "POST" and not wrong_account and (form is None or form.is_valid()):
        fields = form.cleaned_data if form is not None else {}
        try:
            membership = services.invitation_accept(token=token, user=user, **fields)  # type: ignore[arg-type]
        except services.InvitationError as error:
            return render(
                request, "core/invitation_invalid.html", {"reason": str(error)}, status=410
            )
        response = redirect("workspace-home", ws=invitation.workspace.slug)
        if user is None:
            login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            # Their pages go on in the language their account was created in.
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                membership.user.language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            )
        messages.success(
            request, _("Welcome to %(workspace)s.") % {"workspace": invitation.workspace}
        )
        return response
    return render(
        request,
        "core/invitation_accept.html",
        {"invitation": invitation, "form": form, "wrong_account": wrong_account},
    )


@workspace_view(check=access.can_see_members)
def members(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The workspace's people and pending invitations; POST invites someone."""
    roles = access.invitable_roles(membership)
    # "Invite a contact" on a client's page arrives with ?role=client&client=<id>.
    initial = {k: request.GET[k] for k in ("role", "client") if request.GET.get(k)}
    form = InvitationForm(
        request.POST or None,
        roles=roles,
        clients=selectors.client_list(fetched_by=membership),
        initial=initial,
    )
    issued_link = None
    if request.method == "POST":
        if not roles:
            raise Http404
        if form.is_valid():
            try:
                issued = services.invitation_create(
                    membership=membership,
                    base_url=public_base_url(request),
                    **form.cleaned_data,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("Invitation sent to %(email)s.") % {"email": issued.invitation.email},
                )
                issued_link = issued.link
                form = InvitationForm(
                    roles=roles, clients=selectors.client_list(fetched_by=membership)
                )
    context = {
        "members": selectors.member_list(fetched_by=membership),
        "invitations": selectors.pending_invitations(fetched_by=membership),
        "form": form if roles else None,
        "issued_link": issued_link,
    }
    status = 400 if request.method == "POST" and issued_link is None else 200
    return render(request, "core/members.html", context, status=status)


@require_POST
@workspace_view(check=access.can_invite)
def invitation_revoke(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    try:
        invitation = services.invitation_revoke(membership=membership, invitation_id=pk)
    except Invitation.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("Invitation to %(email)s withdrawn.") % {"email": invitation.email})
    return redirect("members", ws=membership.workspace.slug)


@workspace_view(check=access.can_use_api_tokens)
def tokens(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Personal API tokens: list, and create one (its value is shown once)."""
    form = TokenForm(request.POST or None)
    plaintext = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, plaintext = services.api_token_create(
                membership=membership, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            form = TokenForm()
    context = {
        "tokens": selectors.token_list(fetched_by=membership),
        "form": form,
        "plaintext": plaintext,
        "api_docs": reverse("api:openapi-view"),
    }
    return render(request, "core/tokens.html", context)


@require_POST
@workspace_view(check=access.can_use_api_tokens)
def token_revoke(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    try:
        services.api_token_revoke(membership=membership, token_id=pk)
    except ApiToken.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("Token revoked."))
    return redirect("tokens", ws=membership.workspace.slug)


@login_required
def workspace_home(request: HttpRequest, ws: str) -> HttpResponse:
    membership = access.require_membership(request.user, ws)  # type: ignore[arg-type]
    # Experts reach only the opportunities they were invited to: that is their home.
    if membership.role == Role.EXPERT:
        return redirect("opportunity-list", ws=ws)
    return redirect("engagement-list", ws=ws)


def _is_owner(membership: Membership) -> bool:
    return membership.role == "owner"


@workspace_view(check=_is_owner)
def workspace_settings(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The workspace's settings (owner only)."""
    workspace = membership.workspace
    initial = {name: getattr(workspace, name) for name in WorkspaceSettingsForm.base_fields}
    form = WorkspaceSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        changed = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            if changed:
                services.workspace_update(membership=membership, **changed)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Settings saved."))
            return redirect("workspace-settings", ws=workspace.slug)
    status = 400 if request.method == "POST" else 200
    return render(request, "core/workspace_settings.html", {"form": form}, status=status)


@login_required
def notice_preferences(request: HttpRequest) -> HttpResponse:
    """How each group of notices reaches the person by e-mail: at once, daily digest, off."""
    user = request.user
    assert isinstance(user, User)
    form = NoticePreferencesForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            services.notice_preferences_set(user=user, modes=form.modes(), actor=user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Your e-mail preferences are saved."))
            return redirect("notice-preferences")
    status = 400 if request.method == "POST" else 200
    return render(request, "core/notice_preferences.html", {"form": form}, status=status)


@csrf_exempt  # the signed token is the credential; mail clients POST it in one click (RFC 8058)
def notice_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """Turn off one group of e-mails (or all) from the link in an e-mail, without logging in."""
    from confiance.core.notices import ALL_GROUPS, notice_groups, unsubscribe_read

    found = unsubscribe_read(token)
    user = User.objects.filter(pk=found[0]).first() if found else None
    if found is None or user is None:
        raise Http404
    group = found[1]
    labels = dict(notice_groups())
    name = _("all notices") if group == ALL_GROUPS else labels.get(group, group)
    done = False
    if request.method == "POST":
        modes = {g: "off" for g in labels} if group == ALL_GROUPS else {group: "off"}
        services.notice_preferences_set(user=user, modes=modes, actor=None)
        done = True
    return render(
        request,
        "core/notice_unsubscribe.html",
        {"group_name": name, "done": done, "email": user.email},
    )


def language_set(request: HttpRequest) -> HttpResponse:
    """The language switch: this browser's language, and the person's for notices and e-mails."""
    response = set_language(request)
    language = request.POST.get("language", "")
    if (
        request.method == "POST"
        and request.user.is_authenticated
        and language in dict(settings.LANGUAGES)
    ):
        assert isinstance(request.user, User)
        services.user_language_set(user=request.user, language=language)
    return response


@workspace_view(check=access.can_see_schedule)
@require_GET
def schedule(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The periodic jobs the worker runs: when each last ran, how it went, when it runs next."""
    from confiance.core.schedule import schedule_rows

    return render(request, "core/schedule.html", {"rows": schedule_rows()})


TOTP_PENDING = "totp-pending-secret"


@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """Turn the optional second factor (an authenticator app's 6-digit code) on or off."""
    user = request.user
    assert isinstance(user, User)
    form = TwoFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        try:
            if user.totp_secret:
                services.user_totp_disable(user=user, code=code)
                messages.success(request, _("Two-factor authentication is off."))
            else:
                secret = request.session.get(TOTP_PENDING, "")
                services.user_totp_enable(user=user, secret=secret, code=code)
                request.session.pop(TOTP_PENDING, None)
                messages.success(request, _("Two-factor authentication is on."))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("two-factor")
    secret = ""
    if not user.totp_secret:
        secret = request.session.get(TOTP_PENDING) or totp.new_secret()
        request.session[TOTP_PENDING] = secret
    context = {
        "form": form,
        "enabled": bool(user.totp_secret),
        "secret": secret,
        "uri": totp.provisioning_uri(secret, account=user.email, issuer="Confiance")
        if secret
        else "",
    }
    return render(
        request,
        "core/two_factor.html",
        context,
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@workspace_view(check=access.can_remove_members)
def member_remove(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """The owner removes someone: access ends at once, their history stays theirs."""
    try:
        removed = services.membership_remove(by=membership, membership_id=pk)
    except Membership.DoesNotExist:
        raise Http404 from None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("%(name)s no longer has access.") % {"name": removed.user.get_full_name()}
        )
    return redirect("members", ws=membership.workspace.slug)


@workspace_view()
def my_data(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Everything this workspace holds about me, as a JSON download."""
    data = selectors.person_data(fetched_by=membership)
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 1})
    name = f"confiance-{membership.workspace.slug}-my-data.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@workspace_view(check=access.can_erase_people)
def erasure(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The people the owner may erase: members other than owners, and former members."""
    people = erasure_service.erasable_people(fetched_by=membership)
    return render(request, "core/erasure.html", {"people": people})


@workspace_view(check=access.can_erase_people)
def person_erase(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """What erasing someone does, and doing it once their e-mail address is typed again."""
    person = next(
        (p for p in erasure_service.erasable_people(fetched_by=membership) if p.pk == pk), None
    )
    if person is None:
        raise Http404
    form = ErasureForm(request.POST or None, email=person.email)
    if request.method == "POST" and form.is_valid():
        try:
            erasure_service.person_erase(by=membership, user_id=pk)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The person was erased from this workspace."))
            return redirect("erasure", ws=membership.workspace.slug)
    status = 400 if form.errors else 200
    return render(
        request, "core/person_erase.html", {"person": person, "form": form}, status=status
    )
