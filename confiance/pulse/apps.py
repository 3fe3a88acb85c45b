from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _pulse_open_text(params: dict[str, Any]) -> str:
    from django.utils.translation import gettext

    text = gettext("%(engagement)s: a pulse round is open until %(closes)s; tell us how it goes.")
    return text % {
        "engagement": params.get("engagement", ""),
        "closes": params.get("closes", ""),
    }


class PulseConfig(AppConfig):
    name = "confiance.pulse"
    label = "pulse"
    verbose_name = _("Pulse")

    def ready(self) -> None:
        from confiance.core.notices import register_notice

        register_notice("pulse.open", _pulse_open_text)
