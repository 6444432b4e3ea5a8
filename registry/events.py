"""Case event kinds of the registry core (see registry.timeline)."""

from django.utils.translation import gettext_lazy as _

from registry.models import ApplicationStatus, Channel, TurnAwayReason


def _opened(params):
    channel = dict(Channel.choices).get(params.get("channel"), params.get("channel", ""))
    return _("Case %(number)s opened for %(service)s (%(channel)s).") % {
        "number": params.get("number", ""),
        "service": params.get("service", ""),
        "channel": channel,
    }


def _status(params):
    labels = dict(ApplicationStatus.choices)
    return _("Case status changed from %(old)s to %(new)s.") % {
        "old": labels.get(params.get("old"), params.get("old", "")),
        "new": labels.get(params.get("new"), params.get("new", "")),
    }


def _turned_away(params):
    reason = dict(TurnAwayReason.choices).get(params.get("reason"), params.get("reason", ""))
    return _("Sent away at the door by the front desk: %(reason)s.") % {"reason": reason}


EVENT_KINDS = {
    "desk.turned_away": _turned_away,
    "application.opened": _opened,
    "application.status": _status,
    "application.note": _("Staff note."),
    "notification.sent": _("The resident was told: %(title)s"),
}
