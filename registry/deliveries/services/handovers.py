"""How the printed card reaches the resident: the resident's choice (pick-up, proxy or
home delivery) and the hand-over at the counter.

The card printed by registry.central reaches the resident in one of three ways: the
holder collects it at the counter, a proxy the holder named collects it, or a courier
delivers it home. Whoever receives it gives the receipt code. Services whose policy
needs the holder in person (a fingerprint match) offer the first way only.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from registry import tenancy
from registry.cards import normalize_receipt_code
from registry.central.models import Card
from registry.deliveries import lock_objects
from registry.deliveries.models import (
    PROXY_RELATIONS,
    Delivery,
    DeliveryStatus,
    Handover,
    HandoverMethod,
    Relation,
)
from registry.errors import Conflict, DomainError, NotFound
from registry.models import Application, ApplicationStatus, PhoneType, Role
from registry.nik import NikError, mask_nik, parse_nik
from registry.service_sets import service_set_of
from registry.services.cases import (
    application_set_status,
    case_event_record,
)
from registry.services.notifications import notification_send


def handover_open(*, application: Application, card: Card) -> Handover:
    """The card of a served application will be printed: its hand-over starts as
    pick-up by the holder. Called by registry.central in the caller's transaction."""
    handover, _created = Handover.objects.get_or_create(
        application=application, defaults={"office_id": application.office_id, "card": card})
    return handover


def handover_options(*, handover: Handover) -> list[dict]:
    """Each method, whether it is offered for this case and, if not, why."""
    application = handover.application
    service = service_set_of(application)
    resident = application.resident
    in_person = str(_("This service needs the holder in person at hand-over (a fingerprint "
                      "match before the card is given), so only the holder can collect it."))
    options = [{"method": HandoverMethod.PICKUP.value, "available": True, "code": "",
                "reason": ""}]
    for method in (HandoverMethod.PROXY, HandoverMethod.DELIVERY):
        code, reason = "", ""
        if service.holder_in_person:
            code, reason = "holder_in_person", in_person
        elif method == HandoverMethod.DELIVERY:
            code, reason = _delivery_refusal(handover, resident)
        options.append({"method": method.value, "available": not code, "code": code,
                        "reason": str(reason)})
    return options


def _delivery_refusal(handover: Handover, resident) -> tuple[str, str]:
    application = handover.application
    if not service_set_of(application).home_delivery:
        return "delivery_not_offered", _("Home delivery is not offered for this service.")
    if resident.domicile_office_id != application.office_id:
        return "delivery_outside_area", _("Home delivery reaches addresses in the office's own "
                                          "area only; collect the card at the office.")
    if not resident.address:
        return "address_missing", _("Your domicile address is not on record; update it at "
                                    "the office's front desk.")
    if handover.deliveries.filter(status=DeliveryStatus.RETURNED).exists() and not \
            handover.deliveries.filter(status__in=[DeliveryStatus.WAITING,
                                                   DeliveryStatus.ASSIGNED]).exists():
        return "delivery_returned", _("Delivery was tried too many times; the card waits for "
                                      "you at the office.")
    return "", ""


def handover_for_application(*, application: Application) -> Handover:
    handover = (Handover.objects.select_related("card", "application__service",
                                                "application__resident", "application__office")
                .filter(application=application).first())
    if handover is None:
        if not service_set_of(application).produces_card:
            raise Conflict(_("This service does not produce a card to hand over."), "no_card")
        raise Conflict(_("You can choose how to receive the card after your visit, once "
                         "the card is on its way."), "handover_not_yet")
    return handover


def _active_delivery(handover: Handover) -> Delivery | None:
    return (lock_objects.deliveries_for_update()
            .filter(handover=handover, status__in=[DeliveryStatus.WAITING,
                                                   DeliveryStatus.ASSIGNED]).first())


def _delivery_create(handover: Handover) -> Delivery:
    resident = handover.application.resident
    delivery = Delivery.objects.create(
        office_id=handover.office_id, application_id=handover.application_id,
        handover=handover, address=resident.address, kecamatan=resident.kecamatan,
        kelurahan=resident.kelurahan, latitude=resident.latitude,
        longitude=resident.longitude,
    )
    case_event_record(application=handover.application, kind="delivery.waiting",
                      params={"address": resident.address})
    return delivery


def handover_choose(*, application: Application, method: str, proxy_name: str = "",
                    proxy_nik: str = "", proxy_relation: str = "", by=None,
                    by_resident: bool = False) -> Handover:
    """Record how the card reaches the resident (the app or the front desk). Refused,
    changing nothing, when the service's policy or the case does not allow it. Locks
    the hand-over row."""
    if method not in HandoverMethod.values:
        raise DomainError(_("Choose pickup, proxy or delivery."), "method_invalid")
    with transaction.atomic():
        handover = handover_for_application(application=application)
        handover = lock_objects.handovers_for_update().select_related(
            "card", "application__service", "application__resident").get(pk=handover.pk)
        if handover.completed_at is not None:
            raise Conflict(_("The card has already been handed over."), "handover_completed")
        active = _active_delivery(handover)
        if active is not None and active.status == DeliveryStatus.ASSIGNED:
            raise Conflict(_("The card is out with a courier today; the choice can be "
                             "changed if this delivery fails."), "delivery_under_way")
        offered = {o["method"]: o for o in handover_options(handover=handover)}[method]
        if not offered["available"]:
            raise DomainError(offered["reason"], offered["code"])
        fields = {"method": method, "proxy_name": "", "proxy_nik": "", "proxy_relation": ""}
        if method == HandoverMethod.PROXY:
            fields.update(_proxy_fields(handover, proxy_name, proxy_nik, proxy_relation))
        if all(getattr(handover, k) == v for k, v in fields.items()):
            return handover  # the same choice again: nothing to record
        for key, value in fields.items():
            setattr(handover, key, value)
        handover.chosen_at = timezone.now()
        handover.chosen_by = by if getattr(by, "pk", None) else None
        handover.save()
        case_event_record(
            application=handover.application, kind="handover.chosen",
            params={"method": method, "proxy_name": fields["proxy_name"],
                    "proxy_relation": fields["proxy_relation"]},
            actor=by, by_resident=by_resident)
        if method == HandoverMethod.DELIVERY:
            if active is None and handover.card.printed_at is not None:
                _delivery_create(handover)
        elif active is not None:
            active.status = DeliveryStatus.CANCELLED
            active.save(update_fields=["status"])
            case_event_record(application=handover.application, kind="delivery.cancelled",
                              actor=by, by_resident=by_resident)
    return handover


def _proxy_fields(handover: Handover, name: str, nik: str, relation: str) -> dict:
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise DomainError(_("Give the proxy's full name."), "proxy_name_required")
    try:
        parsed = parse_nik(nik or "").nik
    except NikError as exc:
        raise DomainError(exc.message, "proxy_nik_invalid") from exc
    if parsed == handover.application.resident.nik:
        raise DomainError(_("The proxy is someone other than the holder."), "proxy_is_holder")
    if relation not in dict(PROXY_RELATIONS):
        raise DomainError(_("Choose the proxy's relation to the holder: spouse, parent, "
                            "child, sibling or other family."), "proxy_relation_invalid")
    return {"proxy_name": name, "proxy_nik": parsed, "proxy_relation": relation}


def handover_card_printed(*, card: Card) -> Handover:
    """The card is printed (registry.central, in its transaction): a chosen home
    delivery starts waiting for dispatch, and the resident is told how to receive it,
    with the receipt code."""
    handover = Handover.objects.select_related(
        "application__service", "application__resident", "application__office").get(card=card)
    handover.card = card
    application = handover.application
    office = application.office
    params = {"number": application.number, "office": office.name,
              "code": card.receipt_code}
    if handover.method == HandoverMethod.DELIVERY:
        _delivery_create(handover)
        body = _("Your card for case %(number)s is printed and will be delivered to your home; "
                 "you will be told the day. Whoever receives it must give the receipt code "
                 "%(code)s.")
    elif service_set_of(application).holder_in_person:
        body = _("Your card for case %(number)s is printed. Collect it in person at %(office)s "
                 "with the receipt code %(code)s: a fingerprint match is needed, "
                 "so nobody else can collect it.")
    elif application.resident.phone_type != PhoneType.SMARTPHONE:
        # No app: how to ask for home delivery without it.
        if handover.method == HandoverMethod.PROXY:
            params["proxy"] = handover.proxy_name
            printed = _("Your card for case %(number)s is printed. %(proxy)s can collect it "
                        "at %(office)s with the receipt code %(code)s and their own KTP-el.")
        else:
            printed = _("Your card for case %(number)s is printed. Collect it at %(office)s "
                        "with the receipt code %(code)s.")
        body = _choice_text(printed, application)
    elif handover.method == HandoverMethod.PROXY:
        params["proxy"] = handover.proxy_name
        body = _("Your card for case %(number)s is printed. %(proxy)s can collect it at "
                 "%(office)s with the receipt code %(code)s and their own KTP-el. You can "
                 "still collect it yourself or choose home delivery in the app.")
    else:
        body = _("Your card for case %(number)s is printed. Collect it at %(office)s "
                 "with the receipt code %(code)s, send a family member as your proxy, or "
                 "choose home delivery in the app.")
    if application.resident.phone_type == PhoneType.NONE:
        params["contact"] = application.office.whatsapp or application.office.name
    notification_send(office=office, resident=application.resident, kind="card.ready",
                      title=_("Your KTP-el is ready"), body=body, params=params,
                      application=application, dedup_key=f"card-ready:{card.id}")
    return handover


def _choice_text(printed, application: Application):
    """How a resident without the app asks for home delivery: an SMS reply
    (DELIVERY_COMMAND) from a feature phone, else the front desk. A card held for the
    holder in person has no choice to make."""
    visit = service_set_of(application)
    if not visit.home_delivery or visit.holder_in_person:
        return printed
    phone_type = application.resident.phone_type
    if phone_type == PhoneType.FEATURE_PHONE:
        return format_lazy("{} {}", printed, _("Reply ANTAR to have it delivered to your "
                                              "home."))
    return format_lazy("{} {}", printed, _("For home delivery, tell the front desk or "
                                          "call %(contact)s."))


# An SMS reply asking for the printed card to be brought home (registry.extensions
# SMS_COMMANDS); what card-ready and outage messages tell feature-phone residents.
DELIVERY_COMMAND = "ANTAR"


def handover_delivery_by_sms(*, resident, text: str):
    """`ANTAR` from the resident's bound phone: home delivery of their card waiting to
    be handed over (the latest), under the same rules as in the app. The answer to send
    back (text, parameters) and the office of the card, or None when the text is not
    this command."""
    if text.strip().upper() != DELIVERY_COMMAND:
        return None
    handover = (Handover.objects.select_related("application", "application__office")
                .filter(application__resident=resident, completed_at__isnull=True)
                .order_by("-id").first())
    if handover is None:
        return _("No card of yours is waiting to be handed over."), {}, None
    application = handover.application
    try:
        handover_choose(application=application, method=HandoverMethod.DELIVERY,
                        by_resident=True)
    except DomainError as exc:
        return exc.message, {}, application.office
    return (_("Home delivery of your card for case %(number)s is chosen. You will be told "
              "the day; whoever receives it gives the receipt code."),
            {"number": application.number}, application.office)


def handover_collect(*, handover: Handover, receipt_code: str, collector_name: str,
                     collector_nik: str, by, fingerprint_verified: bool = False) -> Handover:
    """Give the printed card to the holder or their named proxy at the counter. The
    receipt code is required; who collected, their relation, the staff member and the
    time are recorded. A wrong code or a wrong person is refused and changes nothing."""
    with transaction.atomic():
        handover = lock_objects.handovers_for_update().select_related(
            "card", "application__service", "application__resident").get(pk=handover.pk)
        application = handover.application
        if not tenancy.staff_has_role(by, handover.office_id, Role.FRONT_DESK,
                                      Role.COUNTER_OPERATOR, Role.SUPERVISOR,
                                      Role.OFFICE_ADMIN):
            raise NotFound(_("Not found."), "not_found")
        if handover.completed_at is not None:
            raise Conflict(_("The card has already been handed over."), "handover_completed")
        if handover.card.printed_at is None:
            raise Conflict(_("The card is not printed yet."), "card_not_printed")
        if normalize_receipt_code(receipt_code) != handover.card.receipt_code:
            raise DomainError(_("The receipt code is wrong."), "receipt_code_wrong")
        name = (collector_name or "").strip()
        if not name or len(name) > 120:
            raise DomainError(_("Give the name of the person collecting the card."),
                              "collector_name_required")
        try:
            nik = parse_nik(collector_nik or "").nik
        except NikError as exc:
            raise DomainError(exc.message, "collector_nik_invalid") from exc
        if nik == application.resident.nik:
            relation = Relation.SELF
            if service_set_of(application).holder_in_person and not fingerprint_verified:
                raise DomainError(_("Match the holder's fingerprint before handing over this "
                                    "card."), "fingerprint_required")
        elif (handover.method == HandoverMethod.PROXY and nik == handover.proxy_nik
              and not service_set_of(application).holder_in_person):
            relation = handover.proxy_relation
        else:
            raise DomainError(_("Only the holder, or the proxy the holder named, can collect "
                                "this card."), "not_holder_or_proxy")
        active = _active_delivery(handover)
        if active is not None and active.status == DeliveryStatus.ASSIGNED:
            raise Conflict(_("The card is out with a courier today."), "delivery_under_way")
        if active is not None:
            active.status = DeliveryStatus.CANCELLED
            active.save(update_fields=["status"])
            case_event_record(application=application, kind="delivery.cancelled", actor=by)
        handover.completed_at = timezone.now()
        handover.collected_by_name = name
        handover.collected_by_nik = nik
        handover.collected_relation = relation
        handover.handed_over_by = by
        handover.fingerprint_verified = bool(fingerprint_verified)
        handover.save()
        case_event_record(application=application, kind="handover.collected",
                          params={"name": name, "nik": mask_nik(nik), "relation": relation,
                                  "fingerprint": bool(fingerprint_verified)}, actor=by)
        application_set_status(application=application, status=ApplicationStatus.COMPLETED,
                               actor=by)
    return handover
