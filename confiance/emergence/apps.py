from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


def _invited_text(params: dict[str, Any]) -> str:
    return _("%(who)s invites you to take part in %(opportunity)s") % params


def _mention_text(params: dict[str, Any]) -> str:
    return _("%(who)s mentioned you in %(opportunity)s") % params


def _phase_text(params: dict[str, Any]) -> str:
    from confiance.emergence.models import Phase

    phase = params.get("phase_code")
    label = str(Phase(phase).label) if phase in Phase.values else params.get("phase", "")
    return _("%(opportunity)s moved to the phase “%(phase)s” (%(who)s)") % {
        **params,
        "phase": label,
    }


def _accepted_text(params: dict[str, Any]) -> str:
    return _("%(who)s accepted the agreement of %(opportunity)s") % params


def _voided_text(params: dict[str, Any]) -> str:
    return (
        _(
            "%(who)s changed the agreement of %(opportunity)s: "
            "your acceptance is void, read it again"
        )
        % params
    )


def _declined_text(params: dict[str, Any]) -> str:
    return _("%(opportunity)s: we declined, and say why (%(who)s)") % params


def _converted_text(params: dict[str, Any]) -> str:
    return _("%(opportunity)s became an engagement (%(who)s)") % params


def _agreement_text(params: dict[str, Any]) -> str:
    return (
        _("%(opportunity)s: the agreement is ready to read and accept (version %(number)s)")
        % params
    )


def _post_text(params: dict[str, Any]) -> str:
    return _("%(who)s wrote in %(opportunity)s") % params


def _invited_details(params: dict[str, Any]) -> list[str]:
    lines = [
        _(
            "A discussion about a client's need, before any contract. Taking part is free: you "
            "may join, decline or leave at any time."
        ),
        params.get("problem", ""),
    ]
    if params.get("introduction"):
        lines.append(_("Why you: %(why)s") % {"why": params["introduction"]})
    return lines


def _excerpt_details(params: dict[str, Any]) -> list[str]:
    return [params.get("excerpt", "")]


def _version_details(params: dict[str, Any]) -> list[str]:
    if "number" not in params:
        return []
    return [_("The version to read now is version %(number)s.") % params]


def _accepted_details(params: dict[str, Any]) -> list[str]:
    names = {"provider": _("the provider"), "client": _("the client")}
    lines = _version_details(params)
    waiting = [names[s] for s in params.get("waiting", []) if s in names]
    if waiting:
        lines.append(_("Still to accept it: %(sides)s.") % {"sides": ", ".join(waiting)})
    elif "waiting" in params:
        lines.append(_("Both sides accepted it: the opportunity can become an engagement."))
    return lines


def _declined_details(params: dict[str, Any]) -> list[str]:
    lines = [_("Why: %(reason)s") % params] if params.get("reason") else []
    if params.get("partner"):
        lines.append(_("We point you to %(partner)s, who can help.") % params)
    return lines


def _phase_details(params: dict[str, Any]) -> list[str]:
    return [_("Why: %(reason)s") % params] if params.get("reason") else []


class EmergenceConfig(AppConfig):
    name = "confiance.emergence"
    label = "emergence"
    verbose_name = gettext_lazy("Emergence")

    def ready(self) -> None:
        from confiance.core.notices import DIGEST, register_notice, register_notice_group
        from confiance.core.services import INVITATION_ACCEPTED_HOOKS
        from confiance.emergence.services import participant_bind_invitation

        register_notice_group(
            "emergence", gettext_lazy("Discussions before a contract (invitations, agreement)")
        )
        # Every message of a discussion one follows: a daily digest unless one asks otherwise.
        register_notice_group(
            "emergence_messages",
            gettext_lazy("New messages in the discussions you follow"),
            default=DIGEST,
        )
        register_notice("emergence.invited", _invited_text, details=_invited_details)
        register_notice("emergence.mention", _mention_text, details=_excerpt_details)
        register_notice(
            "emergence.post", _post_text, details=_excerpt_details, group="emergence_messages"
        )
        register_notice("emergence.phase", _phase_text, details=_phase_details)
        register_notice("emergence.agreement", _agreement_text)
        register_notice("emergence.accepted", _accepted_text, details=_accepted_details)
        register_notice("emergence.acceptance_voided", _voided_text, details=_version_details)
        register_notice("emergence.declined", _declined_text, details=_declined_details)
        register_notice("emergence.converted", _converted_text)
        if participant_bind_invitation not in INVITATION_ACCEPTED_HOOKS:
            INVITATION_ACCEPTED_HOOKS.append(participant_bind_invitation)
