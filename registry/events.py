"""Case event kinds of the registry core (see registry.timeline)."""

from django.utils.translation import gettext_lazy as _

from registry.models import ApplicationStatus, Channel


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


EVENT_KINDS = {
    "application.opened": _opened,
    "application.status": _status,
    "application.note": _("Staff note."),
    "notification.sent": _("The resident was told: %(title)s"),
}
