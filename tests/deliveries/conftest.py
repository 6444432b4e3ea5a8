"""Printed cards ready for hand-over, made through the real services."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction

from registry.central.services.jobs import application_visit_completed, central_job_send
from registry.models import Role
from tests.factories import ApplicationFactory, ResidentFactory, card_stock_for

# A Monday: deliveries are dispatched on working days.
MONDAY = date(2022, 7, 4)


def print_card(application):
    """Serve the visit and let the central server accept everything: the card is printed."""
    card_stock_for(application.office, on_hand=10_000)
    with transaction.atomic():
        application_visit_completed(application=application)
    for job in application.central_jobs.order_by("id"):
        central_job_send(job_id=job.id)
    application.refresh_from_db()
    return application


@pytest.fixture
def printed(office_a):
    def make(office=None, method=None, service_code="KTP_TTD_FOTO", **resident):
        office = office or office_a
        resident = ResidentFactory(**{"domicile_office": office, **resident})
        application = ApplicationFactory(office=office, resident=resident,
                                         service=office.services.get(code=service_code))
        print_card(application)
        if method:
            from registry.deliveries.services.handovers import handover_choose

            handover_choose(application=application, method=method, by_resident=True)
        return application

    return make


@pytest.fixture
def courier_a(make_staff, office_a):
    return make_staff(office_a, Role.COURIER, username="kurir-a", first_name="Joko")


def coords(lat, lon):
    return {"latitude": Decimal(lat), "longitude": Decimal(lon)}


@pytest.fixture
def queued_deliveries(mocker, django_capture_on_commit_callbacks):
    """Tasks queued after commit, as (task name, args)."""
    calls = []
    mocker.patch("registry.background.enqueue_now",
                 side_effect=lambda task, *args, **kwargs: calls.append((task.name, args)))
    return calls


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed(): ...` runs the block's after-commit callbacks at its end."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
