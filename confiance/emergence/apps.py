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
        if participant_bind_invitation not in INVITATION_ACCEPTED_HOOKS:
            INVITATION_ACCEPTED_HOOKS.append(participant_bind_invitation)
