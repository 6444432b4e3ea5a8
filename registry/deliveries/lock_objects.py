"""The select_for_update querysets of hand-overs and deliveries, in one place.

Each locks its own rows only (`of=("self",)`), whatever a caller joins for reading;
rows taken several at a time are ordered by primary key, so two transactions never
wait on each other in opposite orders. Lock order: the day's dispatch run, then the
hand-over, then its deliveries.
"""

from django.db.models import QuerySet

from registry.deliveries.models import Delivery, DispatchRun, Handover


def dispatch_run_for_update(*, office, day) -> DispatchRun:
    """The office's dispatch run of `day` (made when first needed), locked: one
    dispatch of a day at a time."""
    DispatchRun.objects.bulk_create([DispatchRun(office=office, day=day)],
                                    ignore_conflicts=True)
    return DispatchRun.objects.select_for_update(of=("self",)).get(office=office, day=day)


def handovers_for_update() -> QuerySet[Handover]:
    return Handover.objects.select_for_update(of=("self",))


def deliveries_for_update() -> QuerySet[Delivery]:
    return Delivery.objects.select_for_update(of=("self",))
