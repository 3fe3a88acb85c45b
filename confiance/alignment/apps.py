from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


def _text(kind: str) -> Any:
    def text(params: dict[str, Any]) -> str:
        values = {
            "engagement": params.get("engagement", ""),
            "who": params.get("who", ""),
            "term": params.get("term", ""),
        }
        templates = {
            "glossary.proposed": _(
                "%(engagement)s: %(who)s proposes a meaning for “%(term)s”; agree to it or "
                "propose another"
            ),
            "glossary.agreed": _("%(engagement)s: %(who)s agreed to the meaning of “%(term)s”"),
            "vision.proposed": _(
                "%(engagement)s: %(who)s proposes a change to the shared vision; accept it or "
                "propose another"
            ),
            "vision.agreed": _("%(engagement)s: %(who)s accepted the shared vision"),
        }
        return templates[kind] % values

    return text


def _details(params: dict[str, Any]) -> list[str]:
    return [params["text"]] if params.get("text") else []


class AlignmentConfig(AppConfig):
    name = "confiance.alignment"
    label = "alignment"
    verbose_name = gettext_lazy("Common language and vision")

    def ready(self) -> None:
        from confiance.core.notices import register_notice, register_notice_group

        register_notice_group("alignment", gettext_lazy("Common language and vision"))
        for kind in ("glossary.proposed", "glossary.agreed", "vision.proposed", "vision.agreed"):
            register_notice(kind, _text(kind), details=_details, group="alignment")
