from decimal import Decimal
from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from confiance.core.notices import notice_day


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


def _money(value: Any) -> str:
    """An amount stored as "9000.00", in the reader's number format, grouped as the payments'
    and the consumption page's amounts are: "9,000.00", "9 000,00"."""
    from confiance.consumption.templatetags.consumption_tags import grouped_amount

    try:
        return grouped_amount(Decimal(str(value)))
    except (ArithmeticError, ValueError):
        return str(value)


def _revised_text(params: dict[str, Any]) -> str:
    values = {"engagement": params["engagement"], "who": params.get("who", "")}
    if params.get("days") is None:
        return gettext("%(engagement)s: %(who)s revised the budget") % values
    values["after"] = _days(params["days"])
    if params.get("before_days") is None:
        return gettext("%(engagement)s: %(who)s set the budget at %(after)s days") % values
    values["before"] = _days(params["before_days"])
    return (
        gettext("%(engagement)s: %(who)s changed the budget to %(after)s days (it was %(before)s)")
        % values
    )


def _revised_details(params: dict[str, Any]) -> list[str]:
    lines = []
    if params.get("percent") is not None:
        lines.append(
            gettext("Consumed so far: %(consumed)s days, %(percent)s %% of the new budget.")
            % {"consumed": _days(params["consumed_days"]), "percent": params["percent"]}
        )
    if params.get("amount") is not None:
        values = {"after": _money(params["amount"]), "currency": params.get("currency", "")}
        if params.get("before_amount") is not None:
            values["before"] = _money(params["before_amount"])
            line = gettext("Amount: %(after)s %(currency)s (it was %(before)s %(currency)s).")
        else:
            line = gettext("Amount: %(after)s %(currency)s.")
        lines.append(line % values)
    lines.append(gettext("Why: %(reason)s") % {"reason": params.get("reason", "")})
    return lines


def _corrected_text(params: dict[str, Any]) -> str:
    from confiance.consumption.templatetags.consumption_tags import hours

    values = {
        "engagement": params.get("engagement", ""),
        "who": params.get("who", ""),
        "person": params.get("person", ""),
        "date": notice_day(params.get("date")),
        "before": hours(int(params.get("before") or 0)),
    }
    if params.get("after") is None:
        return (
            gettext("%(engagement)s: %(who)s withdrew %(before)s of %(person)s on %(date)s")
            % values
        )
    values["after"] = hours(int(params["after"]))
    return (
        gettext(
            "%(engagement)s: %(who)s corrected the time of %(person)s on %(date)s: "
            "%(before)s → %(after)s"
        )
        % values
    )


def _corrected_details(params: dict[str, Any]) -> list[str]:
    moved = []
    if params.get("now_person"):
        moved = [
            gettext("The time now stands for %(person)s on %(date)s.")
            % {"person": params["now_person"], "date": notice_day(params.get("now_date"))}
        ]
    return [
        gettext("Why: %(reason)s") % {"reason": params.get("reason", "")},
        *moved,
        gettext(
            "The original entry stays in the ledger; the correction is appended after it and "
            "the consumption page counts it."
        ),
    ]


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

        register_notice_group("budget", _("Budget: alerts and changes"))
        register_notice("budget.alert", _budget_alert_text, details=_budget_alert_details)
        register_notice("budget.parameter", _parameter_text, details=_parameter_details)
        register_notice("budget.revised", _revised_text, details=_revised_details)
        register_notice("budget.corrected", _corrected_text, details=_corrected_details)
