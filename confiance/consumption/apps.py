from decimal import Decimal
from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


def _days(value: Any) -> str:
    """Days stored as "12.5", in the reader's number format."""
    from confiance.consumption.templatetags.consumption_tags import one_decimal

    try:
        return one_decimal(Decimal(str(value)))
    except (ArithmeticError, ValueError):
        return str(value)


def _budget_alert_text(params: dict[str, Any]) -> str:
    from confiance.consumption.models import BudgetAlert

    level = BudgetAlert.Level(params["level"]).label
    if params.get("over_days"):
        return gettext("%(engagement)s: the forecast exceeds the budget by %(over)s days") % {
            "engagement": params["engagement"],
            "over": _days(params["over_days"]),
        }
    return f"{params['engagement']}: {level}"


def _budget_alert_details(params: dict[str, Any]) -> list[str]:
    lines = []
    if params.get("consumed_days") is not None:
        lines.append(
            gettext("Consumed: %(consumed)s days of a budget of %(budget)s days (%(percent)s %%).")
            % {
                "consumed": _days(params["consumed_days"]),
                "budget": _days(params["budget_days"]),
                "percent": params.get("percent"),
            }
        )
    if params.get("forecast_days") is not None:
        lines.append(
            gettext("Forecast at completion: %(forecast)s days.")
            % {"forecast": _days(params["forecast_days"])}
        )
    lines.append(gettext("The provider and the client receive this message at the same moment."))
    return lines


def _parameter_text(params: dict[str, Any]) -> str:
    values = {
        "engagement": params["engagement"],
        "before": params["before"],
        "after": params["after"],
    }
    if params["name"] == "minutes_per_day":
        return (
            gettext("%(engagement)s: a day now counts %(after)s minutes (it was %(before)s)")
            % values
        )
    return (
        gettext(
            "%(engagement)s: time logged more than %(after)s days after the work now counts "
            "as late (it was %(before)s)"
        )
        % values
    )


def _parameter_details(params: dict[str, Any]) -> list[str]:
    return [
        gettext(
            "The change is recorded in the engagement's ledger; the consumption page shows the "
            "figures counted this way. Ask the engagement's lead if you did not expect it."
        )
    ]


class ConsumptionConfig(AppConfig):
    name = "confiance.consumption"
    label = "consumption"
    verbose_name = _("Consumption")

    def ready(self) -> None:
        from confiance.core.notices import register_notice, register_notice_group

        register_notice_group("budget", _("Budget alerts"))
        register_notice("budget.alert", _budget_alert_text, details=_budget_alert_details)
        register_notice("budget.parameter", _parameter_text, details=_parameter_details)
