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


class EmergenceConfig(AppConfig):
    name = "confiance.emergence"
    label = "emergence"
    verbose_name = gettext_lazy("Emergence")

    def ready(self) -> None:
        from confiance.core.notices import register_notice
        from confiance.core.services import INVITATION_ACCEPTED_HOOKS
        from confiance.emergence.services import participant_bind_invitation

        register_notice("emergence.invited", _invited_text)
        register_notice("emergence.mention", _mention_text)
        register_notice("emergence.phase", _phase_text)
        register_notice("emergence.accepted", _accepted_text)
        register_notice("emergence.acceptance_voided", _voided_text)
        register_notice("emergence.declined", _declined_text)
        register_notice("emergence.converted", _converted_text)
        if participant_bind_invitation not in INVITATION_ACCEPTED_HOOKS:
            INVITATION_ACCEPTED_HOOKS.append(participant_bind_invitation)
