"""Offers of free times by SMS, for residents without the app.

When a booking of a resident with a feature phone ends unused (it expired, the office
cancelled it, a closure or new opening hours took its slot), their message offers the
next two free times of the same visit and how to take one: "Reply 1 for <day, date
time>, 2 for <...>" (registry.appointments.services.sms_replies books the reply). A
resident with no phone, or whose phone is not bound, is told to call the office or
come to the desk instead; nobody without the app is sent to it.
"""

from datetime import date, datetime

from django.db import transaction
from django.utils import translation
from django.utils.formats import date_format
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from registry.appointments.models import (
    Booking,
    Slot,
    SmsOffer,
    SmsOfferStatus,
)
from registry.appointments.selectors import slots_bookable
from registry.appointments.services.notices import booking_link, date_text, slot_params
from registry.models import Application, ApplicationStatus, Office, PhoneType, Resident
from registry.privacy import mask_address
from registry.service_sets import service_set_of
from registry.services.cases import case_event_record
from registry.services.notifications import notification_send

# Two: a choice, and short enough for one SMS with the reason before it.
OFFERED_TIMES = 2


REPLY_TWO = _("Reply 1 for %(first)s, 2 for %(second)s.")


REPLY_ONE = _("Reply 1 for %(first)s.")


NONE_FREE = _("No free time is open yet: call or WhatsApp the office at %(contact)s.")


CALL_OR_DESK = _("To book again, call or WhatsApp the office at %(contact)s or come to "
                 "the desk.")


EXPIRED_INTRO = _("You did not check in for %(service)s on %(date)s at %(start)s, so "
                  "booking %(code)s has expired. Your case stays open until %(until)s.")


OFFICE_CANCEL_INTRO = _("Your visit on %(date)s at %(start)s is cancelled by the office: "
                        "%(reason)s. Your case stays open.")


CLOSURE_INTRO = _("Your booking %(code)s on %(date)s at %(start)s is cancelled because "
                  "the office is closed (%(reason)s). Your case stays open.")


HOURS_INTRO = _("The office has changed its opening hours, so your booking %(code)s on "
                "%(date)s at %(start)s is cancelled. Your case stays open.")


def office_contact(office: Office) -> str:
    """How a resident reaches the office without the app: its WhatsApp centre (a
    phone number), else its e-mail, else its name and address."""
    return (office.whatsapp or office.email
            or ", ".join(part for part in (office.name, office.address) if part))


def slot_text(slot: Slot, language: str) -> str:
    """"Wednesday, 1 July 2026 08:00", in the resident's language."""
    with translation.override(language or "id"):
        return f"{date_format(slot.date, 'l, j F Y')} {slot.start:%H:%M}"


def can_reply_by_sms(resident: Resident) -> bool:
    """Only a bound phone's replies book (sms_replies): an offer goes to no other."""
    return (resident.phone_type == PhoneType.FEATURE_PHONE and bool(resident.phone)
            and resident.phone_bound_at is not None)


def sms_offer_make(*, application: Application, resident: Resident, now: datetime,
                   source_booking: Booking | None = None,
                   start: date | None = None) -> tuple[SmsOffer, list[Slot]]:
    """Offer the resident the next free times of the case's visit (its lane, from
    `start` or the first bookable day on) by SMS to their bound phone: the offer and
    its slots, in the order offered. An earlier open offer of the case is replaced. No
    message is sent here: the caller's message carries the offer (offer_action)."""
    office = application.office
    with transaction.atomic(savepoint=False):
        free = slots_bookable(office=office, service=service_set_of(application),
                              date_from=start, now=now)
        if source_booking is not None:  # the place it just gave back is not an offer
            free = free.exclude(pk=source_booking.slot_id)
        slots = list(free[:OFFERED_TIMES])
        SmsOffer.objects.filter(application=application, status=SmsOfferStatus.OPEN).update(
            status=SmsOfferStatus.REPLACED)
        offer = SmsOffer.objects.create(
            office=office, resident=resident, application=application,
            source_booking=source_booking, slot_ids=[slot.id for slot in slots],
            phone=resident.phone, created_at=now,
            expires_at=max((slot.starts_at for slot in slots), default=now),
            status=SmsOfferStatus.OPEN if slots else SmsOfferStatus.EMPTY)
        case_event_record(
            application=application, kind="sms.offer_made", at=now,
            params={"phone": mask_address(resident.phone),
                    "offers": "; ".join(f"{date_text(slot.date)} {slot.start:%H:%M}"
                                        for slot in slots)})
    return offer, slots


def offer_action(slots: list[Slot], *, resident: Resident, office: Office):
    """The sentence that tells the resident how to take one of `slots`, and its
    params."""
    texts = [slot_text(slot, resident.language) for slot in slots]
    params = {"contact": office_contact(office)}
    if len(texts) >= 2:
        return REPLY_TWO, {**params, "first": texts[0], "second": texts[1]}
    if texts:
        return REPLY_ONE, {**params, "first": texts[0]}
    return NONE_FREE, params


def booking_ended_tell(*, booking: Booking, kind: str, title, intro, params: dict,
                       now: datetime, start: date | None = None,
                       dedup_key: str | None = None) -> SmsOffer | None:
    """Tell a resident without the app that their booking ended (`intro`, formatted
    with `params`), and what to do: reply 1 or 2 to the free times offered, with a
    bound feature phone and a case still open; else call the office or come to the
    desk. The offer made, if any. The caller holds the transaction."""
    resident, office = booking.resident, booking.office
    offer = None
    if can_reply_by_sms(resident) and booking.application.status == ApplicationStatus.OPEN:
        offer, slots = sms_offer_make(application=booking.application, resident=resident,
                                      now=now, source_booking=booking, start=start)
        action, extra = offer_action(slots, resident=resident, office=office)
    else:
        action, extra = CALL_OR_DESK, {"contact": office_contact(office)}
    notification_send(
        office=office, resident=resident, kind=kind, title=title,
        body=format_lazy("{} {}", intro, action), params={**params, **extra},
        application=booking.application, link=booking_link(booking), dedup_key=dedup_key)
    return offer


def sms_offers_after_expiry(*, office_id: int, token: str, until: date, title,
                            now: datetime) -> int:
    """The follow-up of an expiry sweep for the bookings it expired under `token` whose
    residents reply by SMS (a bound feature phone): each is offered the next free times
    in its message. One query when there are none; the others were told in the
    sweep's set-based step. How many were told."""
    bookings = list(
        Booking.objects.filter(office_id=office_id, sweep_token=token,
                               resident__phone_type=PhoneType.FEATURE_PHONE,
                               resident__phone_bound_at__isnull=False)
        .exclude(resident__phone="")
        .select_related("slot", "slot__lane", "service", "resident", "application",
                        "application__office", "office")
        .order_by("id"))
    for booking in bookings:
        booking_ended_tell(
            booking=booking, kind="booking.expired", title=title, intro=EXPIRED_INTRO,
            params={**slot_params(booking), "until": date_text(until)}, now=now,
            dedup_key=f"booking:{booking.id}:expired")
    return len(bookings)
