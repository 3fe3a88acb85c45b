from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _approved_text(params: dict[str, Any]) -> str:
    from confiance.closure.tasks import closure_approved_text

    return closure_approved_text(params)


class ClosureConfig(AppConfig):
    name = "confiance.closure"
    label = "closure"
    verbose_name = _("Closure")

    def ready(self) -> None:
        from confiance.core.notices import register_notice

        register_notice("closure.approved", _approved_text)
