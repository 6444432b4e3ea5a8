"""The read replica (registry.replica): with DATABASE_REPLICA_URL the dashboards, the
monthly report and the lists' exports read from it; who may see what, every write, and
reads inside a transaction stay on the primary; without a replica nothing changes."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django.test import override_settings
from django.urls import reverse

from registry.models import Application, Role, StaffMembership
from registry.replica import REPLICA, ReplicaRouter, replica_reads
from tests.factories import ApplicationFactory, ResidentFactory

WIB = ZoneInfo("Asia/Jakarta")


class RecordingRouter(ReplicaRouter):
    """The replica router as configured with a replica, recording where each read would
    go, while the test's queries still run on the one test database."""

    chosen: list[tuple[str, str | None]] = []

    def __init__(self):
        super().__init__(enabled=True)

    def db_for_read(self, model, **hints):
        RecordingRouter.chosen.append((model._meta.label, super().db_for_read(model, **hints)))

    def db_for_write(self, model, **hints):
        return None


@pytest.fixture
def recorded():
    RecordingRouter.chosen = []
    with override_settings(DATABASE_ROUTERS=[f"{__name__}.RecordingRouter"]):
        yield RecordingRouter.chosen


def test_without_a_replica_the_router_has_no_opinion():
    router = ReplicaRouter(enabled=False)
    with replica_reads():
        assert router.db_for_read(Application) is None
    assert router.db_for_write(Application) is None


@pytest.mark.django_db(transaction=True)
def test_reads_go_to_the_replica_only_inside_replica_reads_and_outside_a_transaction():
    router = ReplicaRouter(enabled=True)
    assert router.db_for_read(Application) is None
    with replica_reads():
        assert router.db_for_read(Application) == REPLICA
        with transaction.atomic():
            assert router.db_for_read(Application) is None
        assert router.db_for_write(Application) == "default"
    assert router.db_for_read(Application) is None
    assert router.allow_migrate(REPLICA, "registry") is False
    assert router.allow_migrate("default", "registry") is None


@pytest.mark.django_db(transaction=True)
def test_the_dashboard_reads_its_figures_on_the_replica_and_who_may_see_on_the_primary(
        client, make_staff, office_a, recorded):
    client.force_login(make_staff(office_a, Role.OFFICE_ADMIN))
    with time_machine.travel(datetime(2026, 7, 31, 16, 0, tzinfo=WIB), tick=False):
        response = client.get(reverse("admin:dashboard"))
    assert response.status_code == 200
    on_replica = {label for label, alias in recorded if alias == REPLICA}
    on_primary = {label for label, alias in recorded if alias is None}
    assert "registry.TurnAway" in on_replica
    assert StaffMembership._meta.label in on_primary
    assert StaffMembership._meta.label not in on_replica


@pytest.mark.django_db(transaction=True)
def test_a_list_export_reads_its_rows_on_the_replica(client, make_staff, office_a, recorded):
    ApplicationFactory(office=office_a, resident=ResidentFactory(domicile_office=office_a))
    client.force_login(make_staff(office_a, Role.OFFICE_ADMIN))
    response = client.get(reverse("admin:registry_application_list_export", args=["csv"]))
    assert response.status_code == 200
    assert (Application._meta.label, REPLICA) in recorded
    assert (StaffMembership._meta.label, REPLICA) not in recorded
