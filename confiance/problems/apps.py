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
    values = {"engagement": params.get("engagement", ""), "title": params.get("title", "")}
    if params.get("proactive"):
        return _("%(engagement)s: the provider raised a problem before you had to: %(title)s") % (
            values
        )
    return _("New problem on %(engagement)s: %(title)s") % values


def _step_text(verb: str) -> Any:
    def text(params: dict[str, Any]) -> str:
        from confiance.problems.models import Severity

        values = {
            "engagement": params.get("engagement", ""),
            "title": params.get("title", ""),
            "who": params.get("who", ""),
            "owner": params.get("owner", ""),
            "level": params.get("level", ""),
            "person": params.get("person", ""),
            "priority": (
                Severity(params["priority"]).label
                if params.get("priority") in Severity.values
                else params.get("priority", "")
            ),
        }
        templates = {
            "acknowledged": _("%(engagement)s: %(who)s acknowledged the problem “%(title)s”"),
            "owner_named": _("%(engagement)s: %(owner)s now owns the problem “%(title)s”"),
            "plan_shared": _("%(engagement)s: a plan to solve “%(title)s” is shared"),
            "escalated": _(
                "%(engagement)s: the problem “%(title)s” is escalated to level %(level)s "
                "(%(person)s)"
            ),
            "client_escalated": _(
                "%(engagement)s: %(who)s escalated the problem “%(title)s” for the client, to "
                "level %(level)s (%(person)s answers for the provider)"
            ),
            "update": _("%(engagement)s: progress on the problem “%(title)s”"),
            "waiting_on_client": _("%(engagement)s: the problem “%(title)s” waits on the client"),
            "resumed": _("%(engagement)s: work on the problem “%(title)s” resumed"),
            "resolved": _(
                "%(engagement)s: the problem “%(title)s” is resolved; the client confirms or "
                "reopens it"
            ),
            "closed": _("%(engagement)s: the client confirmed the problem “%(title)s” is solved"),
            "reopened": _("%(engagement)s: the client reopened the problem “%(title)s”"),
            "priority_set": _(
                "%(engagement)s: the client's priority for “%(title)s” is now %(priority)s"
            ),
            "commented": _("%(engagement)s: %(who)s commented on the problem “%(title)s”"),
            "client_escalation": _(
                "%(engagement)s: %(who)s named %(person)s as the client's escalation contact "
                "for problems"
            ),
        }
        return templates[verb] % values

    return text


def _due_lines(due: list[dict[str, str]]) -> list[str]:
    from django.utils import formats, timezone
    from django.utils.dateparse import parse_datetime

    labels = {
        "acknowledge": _("Acknowledge by %(when)s"),
        "owner": _("Name an owner by %(when)s"),
        "update": _("Next progress update by %(when)s"),
    }
    lines = []
    for item in due:
        at = parse_datetime(item.get("at", ""))
        if at is None or item.get("kind") not in labels:
            continue
        when = formats.date_format(timezone.localtime(at), "SHORT_DATETIME_FORMAT")
        lines.append(labels[item["kind"]] % {"when": when})
    if lines:
        lines.insert(0, _("The targets of this priority apply from now:"))
    return lines


def _step_details(params: dict[str, Any]) -> list[str]:
    lines = [params["text"]] if params.get("text") else []
    lines += _due_lines(params.get("due") or [])
    if params.get("file"):
        lines.append(_("Attached file: %(name)s") % {"name": params["file"]})
    if params.get("who"):
        lines.append(_("By %(who)s.") % {"who": params["who"]})
    return lines


def _breach_details(params: dict[str, Any]) -> list[str]:
    return [
        _(
            "You are told because you own the problem, are the next escalation level, or are "
            "the client's escalation contact."
        )
    ]


class ProblemsConfig(AppConfig):
    name = "confiance.problems"
    label = "problems"
    verbose_name = gettext_lazy("Problems")

    def ready(self) -> None:
        from confiance.core.notices import register_notice, register_notice_group

        register_notice_group("problem", gettext_lazy("Problems"))
        register_notice("problem.breach", _breach_text, details=_breach_details)
        register_notice("problem.raised", _raised_text, details=_step_details)
        from confiance.problems.services import TOLD_STEPS

        # Every step told to both sides reads as one notice kind ("raised" has its own text).
        for verb in sorted(TOLD_STEPS - {"raised"}):
            register_notice(f"problem.{verb}", _step_text(verb), details=_step_details)
