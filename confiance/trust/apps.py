from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _trust_alert_text(params: dict[str, Any]) -> str:
    from django.utils.translation import gettext

    from confiance.trust.alerts import alert_reason
    from confiance.trust.models import AlertKind

    reason = alert_reason(params["reason"], params.get("reason_params"))
    text = f"{params['engagement']}: {AlertKind(params['kind']).label} — {reason}"
    again = params.get("again")
    if again == "worse":
        return gettext("Worse while snoozed: %(text)s") % {"text": text}
    if again == "snooze_over":
        return gettext("Snooze over, still holds: %(text)s") % {"text": text}
    return text


def _trust_alert_details(params: dict[str, Any]) -> list[str]:
    from django.utils.translation import gettext

    from confiance.trust.alerts import next_step

    details = []
    step = next_step(params["kind"])
    if step:
        details.append(gettext("Next step: %(step)s") % {"step": step})
    details.append(gettext("See why, and act before the client has to complain."))
    details.append(
        gettext(
            "You are asked to act: acknowledge it, give it to someone of your firm, or snooze "
            "it with the reason it can wait, from the engagement's trust page."
        )
    )
    return details


class TrustConfig(AppConfig):
    name = "confiance.trust"
    label = "trust"
    verbose_name = _("Trust")

    def ready(self) -> None:
        from confiance.core.notices import register_notice, register_notice_group

        register_notice_group("trust", _("Trust alerts"))
        register_notice("trust.alert", _trust_alert_text, details=_trust_alert_details)

        from confiance.ledger.signals import ledger_appended

        ledger_appended.connect(_update_after_commit, dispatch_uid="trust-live-update")


def _update_after_commit(sender: Any, engagement_id: int, **kwargs: Any) -> None:
    """A fact reached an engagement's ledger: fold it into trust once the write is committed.

    Facts that are not ledgered (attendance, pulse rounds) come in with the periodic refresh.
    """
    from confiance.trust.live import trust_update_soon

    # One pending update per engagement, queued without ever failing the write (trust/live.py).
    trust_update_soon(engagement_id)
