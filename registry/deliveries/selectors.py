"""Reads of hand-over and delivery, always given the office, the resident or the
courier they are for."""

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from registry import tenancy
from registry.breaches import in_period
from registry.calendar import office_today
from registry.central.models import CardStock, CentralJob, CentralJobStatus
from registry.deliveries.models import Delivery, DeliveryAttempt, DeliveryStatus, Handover
from registry.models import Application, BreachDataKind, Resident, Role


def deliveries_for_resident(*, resident: Resident) -> QuerySet[Delivery]:
    return (Delivery.objects.filter(application__resident=resident)
            .select_related("office", "application").order_by("-created_at", "-id"))


def route_for_courier(*, user, day) -> QuerySet[Delivery]:
    """The courier's deliveries of `day`, in route order; only in offices where they
    are a courier."""
    return (Delivery.objects.filter(
        courier=user, scheduled_for=day,
        office_id__in=tenancy.staff_offices_with_role(user, Role.COURIER))
        .select_related("office", "application__resident", "application__service",
                        "handover__card")
        .prefetch_related("application__extra_services")
        .order_by("route_position", "id"))


def delivery_phone_visible(*, delivery: Delivery, courier) -> bool:
    """Whether `courier` may see the resident's full phone number: only on the delivery
    they carry today (the office's today), until it is closed. Any other courier, day
    or status gets it masked: a route is kept on a phone that can be lost."""
    return (delivery.courier_id == courier.pk and delivery.status == DeliveryStatus.ASSIGNED
            and delivery.scheduled_for == office_today(delivery.office))


def handover_with_card(*, application) -> Handover | None:
    return (Handover.objects.select_related("card", "application__service",
                                            "application__resident", "application__office")
            .filter(application=application).first())


def dashboard_figures(*, office, day) -> list[tuple[str, object]]:
    """Today's figures of printing, hand-over and delivery for the admin index."""
    deliveries = Delivery.objects.filter(office=office).aggregate(
        today=Count("id", filter=Q(scheduled_for=day)),
        delivered=Count("id", filter=Q(scheduled_for=day, status=DeliveryStatus.DELIVERED)),
        waiting=Count("id", filter=Q(status=DeliveryStatus.WAITING)),
    )
    stock = CardStock.objects.filter(office=office).first()
    jobs_waiting = CentralJob.objects.filter(office=office, status__in=[
        CentralJobStatus.PENDING, CentralJobStatus.SENDING, CentralJobStatus.WAITING_STOCK,
        CentralJobStatus.REJECTED]).count()
    stock_text = "-"
    if stock is not None:
        stock_text = str(stock.on_hand)
        if stock.on_hand < stock.alert_below:
            stock_text = _("%(count)s (low: below %(limit)s)") % {
                "count": stock.on_hand, "limit": stock.alert_below}
    return [
        (_("Blank cards in stock"), stock_text),
        (_("Transmissions waiting for the central server"), jobs_waiting),
        (_("Deliveries today (delivered)"),
         f"{deliveries['today']} ({deliveries['delivered']})"),
        (_("Deliveries waiting for dispatch"), deliveries["waiting"]),
    ]


# --- A case's hand-over and deliveries (read by complaints) ------------------------


def handover_of_application(*, application: Application) -> Handover | None:
    """The case's hand-over with its card, or None."""
    return Handover.objects.filter(application=application).select_related("card").first()


def deliveries_of_application(*, application: Application) -> QuerySet[Delivery]:
    return Delivery.objects.filter(application=application).order_by("id")


def delivery_attempts_of_deliveries(*, deliveries) -> QuerySet[DeliveryAttempt]:
    """The attempts of the given deliveries, by delivery and in the order they were
    made."""
    return DeliveryAttempt.objects.filter(delivery__in=deliveries).order_by(
        "delivery", "number")


def breach_data(*, kinds: set[str], start, end) -> list[QuerySet]:
    """BREACH_DATA (registry.breaches): delivery addresses written (address) and proof
    photos taken (photos) in the period, by the card holder."""
    sources = []
    if BreachDataKind.ADDRESS in kinds:
        sources.append(Delivery.objects.filter(
            in_period("created_at", start, end) | in_period("reopened_at", start, end))
            .values("application__resident_id"))
    if BreachDataKind.PHOTOS in kinds:
        sources.append(DeliveryAttempt.objects.exclude(photo="")
                       .filter(in_period("at", start, end))
                       .values("delivery__application__resident_id"))
    return sources
