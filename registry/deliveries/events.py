"""Case event kinds of hand-over and delivery (see registry.timeline)."""

from django.utils.translation import gettext_lazy as _

from registry.deliveries.models import FailReason, HandoverMethod, Relation


def _label(choices, value) -> str:
    return str(dict(choices.choices).get(value, value or ""))


def _chosen(params):
    method = _label(HandoverMethod, params.get("method"))
    if params.get("method") == HandoverMethod.PROXY:
        return _("Hand-over chosen: %(method)s, %(name)s (%(relation)s).") % {
            "method": method, "name": params.get("proxy_name", ""),
            "relation": _label(Relation, params.get("proxy_relation"))}
    return _("Hand-over chosen: %(method)s.") % {"method": method}


def _collected(params):
    text = _("The card was handed over at the counter to %(name)s, NIK %(nik)s "
             "(%(relation)s).") % {"name": params.get("name", ""), "nik": params.get("nik", ""),
                                   "relation": _label(Relation, params.get("relation"))}
    if params.get("fingerprint"):
        text = _("%(text)s Fingerprint matched.") % {"text": text}
    return text


def _delivered(params):
    return _("The card was delivered to %(name)s (%(relation)s) with the receipt code; "
             "photo and location %(latitude)s, %(longitude)s recorded.") % {
        "name": params.get("name", ""), "relation": _label(Relation, params.get("relation")),
        "latitude": params.get("latitude", ""), "longitude": params.get("longitude", "")}


def _failed(params):
    return _("Delivery attempt %(number)s failed: %(reason)s.") % {
        "number": params.get("number", ""), "reason": _label(FailReason, params.get("reason"))}


def _reopened(params):
    return _("A supervisor reopened the delivery: %(reason)s") % {
        "reason": params.get("reason", "")}


EVENT_KINDS = {
    "handover.chosen": _chosen,
    "handover.collected": _collected,
    "delivery.waiting": _("Home delivery to %(address)s waits for the next dispatch."),
    "delivery.scheduled": _("Delivery scheduled for %(day)s with courier %(courier)s "
                            "(stop %(stop)s)."),
    "delivery.not_attempted": _("The delivery planned for %(day)s was not attempted; it is "
                                "dispatched again."),
    "delivery.delivered": _delivered,
    "delivery.failed": _failed,
    "delivery.returned": _("After %(count)s failed attempts the card waits for pick-up at "
                           "the office."),
    "delivery.cancelled": _("The home delivery was cancelled."),
    "delivery.reopened": _reopened,
}
