"""The hand-over's trends (registry.trends): cards delivered home, handed over at the
office, failed delivery attempts and deliveries returned to pick-up, per office over a
period in the office's calendar, and the failed attempts by reason.

Queries: three (the attempts, the returns, the hand-overs at the office), whatever the
offices, their time zones and the days.
"""

from collections import defaultdict
from datetime import date

from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext_lazy as _

from registry.deliveries.models import (
    AttemptOutcome,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    FailReason,
    Handover,
)
from registry.models import Office
from registry.trends import Chart, Kind, Period, Series, counts_by_day, nested

SECTION = _("Deliveries")


def deliveries_returned() -> QuerySet[DeliveryAttempt]:
    """The attempt that returned each delivery now returned to pick-up: its last one
    (delivery_fail returns it on the office's last allowed failure). A return a
    supervisor reopened is undone (delivery_reopen) and not counted; its failed attempts
    stay."""
    later = DeliveryAttempt.objects.filter(delivery=OuterRef("delivery"),
                                           number__gt=OuterRef("number"))
    return DeliveryAttempt.objects.filter(outcome=AttemptOutcome.FAILED,
                                          delivery__status=DeliveryStatus.RETURNED
                                          ).exclude(Exists(later))


def handovers_at_the_office() -> QuerySet[Handover]:
    """Hand-overs completed at the counter: completed and not by a delivered delivery
    (delivery_deliver completes the hand-over with its delivery)."""
    delivered = Delivery.objects.filter(handover=OuterRef("pk"),
                                        status=DeliveryStatus.DELIVERED)
    return Handover.objects.exclude(Exists(delivered))


def charts(*, offices: list[Office], period: Period) -> dict[int, list[Chart]]:
    """The hand-over's charts of each office (registry.extensions.TRENDS):
    - deliveries: per bucket, cards delivered home (delivered attempts), handed over at
      the office (hand-overs completed at the counter), failed attempts, and deliveries
      returned to pick-up (on the day of the attempt that returned them);
    - failed_by_reason: the failed attempts of the period by reason."""
    attempts = nested(counts_by_day(DeliveryAttempt.objects.all(), offices, period, "at",
                                   "outcome", "reason"))
    returned = nested(counts_by_day(deliveries_returned(), offices, period, "at"))
    at_office = nested(counts_by_day(handovers_at_the_office(), offices, period,
                                    "completed_at"))
    labels = period.labels()
    out = {}
    for office in offices:
        delivered: dict[date, int] = defaultdict(int)
        failed: dict[date, int] = defaultdict(int)
        failed_by_reason: dict[str, int] = defaultdict(int)
        for (outcome, reason), days in attempts[office.id].items():
            for day, n in days.items():
                if outcome == AttemptOutcome.DELIVERED:
                    delivered[day] += n
                else:
                    failed[day] += n
                    failed_by_reason[reason] += n
        out[office.id] = [
            Chart(key="deliveries", section=str(SECTION),
                  title=str(_("Cards handed over and delivery attempts")), labels=labels,
                  kind=Kind.BARS, series=[
                      Series(str(_("Delivered home")), period.bucketed(delivered)),
                      Series(str(_("Handed over at the office")),
                             period.bucketed(at_office[office.id][()])),
                      Series(str(_("Failed attempts")), period.bucketed(failed)),
                      Series(str(_("Returned to pick-up")),
                             period.bucketed(returned[office.id][()])),
                  ]),
            Chart(key="failed_by_reason", section=str(SECTION),
                  title=str(_("Failed deliveries by reason")),
                  labels=[str(label) for label in FailReason.labels], kind=Kind.BARS,
                  unit=str(_("attempts")), label_title=str(_("reason")),
                  series=[Series(str(_("Failed attempts")),
                                 [failed_by_reason[reason] for reason in FailReason.values])]),
        ]
    return out
