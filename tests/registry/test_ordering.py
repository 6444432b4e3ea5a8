"""A parent's rows (a service's requirements, a job's sends, a complaint's findings...)
are read in their default order without joining the parent: the default ordering names
the parent's id, not the parent, whose own ordering would join it and whatever it is
ordered by (a requirement list used to join the service, office and lane)."""

import pytest

from complaints.models import Chronology, Finding
from queues.models import CounterLane
from registry.appointments.models import BookingDocument
from registry.central.models import CentralJobAttempt
from registry.deliveries.models import DeliveryAttempt
from registry.models import Requirement


@pytest.mark.parametrize(("model", "parent", "joined"), [
    (Requirement, "service", set()),
    (CentralJobAttempt, "job", set()),
    (DeliveryAttempt, "delivery", set()),
    (CounterLane, "counter", set()),
    (Chronology, "complaint", set()),
    (Finding, "complaint", set()),
    # Ordered by the requirement's position, so that table and no other.
    (BookingDocument, "booking", {"registry_requirement"}),
])
def test_a_parents_rows_are_read_without_joining_the_parent(model, parent, joined):
    sql = str(model.objects.filter(**{f"{parent}_id": 1}).query)
    tables = {part.split('"')[1] for part in sql.split(" JOIN ")[1:]}
    assert tables == joined, sql
    assert " ORDER BY " in sql  # the default order is still applied
