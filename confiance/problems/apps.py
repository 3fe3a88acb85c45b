from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


def _breach_text(params: dict[str, Any]) -> str:
    from confiance.problems.models import ProblemBreach

    kind = ProblemBreach.Kind(params["kind"]).label
    return _("Problem “%(title)s” (%(engagement)s): %(kind)s") % {
        "title": params["title"],
        "engagement": params["engagement"],
        "kind": kind,
    }


def _raised_text(params: dict[str, Any]) -> str:
    return _("New problem on %(engagement)s: %(title)s") % params


class ProblemsConfig(AppConfig):
    name = "confiance.problems"
    label = "problems"
    verbose_name = gettext_lazy("Problems")

    def ready(self) -> None:
        from confiance.core.notices import register_notice

        register_notice("problem.breach", _breach_text)
        register_notice("problem.raised", _raised_text)
