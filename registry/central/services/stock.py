"""The office's blank-card stock: receiving, counting, and the low-stock alert.
"""

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry.background import enqueue_on_commit
from registry.central import lock_objects
from registry.central.models import (
    CardStock,
    CardStockMovement,
    CentralJob,
    CentralJobStatus,
    StockMovementReason,
)
from registry.central.services.link import SWEEP_BATCH
from registry.errors import DomainError
from registry.models import Office, Role, StaffMembership

logger = logging.getLogger(__name__)


@transaction.atomic
def card_stock_receive(*, office: Office, quantity: int, by=None, note: str = "") -> CardStock:
    """Blank cards arrived: add them, and release the prints that waited for stock
    (oldest first, as many as there are cards). Locks the office's CardStock row."""
    from registry.central.tasks import central_job_send as send_task

    if not isinstance(quantity, int) or quantity < 1 or quantity > 100_000:
        raise DomainError(_("Enter a number of cards between 1 and 100000."),
                          "quantity_invalid")
    stock = lock_objects.card_stock_for_update(office.id)
    stock.on_hand += quantity
    if stock.on_hand >= stock.alert_below:
        stock.low_alert_sent_at = None
    stock.save()
    CardStockMovement.objects.create(office=office, change=quantity, balance=stock.on_hand,
                                     reason=StockMovementReason.RECEIVED, note=note[:300],
                                     by=by if getattr(by, "pk", None) else None)
    waiting = list(CentralJob.objects.filter(
        office=office, status=CentralJobStatus.WAITING_STOCK).order_by("id")
        .values_list("id", flat=True)[:stock.on_hand])
    CentralJob.objects.filter(id__in=waiting).update(status=CentralJobStatus.PENDING,
                                                     next_attempt_at=timezone.now())
    for job_id in waiting:
        enqueue_on_commit(send_task, job_id)
    return stock


@transaction.atomic
def card_stock_correct(*, office: Office, counted: int, by, note: str) -> CardStock:
    """Staff counted the blank cards: the stock becomes what they counted."""
    if not isinstance(counted, int) or counted < 0 or counted > 1_000_000:
        raise DomainError(_("Enter the number of blank cards counted."), "quantity_invalid")
    if not (note or "").strip():
        raise DomainError(_("Say why the count is corrected."), "note_required")
    stock = lock_objects.card_stock_for_update(office.id)
    change = counted - stock.on_hand
    stock.on_hand = counted
    stock.save()
    CardStockMovement.objects.create(office=office, change=change, balance=counted,
                                     reason=StockMovementReason.CORRECTION, note=note[:300],
                                     by=by if getattr(by, "pk", None) else None)
    return stock


@transaction.atomic
def card_stock_set_threshold(*, office: Office, alert_below: int) -> CardStock:
    if not isinstance(alert_below, int) or alert_below < 0 or alert_below > 1_000_000:
        raise DomainError(_("Enter the alert threshold as a number of cards."),
                          "threshold_invalid")
    stock = lock_objects.card_stock_for_update(office.id)
    stock.alert_below = alert_below
    if stock.on_hand >= alert_below:
        stock.low_alert_sent_at = None
    stock.save()
    return stock


def card_stock_alert(*, office_id: int) -> bool:
    """Alert the office's supervisors by e-mail that blank cards run low, once until
    stock is received again. Locks the office's CardStock row while sending."""
    from django.core.mail import send_mail
    from django.utils import translation

    with transaction.atomic():
        stock = lock_objects.card_stocks_for_update().select_related("office").filter(
            office_id=office_id).first()
        if stock is None or stock.on_hand >= stock.alert_below or stock.low_alert_sent_at:
            return False
        addresses = sorted(set(
            StaffMembership.objects.filter(office_id=office_id, role=Role.SUPERVISOR,
                                           user__is_active=True)
            .exclude(user__email="").values_list("user__email", flat=True)))
        logger.warning("Office %s has %s blank cards left (alert below %s)",
                       stock.office.code, stock.on_hand, stock.alert_below)
        with translation.override(settings.LANGUAGE_CODE):
            subject = str(_("Blank KTP-el cards are running low"))
            body = str(_("%(office)s has %(count)s blank cards left (alert below %(limit)s). "
                         "Request new stock; prints wait when it runs out.")
                       % {"office": stock.office.name, "count": stock.on_hand,
                          "limit": stock.alert_below})
        if addresses:
            send_mail(subject, body, None, addresses, fail_silently=False)
        stock.low_alert_sent_at = timezone.now()
        stock.save(update_fields=["low_alert_sent_at"])
    return True


def card_stock_alerts_due() -> int:
    """Queue the low-stock alerts not yet sent (the broker was down): beat."""
    from registry.central.tasks import card_stock_alert as alert_task

    low = CardStock.objects.filter(on_hand__lt=F("alert_below"), low_alert_sent_at__isnull=True)
    office_ids = list(low.values_list("office_id", flat=True)[:SWEEP_BATCH])
    for office_id in office_ids:
        enqueue_on_commit(alert_task, office_id)
    return len(office_ids)
