from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


def _kudos_text(params: dict[str, Any]) -> str:
    return _("%(author)s gave you kudos on %(engagement)s") % {
        "author": params.get("author", ""),
        "engagement": params.get("engagement", ""),
    }


def _kudos_details(params: dict[str, Any]) -> list[str]:
    return [params.get("text", "")]


class LessonsConfig(AppConfig):
    name = "confiance.lessons"
    label = "lessons"
    verbose_name = gettext_lazy("Lessons")

    def ready(self) -> None:
        from confiance.core.notices import register_notice, register_notice_group

        register_notice_group("kudos", gettext_lazy("Kudos"))
        register_notice("kudos.received", _kudos_text, details=_kudos_details)
