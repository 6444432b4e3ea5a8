"""Case event kinds of appointments (see registry.timeline)."""

from django.utils.translation import gettext_lazy as _

from registry.appointments.models import SmsInboundOutcome


def _checked_in(params):
    if params.get("on_time"):
        return _("Checked in with booking %(code)s, on time.") % params
    return _("Checked in with booking %(code)s, after the slot's end.") % params


def _services_changed(params):
    if params.get("where") == "rebooking":
        return _("Booked again for %(to)s (was %(from)s).") % {
            "from": params.get("from", ""), "to": params.get("to", "")}
    where = {"counter": _("at the counter"), "phone_desk": _("by the phone desk")}.get(
        params.get("where"), params.get("where", ""))
    return _("Booking %(code)s changed %(where)s from %(from)s to %(to)s.") % {
        "code": params.get("code", ""), "where": where, "from": params.get("from", ""),
        "to": params.get("to", "")}


def _sms_offer_made(params):
    if params.get("offers"):
        return _("Free times offered by SMS to %(phone)s: %(offers)s.") % params
    return _("No free time to offer by SMS to %(phone)s; the office's contact was "
             "sent.") % params


def _sms_reply(params):
    outcome = dict(SmsInboundOutcome.choices).get(params.get("outcome"), params.get("outcome"))
    return _("SMS reply %(text)s from %(phone)s: %(outcome)s.") % {**params, "outcome": outcome}


EVENT_KINDS = {
    "booking.services_changed": _services_changed,
    "booking.created": _("Booked %(code)s: %(service)s on %(date)s, %(start)s-%(end)s, "
                         "lane %(lane)s."),
    "booking.cancelled": _("Booking %(code)s for %(date)s cancelled by the resident."),
    "booking.cancelled_by_office": _("Booking %(code)s for %(date)s cancelled by the office: "
                                     "%(reason)s."),
    "booking.cancelled_by_closure": _("Booking %(code)s for %(date)s cancelled: the office is "
                                      "closed (%(reason)s). Offered: %(offers)s."),
    "booking.cancelled_by_hours": _("Booking %(code)s for %(date)s at %(start)s cancelled: "
                                    "the office changed its opening hours. Offered: "
                                    "%(offers)s."),
    "booking.rescheduled": _("Booking %(code)s moved from %(old_date)s %(old_start)s to "
                             "%(date)s %(start)s."),
    "booking.checked_in": _checked_in,
    "booking.done": _("Booking %(code)s used: the resident was served."),
    "booking.expired": _("Booking %(code)s for %(date)s at %(start)s expired without a "
                         "check-in; re-booking possible until %(until)s."),
    "booking.lapsed": _("No new booking by %(until)s: the case lapsed."),
    "booking.document_sent": _("%(document)s sent ahead for booking %(code)s."),
    "booking.document_accepted": _("%(document)s of booking %(code)s accepted by the "
                                   "front desk."),
    "booking.document_rejected": _("%(document)s of booking %(code)s rejected: %(reason)s."),
    "sms.offer_made": _sms_offer_made,
    "sms.reply_received": _sms_reply,
}
