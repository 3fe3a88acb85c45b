from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "confiance.webhooks"
    label = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        from confiance.core.audit import on_audit
        from confiance.core.notices import register_notice
        from confiance.webhooks import events

        on_audit(events.from_audit)
        register_notice("webhook.disabled", events.render_disabled_notice)
