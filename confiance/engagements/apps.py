from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _text(kind: str) -> Any:
    def text(params: dict[str, Any]) -> str:
        from django.utils.translation import gettext

        from confiance.engagements.models import StopRequest

        state = params.get("state", "")
        templates = {
            "stop_requested": gettext("%(engagement)s: %(who)s asks to stop early"),
            "stop_answered": (
                gettext("%(engagement)s: %(who)s accepted to stop early")
                if state == StopRequest.State.ACCEPTED
                else gettext("%(engagement)s: %(who)s declined to stop early")
            ),
            "stopped_early": gettext("%(engagement)s: %(who)s stopped the engagement early"),
            "reopened": gettext("%(engagement)s: %(who)s reopened the engagement"),
            "paused": gettext("%(engagement)s: %(who)s paused the engagement"),
            "resumed": gettext("%(engagement)s: %(who)s resumed the engagement"),
        }
        return templates[kind] % {
            "engagement": params.get("engagement", ""),
            "who": params.get("who", ""),
        }

    return text


def _details(params: dict[str, Any]) -> list[str]:
    from django.utils.translation import gettext

    lines = []
    if params.get("reason"):
        lines.append(gettext("Why: %(reason)s") % {"reason": params["reason"]})
    if params.get("answer"):
        lines.append(gettext("Answer: %(answer)s") % {"answer": params["answer"]})
    return lines


def _objective_text(params: dict[str, Any]) -> str:
    from django.utils.translation import gettext

    return gettext("%(engagement)s: %(who)s added an objective: %(text)s") % {
        "engagement": params.get("engagement", ""),
        "who": params.get("who", ""),
        "text": params.get("text", ""),
    }


def _objective_details(params: dict[str, Any]) -> list[str]:
    from django.utils.translation import gettext

    return [
        gettext("How its attainment will be judged: %(measure)s")
        % {"measure": params.get("measure", "")},
        gettext("The closure analysis assesses it before the approval for payment."),
    ]


def _interlocutor_text(params: dict[str, Any]) -> str:
    from django.utils.translation import gettext

    values = {
        "engagement": params.get("engagement", ""),
        "who": params.get("who", ""),
        "role": params.get("role", ""),
    }
    if values["role"]:
        return gettext("%(engagement)s: %(who)s named you an interlocutor (%(role)s)") % values
    return gettext("%(engagement)s: %(who)s named you an interlocutor") % values


def _dates_text(params: dict[str, Any]) -> str:
    from django.utils.translation import gettext

    return gettext("%(engagement)s: %(who)s changed the planned dates") % {
        "engagement": params.get("engagement", ""),
        "who": params.get("who", ""),
    }


def _dates_details(params: dict[str, Any]) -> list[str]:
    """Each planned date that moved, before → after, in the reader's format."""
    from datetime import date

    from django.utils import formats
    from django.utils.translation import gettext

    def day(iso: Any) -> str:
        try:
            return str(formats.date_format(date.fromisoformat(str(iso)), "DATE_FORMAT"))
        except ValueError:
            return gettext("none")

    lines = []
    for name, template in (
        ("start", gettext("Planned start: %(before)s → %(after)s")),
        ("end", gettext("Planned end: %(before)s → %(after)s")),
    ):
        if params.get(name, "") != params.get(f"before_{name}", ""):
            lines.append(
                template % {"before": day(params.get(f"before_{name}")), "after": day(params[name])}
            )
    return lines


class EngagementsConfig(AppConfig):
    name = "confiance.engagements"
    label = "engagements"
    verbose_name = _("Engagements")

    def ready(self) -> None:
        from confiance.core.notices import register_notice, register_notice_group

        register_notice_group("engagement", _("Engagement: status, dates and objectives"))
        for kind in (
            "stop_requested",
            "stop_answered",
            "stopped_early",
            "reopened",
            "paused",
            "resumed",
        ):
            register_notice(f"engagement.{kind}", _text(kind), details=_details)
        register_notice("engagement.dates_changed", _dates_text, details=_dates_details)
        register_notice("engagement.interlocutor", _interlocutor_text)
        register_notice("engagement.objective_added", _objective_text, details=_objective_details)
