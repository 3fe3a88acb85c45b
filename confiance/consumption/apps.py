from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _budget_alert_text(params: dict[str, Any]) -> str:
    from confiance.consumption.models import BudgetAlert

    level = BudgetAlert.Level(params["level"]).label
    return f"{params['engagement']}: {level}"


class ConsumptionConfig(AppConfig):
    name = "confiance.consumption"
    label = "consumption"
    verbose_name = _("Consumption")

    def ready(self) -> None:
        from confiance.core.notices import register_notice

        register_notice("budget.alert", _budget_alert_text)
