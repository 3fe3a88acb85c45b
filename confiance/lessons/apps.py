from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


def _kudos_text(params: dict[str, Any]) -> str:
    return _("%(author)s gave you kudos on %(engagement)s") % params


class LessonsConfig(AppConfig):
    name = "confiance.lessons"
    label = "lessons"
    verbose_name = gettext_lazy("Lessons")

    def ready(self) -> None:
        from confiance.core.notices import register_notice

        register_notice("kudos.received", _kudos_text)
