"""Case event kinds of the central link and card printing (see registry.timeline)."""

from django.utils.translation import gettext_lazy as _

from registry.central.models import CentralJobKind


def _job(params) -> str:
    return str(dict(CentralJobKind.choices).get(params.get("kind"), params.get("kind", "")))


def _queued(params):
    return _("%(job)s queued for the central server.") % {"job": _job(params)}


def _waiting(params):
    if params.get("since"):
        return _("The central server cannot be reached (link down since %(since)s, expected "
                 "back around %(expected)s). %(job)s waits and is sent automatically when "
                 "the link is back.") % {"job": _job(params), "since": params["since"],
                                          "expected": params.get("expected") or "-"}
    return _("The central server did not answer. %(job)s is sent again automatically.") % {
        "job": _job(params)}


def _accepted(params):
    return _("%(job)s accepted by the central server (reference %(ref)s).") % {
        "job": _job(params), "ref": params.get("ref", "")}


def _rejected(params):
    return _("%(job)s refused by the central server: %(error)s. Staff will check the case.") % {
        "job": _job(params), "error": params.get("error", "")}


def _retried(params):
    return _("%(job)s sent to the central server again by staff.") % {"job": _job(params)}


EVENT_KINDS = {
    "central.job_queued": _queued,
    "central.job_waiting": _waiting,
    "central.job_accepted": _accepted,
    "central.job_rejected": _rejected,
    "central.job_retried": _retried,
    "card.waiting_stock": _("The card waits to be printed: the office has no blank cards "
                            "left. It is printed as soon as new cards arrive."),
    "card.printed": _("The card was printed (central reference %(ref)s)."),
}
