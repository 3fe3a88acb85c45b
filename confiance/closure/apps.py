from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _approved_text(params: dict[str, Any]) -> str:
    from confiance.closure.tasks import closure_approved_text

    return closure_approved_text(params)


def _approved_details(params: dict[str, Any]) -> list[str]:
    from confiance.closure.tasks import closure_approved_details

    return closure_approved_details(params)


def _awaiting_text(params: dict[str, Any]) -> str:
    from django.utils.translation import gettext

    return gettext("%(engagement)s: the closure analysis awaits your approval for payment") % {
        "engagement": params.get("engagement", "")
    }


def _awaiting_details(params: dict[str, Any]) -> list[str]:
    from django.utils.translation import gettext, ngettext

    n = int(params.get("objectives", 0))
    return [
        ngettext("%(n)s objective assessed by %(who)s.", "%(n)s objectives assessed by %(who)s.", n)
        % {"n": n, "who": params.get("who", "")},
        gettext("Read the analysis and the retrospectives, then approve or ask questions."),
    ]


def _started_text(params: dict[str, Any]) -> str:
    from django.utils.translation import gettext

    values = {"engagement": params.get("engagement", ""), "who": params.get("who", "")}
    if params.get("outcome") == "stopped_early":
        return gettext("%(engagement)s: %(who)s started the closure of an early stop") % values
    return gettext("%(engagement)s: %(who)s started the closure") % values


def _started_details(params: dict[str, Any]) -> list[str]:
    from django.utils.translation import gettext, ngettext

    n = int(params.get("objectives", 0))
    return [
        ngettext(
            "%(n)s objective will be assessed against its measure.",
            "%(n)s objectives will be assessed against their measures.",
            n,
        )
        % {"n": n},
        gettext(
            "Each side writes its retrospective (what went well, what to improve, lessons); "
            "the approval for payment comes after them."
        ),
    ]


def _retrospective_text(params: dict[str, Any]) -> str:
    from django.utils.translation import gettext

    values = {"engagement": params.get("engagement", ""), "who": params.get("who", "")}
    if params.get("side") == "client":
        return gettext("%(engagement)s: %(who)s wrote their part of the client's retrospective") % (
            values
        )
    return gettext("%(engagement)s: %(who)s wrote their part of the provider's retrospective") % (
        values
    )


def _voided_text(params: dict[str, Any]) -> str:
    from django.utils.translation import gettext

    return gettext("%(engagement)s: the analysis changed; your approval for payment is void") % {
        "engagement": params.get("engagement", "")
    }


def _voided_details(params: dict[str, Any]) -> list[str]:
    from django.utils.translation import gettext

    from confiance.closure.selectors import analysis_diff

    changes = analysis_diff(params.get("before") or {}, params.get("after") or {})
    lines = [gettext("What changed since you approved (by %(who)s):") % params]
    lines += [f"- {line}" for line in changes] or ["- " + gettext("details unavailable")]
    lines.append(gettext("Read the analysis again and approve it if you agree."))
    return lines


class ClosureConfig(AppConfig):
    name = "confiance.closure"
    label = "closure"
    verbose_name = _("Closure")

    def ready(self) -> None:
        from confiance.core.notices import register_notice, register_notice_group

        register_notice_group("closure", _("Closure and approval for payment"))
        register_notice("closure.approved", _approved_text, details=_approved_details)
        register_notice("closure.awaiting", _awaiting_text, details=_awaiting_details)
        register_notice("closure.started", _started_text, details=_started_details)
        register_notice("closure.retrospective", _retrospective_text)
        register_notice("closure.voided", _voided_text, details=_voided_details)
