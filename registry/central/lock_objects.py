"""The select_for_update querysets of the central link, in one place.

Each locks its own rows only (`of=("self",)`), whatever a caller joins for reading,
and rows taken several at a time are ordered by primary key (or by due time, for the
sweep, with SKIP LOCKED), so two transactions never wait on each other in opposite
orders. Lock order: the link, then the outage, then a job, then the card stock.
"""

from django.db.models import QuerySet

from registry.central.models import CardStock, CentralJob, CentralLink, CentralOutage


def central_link_for_update(office_id: int) -> CentralLink:
    """The office's link row (made when first needed), locked: one health check or
    failed send at a time decides whether an outage starts or ends."""
    CentralLink.objects.bulk_create([CentralLink(office_id=office_id)], ignore_conflicts=True)
    return CentralLink.objects.select_for_update(of=("self",)).get(office_id=office_id)


def outages_for_update() -> QuerySet[CentralOutage]:
    return CentralOutage.objects.select_for_update(of=("self",))


def central_jobs_for_update(*, skip_locked: bool = False) -> QuerySet[CentralJob]:
    """Jobs to lock; with `skip_locked` a job another sender holds is passed over."""
    return CentralJob.objects.select_for_update(of=("self",), skip_locked=skip_locked)


def card_stock_for_update(office_id: int) -> CardStock:
    """The office's blank-card stock (made when first needed), locked."""
    CardStock.objects.bulk_create([CardStock(office_id=office_id)], ignore_conflicts=True)
    return CardStock.objects.select_for_update(of=("self",)).get(office_id=office_id)


def card_stocks_for_update() -> QuerySet[CardStock]:
    return CardStock.objects.select_for_update(of=("self",))
