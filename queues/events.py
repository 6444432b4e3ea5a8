"""Case event kinds of the queues (see registry.timeline). Params hold codes and names
as they were at the time; labels are rendered in the reader's language."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from queues.models import CallReason, NotServedReason, Outcome, Priority


def _label(choices, value) -> str:
    return str(dict(choices.choices).get(value, value or ""))


def _lane(params, prefix="") -> str:
    return _("lane %(lane)s (%(name)s)") % {"lane": params.get(f"{prefix}lane", ""),
                                           "name": params.get(f"{prefix}lane_name", "")}


def _issued(params):
    text = _("Queue ticket %(code)s taken at the kiosk for %(lane)s.") % {
        "code": params.get("code", ""), "lane": _lane(params)}
    if params.get("priority"):
        text += " " + _("Priority: %(priority)s.") % {
            "priority": _label(Priority, params["priority"])}
    return text


def _checked_in(params):
    if params.get("on_time"):
        text = _("Checked in with booking %(booking)s on time: ticket %(code)s in %(lane)s, "
                 "served ahead of walk-ins.")
    else:
        text = _("Checked in with booking %(booking)s after its time: ticket %(code)s in "
                 "%(lane)s, in turn with walk-ins.")
    return text % {"booking": params.get("booking", ""), "code": params.get("code", ""),
                   "lane": _lane(params)}


def _called(params):
    return _("Ticket %(code)s called to %(counter)s, %(lane)s. Why: %(reason)s.") % {
        "code": params.get("code", ""), "counter": params.get("counter", ""),
        "lane": _lane(params), "reason": _label(CallReason, params.get("reason"))}


def _recalled(params):
    return _("Ticket %(code)s called again to %(counter)s.") % {
        "code": params.get("code", ""), "counter": params.get("counter", "")}


def _started(params):
    return _("Service of ticket %(code)s started at %(counter)s.") % {
        "code": params.get("code", ""), "counter": params.get("counter", "")}


def _finished(params):
    text = _("Ticket %(code)s finished at %(counter)s: %(outcome)s.") % {
        "code": params.get("code", ""), "counter": params.get("counter", ""),
        "outcome": _label(Outcome, params.get("outcome"))}
    if params.get("reason"):
        text += " " + _("Reason: %(reason)s.") % {
            "reason": _label(NotServedReason, params["reason"])}
    return text


def _transferred(params):
    return _("Ticket %(code)s transferred at %(counter)s from %(from_lane)s to %(to_lane)s; "
             "it keeps its place by the time it was issued.") % {
        "code": params.get("code", ""), "counter": params.get("counter", ""),
        "from_lane": _lane(params), "to_lane": _lane(params, "to_")}


def _no_show(params):
    if params.get("by_sweep"):
        return _("Ticket %(code)s was closed as a no-show at the end of the day.") % {
            "code": params.get("code", "")}
    return _("Ticket %(code)s did not come when called to %(counter)s (no-show).") % {
        "code": params.get("code", ""), "counter": params.get("counter", "")}


def _identified(params):
    return _("The resident holding ticket %(code)s was identified at %(counter)s.") % {
        "code": params.get("code", ""), "counter": params.get("counter", "")}


def _closed(params):
    return _("Ticket %(code)s was closed at the end of the day while being served; the "
             "outcome was not recorded.") % {"code": params.get("code", "")}


EVENT_KINDS = {
    "queue.issued": _issued,
    "queue.checked_in": _checked_in,
    "queue.called": _called,
    "queue.recalled": _recalled,
    "queue.started": _started,
    "queue.finished": _finished,
    "queue.transferred": _transferred,
    "queue.no_show": _no_show,
    "queue.identified": _identified,
    "queue.closed": _closed,
    "queue.requirement_invalid": gettext_lazy(
        "At %(counter)s (ticket %(code)s) the %(document)s was found not valid: %(reason)s."),
}
