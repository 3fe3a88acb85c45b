from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _overdue_text(params: dict[str, Any]) -> str:
    from django.utils.translation import gettext

    return gettext("%(engagement)s: your commitment due on %(due)s is overdue: %(text)s") % {
        "engagement": params.get("engagement", ""),
        "due": params.get("due_date", ""),
        "text": params.get("text", ""),
    }


def _renegotiation_text(params: dict[str, Any]) -> str:
    from django.utils.translation import gettext

    return gettext("%(engagement)s: a renegotiation awaits your agreement: %(text)s") % {
        "engagement": params.get("engagement", ""),
        "text": params.get("text", ""),
    }


class FollowupConfig(AppConfig):
    name = "confiance.followup"
    label = "followup"
    verbose_name = _("Follow-up")

    def ready(self) -> None:
        from confiance.core.notices import register_notice

        register_notice("commitment.overdue", _overdue_text)
        register_notice("commitment.renegotiation", _renegotiation_text)
