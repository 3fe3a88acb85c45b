from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from confiance.core.notices import notice_day


def _checkpoint_text(params: dict[str, Any]) -> str:
    return gettext("%(engagement)s: the ledger's latest signed checkpoint (%(size)s entries)") % {
        "engagement": params["engagement"],
        "size": params["size"],
    }


def _checkpoint_details(params: dict[str, Any]) -> list[str]:
    return [
        gettext(
            "Keep this e-mail: it proves what the ledger held on %(date)s. Another contact of "
            "your organisation received the same checkpoint; if yours differ, you were shown "
            "different histories. Compare them, or check a bundle against the attached file "
            "with: confiance verify BUNDLE --key KEY --known %(file)s"
        )
        % {"date": notice_day(params["date"]), "file": params["file"]},
        gettext("Verifier key of this log: %(key)s") % {"key": params["key"]},
        params["note"],
    ]


def _checkpoint_attachment(params: dict[str, Any]) -> tuple[str, bytes, str]:
    return params["file"], params["note"].encode("utf-8"), "text/plain"


def _rotated_text(params: dict[str, Any]) -> str:
    return gettext("%(workspace)s replaced the key that signs its ledgers") % {
        "workspace": params["workspace"]
    }


def _rotated_details(params: dict[str, Any]) -> list[str]:
    return [
        gettext("Reason given: %(reason)s") % {"reason": params["reason"]},
        gettext(
            "Each ledger announces the change, signed by the previous key; your browser and "
            "confiance verify follow it. New key: %(key)s"
        )
        % {"key": params["key"]},
        gettext("If you did not expect this change, ask %(workspace)s before trusting the new key.")
        % {"workspace": params["workspace"]},
    ]


class LedgerConfig(AppConfig):
    name = "confiance.ledger"
    label = "ledger"
    verbose_name = _("Ledger")

    def ready(self) -> None:
        from confiance.core.notices import register_notice, register_notice_group

        register_notice_group("ledger", _("Ledger checkpoints and key changes"))
        register_notice(
            "ledger.checkpoint",
            _checkpoint_text,
            details=_checkpoint_details,
            attachment=_checkpoint_attachment,
        )
        register_notice("ledger.key_rotated", _rotated_text, details=_rotated_details)
