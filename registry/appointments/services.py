"""Every write of the appointments app: one function per operation, one transaction."""

from datetime import date

from django.db import transaction

from registry import services as registry_services
from registry.models import Closure, Office


@transaction.atomic
def closure_declare(*, office: Office, day: date, reason: str, by=None) -> Closure:
    """Close the office on `day`. Residents booked on that day are told and offered
    the next free slots (to be completed with bookings)."""
    return registry_services.closure_add(office=office, day=day, reason=reason, by=by)
