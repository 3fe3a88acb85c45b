from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from confiance.core.notices import notice_day


def _overdue_text(params: dict[str, Any]) -> str:
    from django.utils.translation import gettext

    return gettext("%(engagement)s: your commitment due on %(due)s is overdue: %(text)s") % {
        "engagement": params.get("engagement", ""),
        "due": notice_day(params.get("due_date", "")),
        "text": params.get("text", ""),
    }


def _renegotiation_text(params: dict[str, Any]) -> str:
    from django.utils.translation import gettext

    return gettext("%(engagement)s: a renegotiation awaits your agreement: %(text)s") % {
        "engagement": params.get("engagement", ""),
        "text": params.get("text", ""),
    }


def _created_text(params: dict[str, Any]) -> str:
    from django.utils.translation import gettext

    return gettext(
        "%(engagement)s: %(who)s recorded a commitment of yours, due on %(due)s: %(text)s"
    ) % {
        "engagement": params.get("engagement", ""),
        "who": params.get("who", ""),
        "due": notice_day(params.get("due_date", "")),
        "text": params.get("text", ""),
    }


def _made_text(params: dict[str, Any]) -> str:
    from django.utils.translation import gettext

    return gettext("%(engagement)s: %(owner)s commits to you, by %(due)s: %(text)s") % {
        "engagement": params.get("engagement", ""),
        "owner": params.get("owner", ""),
        "due": notice_day(params.get("due_date", "")),
        "text": params.get("text", ""),
    }


def _status_text(params: dict[str, Any]) -> str:
    from django.utils.translation import gettext

    from confiance.followup.models import CommitmentStatus

    try:
        status = str(CommitmentStatus(params.get("status", "")).label)
    except ValueError:
        status = str(params.get("status", ""))
    return gettext("%(engagement)s: %(who)s marks a commitment to you “%(status)s”: %(text)s") % {
        "engagement": params.get("engagement", ""),
        "who": params.get("who", ""),
        "status": status,
        "text": params.get("text", ""),
    }


def _status_details(params: dict[str, Any]) -> list[str]:
    from django.utils.translation import gettext

    lines = [gettext("It was due on %(due)s.") % {"due": notice_day(params.get("due_date", ""))}]
    if params.get("note"):
        lines.append(gettext("Note: %(note)s") % {"note": params["note"]})
    return lines


def _created_details(params: dict[str, Any]) -> list[str]:
    from django.utils.translation import gettext

    return [
        gettext(
            "If it is not yours, or the date does not hold, say so on its page: propose a "
            "renegotiation."
        )
    ]


def _amount(value: Any) -> str:
    """An amount stored as "1200.50", in the reader's number format, grouped: "1,200.50"."""
    from decimal import Decimal, InvalidOperation

    from confiance.consumption.templatetags.consumption_tags import grouped_amount

    try:
        return grouped_amount(Decimal(str(value)))
    except InvalidOperation:
        return str(value)


def _payment_text(params: dict[str, Any]) -> str:
    from django.utils.translation import gettext

    amount = _amount(params.get("amount", ""))
    template = (
        gettext("%(engagement)s: deposit “%(label)s”, %(amount)s %(currency)s due on %(due)s")
        if params.get("payment_kind") == "deposit"
        else gettext("%(engagement)s: invoice “%(label)s”, %(amount)s %(currency)s due on %(due)s")
    )
    return template % {
        "engagement": params.get("engagement", ""),
        "label": params.get("label", ""),
        "amount": amount,
        "currency": params.get("currency", ""),
        "due": notice_day(params.get("due_date", "")),
    }


def _payment_overdue_text(params: dict[str, Any]) -> str:
    from django.utils.translation import ngettext

    days = int(params.get("days_late") or 0)
    return ngettext(
        "%(engagement)s: “%(label)s”, %(amount)s %(currency)s, was due on %(due)s: "
        "%(days)s day late",
        "%(engagement)s: “%(label)s”, %(amount)s %(currency)s, was due on %(due)s: "
        "%(days)s days late",
        days,
    ) % {
        "engagement": params.get("engagement", ""),
        "label": params.get("label", ""),
        "amount": _amount(params.get("amount", "")),
        "currency": params.get("currency", ""),
        "due": notice_day(params.get("due_date", "")),
        "days": days,
    }


def _payment_overdue_details(params: dict[str, Any]) -> list[str]:
    from django.utils.translation import gettext

    return [
        gettext(
            "The provider and the client receive this message at the same moment. Once it is "
            "paid, the provider records the date and the client is asked to confirm it."
        )
    ]


def _overdue_details(params: dict[str, Any]) -> list[str]:
    from django.utils.translation import gettext, ngettext

    lines = []
    late = params.get("days_late")
    if isinstance(late, int) and late > 0:
        lines.append(ngettext("%(days)s day late.", "%(days)s days late.", late) % {"days": late})
    lines.append(gettext("Mark it kept, or ask the other side to agree to a new date."))
    return lines


def _renegotiation_details(params: dict[str, Any]) -> list[str]:
    from django.utils.translation import gettext

    lines = [gettext("%(who)s proposes a change.") % {"who": params.get("who", "")}]
    if params.get("new_due_date"):
        lines.append(
            gettext("New due date: %(date)s") % {"date": notice_day(params["new_due_date"])}
        )
    if params.get("new_text"):
        lines.append(gettext("New wording: %(text)s") % {"text": params["new_text"]})
    if params.get("reason"):
        lines.append(gettext("Why: %(reason)s") % {"reason": params["reason"]})
    lines.append(gettext("It changes nothing until you agree."))
    return lines


def _when(iso: str) -> str:
    from datetime import datetime

    from django.utils import formats, timezone

    if not iso:
        return ""
    return formats.date_format(timezone.localtime(datetime.fromisoformat(iso)), "DATETIME_FORMAT")


def _meeting_planned_text(params: dict[str, Any]) -> str:
    from django.utils.translation import gettext

    return gettext("%(engagement)s: you are expected at “%(title)s” on %(when)s") % {
        "engagement": params.get("engagement", ""),
        "title": params.get("title", ""),
        "when": _when(params.get("starts_at", "")),
    }


def _meeting_changed_text(params: dict[str, Any]) -> str:
    from django.utils.translation import gettext

    return gettext("%(engagement)s: “%(title)s” changed; now on %(when)s") % {
        "engagement": params.get("engagement", ""),
        "title": params.get("title", ""),
        "when": _when(params.get("starts_at", "")),
    }


def _meeting_cancelled_text(params: dict[str, Any]) -> str:
    from django.utils.translation import gettext

    return gettext("%(engagement)s: “%(title)s” on %(when)s is cancelled") % {
        "engagement": params.get("engagement", ""),
        "title": params.get("title", ""),
        "when": _when(params.get("starts_at", "")),
    }


def _meeting_details(params: dict[str, Any]) -> list[str]:
    from django.utils.translation import gettext

    from confiance.followup.models import MeetingChannel

    lines = []
    if params.get("previous_starts_at"):
        lines.append(
            gettext("Moved from %(before)s.") % {"before": _when(params["previous_starts_at"])}
        )
    if params.get("method") != "CANCEL":
        channel = params.get("channel", "")
        if channel in MeetingChannel.values:
            channel = MeetingChannel(channel).label
        lines.append(
            gettext("%(minutes)s minutes, %(channel)s%(location)s.")
            % {
                "minutes": params.get("duration_minutes", ""),
                "channel": channel,
                "location": f" — {params['location']}" if params.get("location") else "",
            }
        )
        lines.append(gettext("The attached invitation adds it to your calendar."))
    elif params.get("reason"):
        lines.append(gettext("Why: %(reason)s") % {"reason": params["reason"]})
    if params.get("who"):
        lines.append(gettext("By %(who)s.") % {"who": params["who"]})
    return lines


def _meeting_invitation(params: dict[str, Any]) -> tuple[str, bytes, str] | None:
    from django.conf import settings

    from confiance.followup.feed import build_invitation
    from confiance.followup.models import Meeting

    meeting_id = params.get("meeting_id")
    if not isinstance(meeting_id, int):
        return None
    meeting = (
        Meeting.objects.select_related("engagement__workspace", "created_by")
        .prefetch_related("attendees__user")
        .filter(pk=meeting_id)
        .first()
    )
    if meeting is None:
        return None
    method = "CANCEL" if params.get("method") == "CANCEL" else "REQUEST"
    content = build_invitation(
        meeting, method=method, sequence=int(params.get("sequence", 0)), base_url=settings.SITE_URL
    )
    return ("invite.ics", content, f"text/calendar; method={method}; charset=utf-8")


def _review_text(kind: str) -> Any:
    def text(params: dict[str, Any]) -> str:
        from django.utils.translation import gettext

        from confiance.followup.models import ReviewState, render_what

        values = {
            "engagement": params.get("engagement", ""),
            "what": render_what(params.get("what", ""), params.get("what_params")),
            "who": params.get("who", ""),
            "when": _when(params.get("answer_by", "")),
            "state": (
                ReviewState(params["state"]).label
                if params.get("state") in ReviewState.values
                else ""
            ),
        }
        templates = {
            "requested": gettext(
                "%(engagement)s: %(who)s recorded about you: %(what)s. Confirm or contest it "
                "by %(when)s"
            ),
            "confirmed": gettext("%(engagement)s: %(who)s confirmed: %(what)s"),
            "contested": gettext("%(engagement)s: %(who)s contests: %(what)s"),
            "resolved": gettext("%(engagement)s: contest over (%(state)s): %(what)s"),
        }
        return templates[kind] % values

    return text


def _review_details(params: dict[str, Any]) -> list[str]:
    from django.utils.translation import gettext

    lines = []
    if params.get("reason"):
        lines.append(gettext("Why: %(reason)s") % {"reason": params["reason"]})
    if params.get("note"):
        lines.append(params["note"])
    if "state" not in params and "reason" not in params:
        lines.append(
            gettext(
                "Left unanswered for %(days)s days, the record stands. A contest holds it out "
                "of the trust figures until it is resolved."
            )
            % {"days": params.get("days", "")}
        )
    return lines


class FollowupConfig(AppConfig):
    name = "confiance.followup"
    label = "followup"
    verbose_name = _("Follow-up")

    def ready(self) -> None:
        from confiance.core.notices import register_notice, register_notice_group

        register_notice_group("commitment", _("Commitments"))
        register_notice("commitment.overdue", _overdue_text, details=_overdue_details)
        register_notice(
            "commitment.renegotiation", _renegotiation_text, details=_renegotiation_details
        )
        register_notice("commitment.created", _created_text, details=_created_details)
        register_notice("commitment.made", _made_text)
        register_notice("commitment.status", _status_text, details=_status_details)
        register_notice_group("payment", _("Payments to make"))
        register_notice("payment.issued", _payment_text)
        register_notice("payment.overdue", _payment_overdue_text, details=_payment_overdue_details)
        register_notice_group("review", _("Records to confirm or contest"))
        for kind in ("requested", "confirmed", "contested", "resolved"):
            register_notice(f"review.{kind}", _review_text(kind), details=_review_details)
        register_notice_group("meeting", _("Meetings"))
        for kind, text in (
            ("meeting.planned", _meeting_planned_text),
            ("meeting.changed", _meeting_changed_text),
            ("meeting.cancelled", _meeting_cancelled_text),
        ):
            register_notice(kind, text, details=_meeting_details, attachment=_meeting_invitation)
