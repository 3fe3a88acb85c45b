from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _closes(params: dict[str, Any]) -> str:
    from datetime import datetime

    from django.utils import formats, timezone

    if params.get("closes_at"):
        at = timezone.localtime(datetime.fromisoformat(params["closes_at"]))
        return formats.date_format(at, "DATE_FORMAT")
    return str(params.get("closes", ""))  # notices written before the date was kept whole


def _pulse_open_text(params: dict[str, Any]) -> str:
    from django.utils.translation import gettext

    text = gettext("%(engagement)s: a pulse round is open until %(closes)s; tell us how it goes.")
    return text % {"engagement": params.get("engagement", ""), "closes": _closes(params)}


def _pulse_open_details(params: dict[str, Any]) -> list[str]:
    from django.utils.translation import gettext

    return [
        gettext(
            "Five questions, one minute: common language, common vision, discretion, "
            "receptivity, proximity. Your answer stays yours: others only see averages, once "
            "the round is closed and at least three people of your side answered."
        )
    ]


class PulseConfig(AppConfig):
    name = "confiance.pulse"
    label = "pulse"
    verbose_name = _("Pulse")

    def ready(self) -> None:
        from confiance.core.notices import register_notice, register_notice_group

        register_notice_group("pulse", _("Pulse surveys"))
        register_notice("pulse.open", _pulse_open_text, details=_pulse_open_details)
