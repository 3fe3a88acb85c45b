from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _trust_alert_text(params: dict[str, Any]) -> str:
    from confiance.trust.models import AlertKind

    return f"{params['engagement']}: {AlertKind(params['kind']).label} — {params['reason']}"


class TrustConfig(AppConfig):
    name = "confiance.trust"
    label = "trust"
    verbose_name = _("Trust")

    def ready(self) -> None:
        from confiance.core.notices import register_notice

        register_notice("trust.alert", _trust_alert_text)
