"""The courier at the door: delivered (with the receipt code and proof), or not, and
what a supervisor may reopen.
"""

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry import tenancy
from registry.calendar import (
    office_next_working_day,
    office_today,
)
from registry.cards import normalize_receipt_code
from registry.deliveries import lock_objects
from registry.deliveries.models import (
    AttemptOutcome,
    CourierAbsence,
    Delivery,
    DeliveryAttempt,
    DeliverySettings,
    DeliveryStatus,
    FailReason,
    HandoverMethod,
    Relation,
)
from registry.deliveries.validators import check_photo
from registry.errors import Conflict, DomainError, NotFound
from registry.models import AccessKind, ApplicationStatus, Office, Role, StaffMembership
from registry.service_sets import service_set_of
from registry.services.access_log import record_access
from registry.services.cases import (
    application_set_status,
    case_event_record,
)
from registry.services.notifications import notification_send
from registry.services.offices import office_settings_get


def _courier_delivery(delivery_id: int, courier) -> Delivery:
    delivery = (lock_objects.deliveries_for_update()
                .select_related("application__service", "application__resident",
                                "application__office", "handover__card")
                .filter(pk=delivery_id, courier=courier,
                        office_id__in=tenancy.staff_offices_with_role(courier, Role.COURIER))
                .first())
    if delivery is None:
        raise NotFound(_("Not found."), "not_found")
    if delivery.status != DeliveryStatus.ASSIGNED:
        raise Conflict(_("This delivery is no longer on your route (%(status)s).")
                       % {"status": delivery.get_status_display()}, "delivery_not_assigned")
    return delivery


def _coordinates(latitude, longitude):
    try:
        lat, lon = float(latitude), float(longitude)
    except (TypeError, ValueError):
        raise DomainError(_("The location is missing; allow the phone to share it."),
                          "location_required") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise DomainError(_("The location is not valid."), "location_invalid")
    return round(lat, 6), round(lon, 6)


def delivery_deliver(*, delivery_id: int, courier, recipient_name: str,
                     recipient_relation: str, receipt_code: str, photo, latitude,
                     longitude) -> Delivery:
    """The courier handed the card over: the recipient, their relation to the holder,
    the receipt code (a wrong one is refused and changes nothing), a photo and the
    place are recorded, and the case is completed."""
    name = (recipient_name or "").strip()
    if not name or len(name) > 120:
        raise DomainError(_("Give the name of the person who received the card."),
                          "recipient_name_required")
    if recipient_relation not in Relation.values:
        raise DomainError(_("Choose the recipient's relation to the holder."),
                          "recipient_relation_invalid")
    lat, lon = _coordinates(latitude, longitude)
    with transaction.atomic():
        delivery = _courier_delivery(delivery_id, courier)
        application = delivery.application
        card = delivery.handover.card
        if normalize_receipt_code(receipt_code) != card.receipt_code:
            raise DomainError(_("The receipt code is wrong."), "receipt_code_wrong")
        if recipient_relation != Relation.SELF and service_set_of(application).holder_in_person:
            raise DomainError(_("Only the holder can receive this card."), "holder_in_person")
        extension = check_photo(photo)
        now = timezone.now()
        attempt = DeliveryAttempt(
            office_id=delivery.office_id, delivery=delivery,
            number=delivery.attempts.count() + 1, courier=courier,
            scheduled_for=delivery.scheduled_for, at=now, outcome=AttemptOutcome.DELIVERED,
            recipient_name=name, recipient_relation=recipient_relation,
            latitude=lat, longitude=lon)
        attempt.photo.save(f"proof.{extension}", photo, save=False)
        attempt.save()
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = now
        delivery.recipient_name = name
        delivery.recipient_relation = recipient_relation
        delivery.save()
        handover = delivery.handover
        handover.completed_at = now
        handover.collected_by_name = name
        handover.collected_relation = recipient_relation
        handover.collected_by_nik = ""
        handover.handed_over_by = courier
        handover.save()
        case_event_record(application=application, kind="delivery.delivered",
                          params={"name": name, "relation": recipient_relation,
                                  "latitude": str(lat), "longitude": str(lon),
                                  "attempt": attempt.number}, actor=courier)
        application_set_status(application=application, status=ApplicationStatus.COMPLETED,
                               actor=courier)
    return delivery


def delivery_fail(*, delivery_id: int, courier, reason: str, note: str = "",
                  latitude=None, longitude=None) -> Delivery:
    """The card could not be delivered: it goes out again on the next working day, or
    after the office's maximum of failed attempts waits for pick-up at the office."""
    if reason not in FailReason.values:
        raise DomainError(_("Choose why the card could not be delivered."), "reason_invalid")
    note = (note or "").strip()
    if len(note) > 500:
        raise DomainError(_("The note is too long (at most 500 characters)."), "note_too_long")
    lat = lon = None
    if latitude not in (None, "") and longitude not in (None, ""):
        lat, lon = _coordinates(latitude, longitude)
    with transaction.atomic():
        delivery = _courier_delivery(delivery_id, courier)
        application = delivery.application
        office = application.office
        attempt = DeliveryAttempt.objects.create(
            office_id=delivery.office_id, delivery=delivery,
            number=delivery.attempts.count() + 1, courier=courier,
            scheduled_for=delivery.scheduled_for, outcome=AttemptOutcome.FAILED,
            reason=reason, note=note, latitude=lat, longitude=lon)
        delivery.failed_attempts += 1
        delivery.courier = None
        delivery.route_position = None
        scheduled = delivery.scheduled_for
        delivery.scheduled_for = None
        limit = office_settings_get(DeliverySettings, office=office).max_failed_attempts
        params = {"number": attempt.number, "reason": reason, "note": note}
        case_event_record(application=application, kind="delivery.failed", params=params,
                          actor=courier)
        if delivery.failed_attempts >= limit:
            delivery.status = DeliveryStatus.RETURNED
            delivery.save()
            handover = delivery.handover
            handover.method = HandoverMethod.PICKUP
            handover.save(update_fields=["method"])
            case_event_record(application=application, kind="delivery.returned",
                              params={"count": delivery.failed_attempts})
            notification_send(
                office=office, resident=application.resident, kind="delivery.returned",
                title=_("Your KTP-el waits at the office"),
                body=_("We could not deliver your card for case %(number)s after %(count)s "
                       "attempts. It waits for you at %(office)s: collect it with the receipt "
                       "code, or send a family member as your proxy."),
                params={"number": application.number, "count": delivery.failed_attempts,
                        "office": office.name},
                application=application, dedup_key=f"delivery-returned:{delivery.id}")
        else:
            delivery.status = DeliveryStatus.WAITING
            delivery.not_before = office_next_working_day(office, scheduled or
                                                          office_today(office))
            delivery.save()
            notification_send(
                office=office, resident=application.resident, kind="delivery.failed",
                title=_("We could not deliver your KTP-el"),
                body=_("The courier could not deliver your card for case %(number)s today "
                       "(%(reason)s). It goes out again on %(date)s."),
                params={"number": application.number, "reason": FailReason(reason).label,
                        "date": delivery.not_before.strftime("%d-%m-%Y")},
                application=application, dedup_key=f"delivery-failed:{attempt.id}")
    return delivery


def delivery_reopen(*, delivery: Delivery, by, reason: str) -> Delivery:
    """A supervisor reopens a delivered or returned delivery (a disputed hand-over, a
    failure recorded by mistake): it waits for the next dispatch again, the case is
    open again, and the reason is on the timeline. The earlier attempts stay."""
    reason = (reason or "").strip()
    if not reason or len(reason) > 300:
        raise DomainError(_("Say why the delivery is reopened."), "reason_required")
    with transaction.atomic():
        delivery = (lock_objects.deliveries_for_update()
                    .select_related("application", "handover").get(pk=delivery.pk))
        if not tenancy.staff_has_role(by, delivery.office_id, Role.SUPERVISOR):
            raise NotFound(_("Not found."), "not_found")
        if delivery.status not in (DeliveryStatus.DELIVERED, DeliveryStatus.RETURNED):
            raise Conflict(_("Only a delivered or returned delivery can be reopened."),
                           "delivery_not_closed")
        if Delivery.objects.filter(application=delivery.application_id, status__in=[
                DeliveryStatus.WAITING, DeliveryStatus.ASSIGNED]).exists():
            raise Conflict(_("Another delivery of this card is under way."),
                           "delivery_under_way")
        previous = delivery.status
        now = timezone.now()
        delivery.status = DeliveryStatus.WAITING
        delivery.failed_attempts = 0
        delivery.not_before = None
        delivery.courier = None
        delivery.scheduled_for = None
        delivery.route_position = None
        delivery.delivered_at = None
        delivery.recipient_name = ""
        delivery.recipient_relation = ""
        delivery.waiting_since = now
        delivery.reopened_at = now
        delivery.reopened_by = by
        delivery.reopen_reason = reason
        delivery.save()
        handover = delivery.handover
        handover.method = HandoverMethod.DELIVERY
        handover.completed_at = None
        handover.collected_by_name = ""
        handover.collected_by_nik = ""
        handover.collected_relation = ""
        handover.handed_over_by = None
        handover.save()
        case_event_record(application=delivery.application, kind="delivery.reopened",
                          params={"previous": previous, "reason": reason}, actor=by)
        application_set_status(application=delivery.application,
                               status=ApplicationStatus.READY, actor=by)
    return delivery


@transaction.atomic
def courier_absence_add(*, office: Office, courier, day: date, reason: str = "",
                        by=None) -> CourierAbsence:
    if not StaffMembership.objects.filter(office=office, user=courier,
                                          role=Role.COURIER).exists():
        raise DomainError(_("This person is not a courier of the office."), "not_a_courier")
    absence, _created = CourierAbsence.objects.get_or_create(
        office=office, courier=courier, day=day, defaults={"reason": reason[:200]})
    return absence


@transaction.atomic
def delivery_settings_update(*, office: Office, max_per_courier: int,
                             max_failed_attempts: int, dispatch_time) -> DeliverySettings:
    if not 1 <= int(max_per_courier) <= 500:
        raise DomainError(_("A courier takes between 1 and 500 deliveries a day."),
                          "max_per_courier_invalid")
    if not 1 <= int(max_failed_attempts) <= 10:
        raise DomainError(_("Allow between 1 and 10 failed attempts."),
                          "max_failed_attempts_invalid")
    found = office_settings_get(DeliverySettings, office=office)
    found.max_per_courier = int(max_per_courier)
    found.max_failed_attempts = int(max_failed_attempts)
    found.dispatch_time = dispatch_time
    found.save()
    return found


def record_route_access(user, stops) -> None:
    """A courier's route shows each stop's resident (name, address, phone): one access-log
    row per office, with the residents of the stops (registry.services.access_log)."""
    by_office: dict[int, list[int]] = {}
    for stop in stops:
        by_office.setdefault(stop.office_id, []).append(stop.application.resident_id)
    for office_id, resident_ids in sorted(by_office.items()):
        record_access(user, kind=AccessKind.DELIVERY, residents=resident_ids,
                      office=office_id, target=str(_("route")))
