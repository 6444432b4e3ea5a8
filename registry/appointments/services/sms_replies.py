"""Replies by SMS to offers of free times (services.sms_offers), as the gateway's
webhook hands them over: "1" or "2" books that time for the resident whose bound phone
sent it, with the rules of any booking; anything else gets a short answer. Once per
gateway id: a repeat answers with the first outcome and changes nothing.

Who replies is known only by the bound phone the SMS came from, never by what the text
says (a NIK in it counts for nothing); a phone bound to nobody gets no answer at all.
"""

import re
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from registry import extensions
from registry import lock_objects as registry_lock_objects
from registry.appointments import lock_objects
from registry.appointments.models import (
    Booking,
    BookingChannel,
    Slot,
    SmsInbound,
    SmsInboundOutcome,
    SmsOffer,
    SmsOfferStatus,
)
from registry.appointments.services.bookings import booking_create
from registry.appointments.services.sms_offers import (
    offer_action,
    office_contact,
    sms_offer_make,
)
from registry.errors import DomainError
from registry.models import NotificationChannel, Office, Resident
from registry.privacy import mask_address
from registry.service_sets import service_set_of
from registry.services.cases import case_event_record
from registry.services.notifications import notification_send
from registry.validators import normalize_phone

# "1", " 2 ", "1.", "balas 1", "Reply 2": the number is the answer.
CHOICE_RE = re.compile(r"^\s*(?:(?:balas|reply|pilih)\s*)?(\d{1,2})\s*[.!]?\s*$", re.IGNORECASE)


ANSWER_TITLE = _("e-Open")


TAKEN = _("That time has just been taken.")


HELP = _("Reply with the number of the time you want, for example 1. For anything else, "
         "call or WhatsApp the office at %(contact)s.")


NO_OFFER = _("There is no open offer of times for you. Call or WhatsApp the office at "
             "%(contact)s or come to the desk.")


REFUSED = _("The booking could not be made: %(reason)s Call or WhatsApp the office at "
            "%(contact)s.")


def sms_inbound_receive(*, gateway_id: str, sender: str, text: str,
                        now: datetime | None = None) -> tuple[SmsInbound, bool]:
    """Act on one SMS from the gateway, once per `gateway_id`: the stored SMS with its
    outcome, and whether it is new (False: a repeat, answered with the first outcome,
    nothing changed). One transaction; a repeat arriving while the first is handled
    waits on the id's unique index and then reads the first's row."""
    now = now or timezone.now()
    gateway_id = str(gateway_id)[:64]
    with transaction.atomic():
        first = SmsInbound.objects.filter(gateway_id=gateway_id).first()
        if first is not None:
            return first, False
        try:
            with transaction.atomic():
                inbound = SmsInbound.objects.create(
                    gateway_id=gateway_id, sender=str(sender)[:32], text=str(text)[:480],
                    received_at=now, outcome=SmsInboundOutcome.UNKNOWN_SENDER)
        except IntegrityError:
            return SmsInbound.objects.get(gateway_id=gateway_id), False
        _act(inbound, now=now)
        inbound.save()
    return inbound, True


def _sender_resident(sender: str) -> tuple[str, Resident | None]:
    try:
        phone = normalize_phone(sender)
    except DomainError:
        return "", None
    # The latest bound: a number given up and bound again belongs to its new holder.
    return phone, (Resident.objects.select_related("domicile_office")
                   .filter(phone=phone, phone_bound_at__isnull=False)
                   .order_by("-phone_bound_at", "-id").first())


def _act(inbound: SmsInbound, *, now: datetime) -> None:
    phone, resident = _sender_resident(inbound.sender)
    if resident is None:
        return  # a stranger learns nothing, not even that the number is unknown
    inbound.resident = resident
    open_offers = SmsOffer.objects.filter(resident=resident, phone=phone,
                                          status=SmsOfferStatus.OPEN, expires_at__gt=now)
    offer = open_offers.order_by("-created_at", "-id").first()
    if offer is not None:
        # The case, then the offer, locked: two replies at once (1 and 2) book once;
        # the second finds the offer answered.
        list(registry_lock_objects.applications_for_update()
             .filter(pk=offer.application_id).values_list("pk", flat=True))
        offer = (lock_objects.sms_offers_for_update()
                 .select_related("office", "application", "application__office")
                 .filter(pk=offer.pk).filter(pk__in=open_offers.values("pk")).first())
    office = offer.office if offer else resident.domicile_office
    inbound.office = office
    match = CHOICE_RE.match(inbound.text)
    if not match and _command(inbound, phone):
        return
    if offer is None:
        inbound.outcome = SmsInboundOutcome.NO_OFFER if match else SmsInboundOutcome.UNKNOWN_TEXT
        _answer(inbound, phone, NO_OFFER if match else HELP, {"contact": _contact(office)},
                application=None)
        return
    inbound.offer = offer
    choice = int(match.group(1)) if match else 0
    if not 1 <= choice <= len(offer.slot_ids):
        inbound.outcome = SmsInboundOutcome.UNKNOWN_TEXT
        _answer(inbound, phone, HELP, {"contact": _contact(office)},
                application=offer.application)
        return
    _book(inbound, offer, choice, phone=phone, now=now)
    case_event_record(application=offer.application, kind="sms.reply_received", at=now,
                      params={"text": inbound.text[:20], "phone": mask_address(phone),
                              "outcome": inbound.outcome}, by_resident=True)


def _command(inbound: SmsInbound, phone: str) -> bool:
    """The text as another app's command (registry.extensions SMS_COMMANDS: ANTAR asks
    for home delivery of a printed card): answered by SMS, True when one took it."""
    for command in extensions.registered(extensions.SMS_COMMANDS):
        taken = command(resident=inbound.resident, text=inbound.text)
        if taken is not None:
            answer, params, office = taken
            inbound.outcome = SmsInboundOutcome.COMMAND
            inbound.office = office or inbound.office
            _answer(inbound, phone, answer, params, application=None)
            return True
    return False


def _book(inbound: SmsInbound, offer: SmsOffer, choice: int, *, phone: str,
          now: datetime) -> None:
    """Book the offer's `choice`-th time, with the documents declared on the case's
    last booking; when it is gone, offer the next free times again."""
    application = offer.application
    # Only a slot of the offer's own office and lane: booking_create checks both.
    slot = (Slot.objects.select_related("lane", "office")
            .filter(pk=offer.slot_ids[choice - 1], office_id=offer.office_id).first())
    try:
        if slot is None:
            raise DomainError(TAKEN, "slot_not_found")
        booking = booking_create(
            office=offer.office, resident=inbound.resident,
            service=service_set_of(application), slot=slot,
            documents=_declared_before(application), channel=BookingChannel.SMS, now=now)
    except DomainError as error:
        offer.answered_at = now
        if error.code in ("slot_full", "slot_not_bookable", "slot_not_found"):
            inbound.outcome = SmsInboundOutcome.SLOT_TAKEN
            offer.save(update_fields=["answered_at"])
            _, slots = sms_offer_make(application=application, resident=inbound.resident,
                                      now=now)
            action, params = offer_action(slots, resident=inbound.resident,
                                          office=offer.office)
            _answer(inbound, phone, format_lazy("{} {}", TAKEN, action), params,
                    application=application)
        else:
            inbound.outcome = SmsInboundOutcome.REFUSED
            offer.save(update_fields=["answered_at"])
            _answer(inbound, phone, REFUSED, {"reason": str(error.message),
                                              "contact": _contact(offer.office)},
                    application=application)
        return
    offer.status, offer.answered_at, offer.booking = SmsOfferStatus.BOOKED, now, booking
    offer.save(update_fields=["status", "answered_at", "booking"])
    inbound.outcome, inbound.booking = SmsInboundOutcome.BOOKED, booking
    # The resident is told by booking_create's confirmation (code, date, times, lane,
    # what to bring), by SMS to the bound phone that replied.


def _declared_before(application) -> list[dict]:
    """The documents declared on the case's last booking, as a new booking takes them
    (as booking_reschedule carries them over); those the visit no longer asks for are
    left out."""
    last = (Booking.objects.filter(application=application)
            .order_by("-created_at", "-id").first())
    if last is None:
        return []
    wanted = {r.code for r in service_set_of(application).requirements()}
    return [{"requirement": doc.requirement.code, "issued_on": doc.issued_on}
            for doc in last.documents.select_related("requirement")
            if doc.requirement.code in wanted]


def _contact(office: Office | None) -> str:
    return office_contact(office) if office is not None else ""


def _answer(inbound: SmsInbound, phone: str, body, params: dict, *, application) -> None:
    """An answer by SMS to the number the SMS came from, kept in the inbox too."""
    if inbound.office is None:  # a resident of no office has no open offer to answer
        return
    notification_send(
        office=inbound.office, resident=inbound.resident, kind="sms.answer",
        title=ANSWER_TITLE, body=body, params=params, application=application,
        channels=[(NotificationChannel.SMS, phone)])
