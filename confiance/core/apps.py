from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "confiance.core"
    label = "core"
    verbose_name = _("Workspaces and people")

    def ready(self) -> None:
        from confiance.core.converters import register

        register()
