"""Offices: creating one with its catalogue of services, and closing it on a day.
"""

import logging
from datetime import date

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from registry.catalogue import LOST_INSTEAD, STANDARD_LANES, STANDARD_SERVICES
from registry.errors import Conflict
from registry.models import (
    DEFAULT_CLOSES,
    DEFAULT_OPENS,
    Closure,
    Lane,
    Office,
    Requirement,
    Service,
    WorkingHours,
)

logger = logging.getLogger(__name__)


@transaction.atomic
def office_create(*, code: str, name: str, timezone_name: str = "Asia/Jakarta",
                  address: str = "", **contacts) -> Office:
    """A new office with the default week: Monday to Friday, 08:00 to 15:00."""
    if Office.objects.filter(code=code).exists():
        raise Conflict(_("An office with region code %(code)s exists.") % {"code": code},
                       "office_exists")
    office = Office(code=code, name=name, timezone=timezone_name, address=address, **contacts)
    office.full_clean()
    office.save()
    WorkingHours.objects.bulk_create(
        WorkingHours(office=office, weekday=day, opens=DEFAULT_OPENS, closes=DEFAULT_CLOSES)
        for day in range(5)
    )
    return office


@transaction.atomic
def catalogue_seed(*, office: Office) -> list[Service]:
    """Give an office the standard lanes and services (registry.catalogue). Existing
    lanes, services and requirements are left as the office edited them."""
    lanes = {}
    for letter, name in STANDARD_LANES:
        lanes[letter], _created = Lane.objects.get_or_create(
            office=office, letter=letter, defaults={"name": name})
    services, created_ids = [], []
    for spec in STANDARD_SERVICES:
        service, created = Service.objects.get_or_create(
            office=office, code=spec["code"],
            defaults={
                "name": spec["name"], "lane": lanes[spec["lane"]], "steps": spec["steps"],
                "estimated_minutes": spec["minutes"], "home_delivery": spec["home_delivery"],
                "holder_in_person": spec["holder_in_person"],
                "produces_card": spec["produces_card"], "needs_central": True,
            },
        )
        if created:
            created_ids.append(service.id)
            Requirement.objects.bulk_create(
                Requirement(office=office, service=service, code=code, name=name,
                            valid_days=days, how_to_obtain=hint, position=position)
                for position, (code, name, days, hint) in enumerate(spec["requirements"])
            )
        services.append(service)
    by_code = {service.code: service for service in services}
    for code, instead in LOST_INSTEAD.items():
        if instead in by_code:
            Requirement.objects.filter(service_id__in=created_ids, code=code).update(
                lost_instead=by_code[instead])
    return services


@transaction.atomic
def closure_add(*, office: Office, day: date, reason: str, by=None) -> Closure:
    """Close the office on one day. Bookings on that day are moved by
    registry.appointments.services.closures.closure_declare, which calls this."""
    if Closure.objects.filter(office=office, date=day).exists():
        raise Conflict(_("The office is already closed on %(date)s.") % {"date": day},
                       "closure_exists")
    return Closure.objects.create(office=office, date=day, reason=reason, created_by=by)


def office_settings_get(model, *, office: Office):
    """An app's settings row of the office (`model` has a one-to-one `office`), made with
    its defaults when first read; two first reads at once make one row. Read through
    the office object, so a request reads them once per office and a list can
    select_related them."""
    accessor = model._meta.get_field("office").remote_field.get_accessor_name()
    try:
        return getattr(office, accessor)
    except model.DoesNotExist:
        model.objects.bulk_create([model(office=office)], ignore_conflicts=True)
        found = model.objects.get(office=office)
        setattr(office, accessor, found)
        return found
