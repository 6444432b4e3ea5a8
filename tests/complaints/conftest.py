"""Staff of both offices for complaints, and complaints made through the services."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from complaints.services.intake import complaint_log
from registry.models import Role

WIB = ZoneInfo("Asia/Jakarta")


def wib(*args) -> datetime:
    return datetime(*args, tzinfo=WIB)


@pytest.fixture
def humas_a(make_staff, office_a):
    return make_staff(office_a, Role.PUBLIC_RELATIONS, username="humas-a")


@pytest.fixture
def humas_a2(make_staff, office_a):
    return make_staff(office_a, Role.PUBLIC_RELATIONS, username="humas-a2")


@pytest.fixture
def supervisor_a(make_staff, office_a):
    return make_staff(office_a, Role.SUPERVISOR, username="spv-a", email="spv-a@example.go.id")


@pytest.fixture
def humas_b(make_staff, office_b):
    return make_staff(office_b, Role.PUBLIC_RELATIONS, username="humas-b")


@pytest.fixture
def supervisor_b(make_staff, office_b):
    return make_staff(office_b, Role.SUPERVISOR, username="spv-b")


@pytest.fixture
def log_complaint(humas_a):
    def log(office=None, by=None, **kwargs):
        office = office or humas_a.memberships.first().office
        values = {"channel": "instagram", "link": f"https://www.instagram.com/p/P{log.n}/",
                  "text": "Antrean diserobot orang tanpa nomor!", "category": "queue_fairness"}
        values.update(kwargs)
        log.n += 1
        return complaint_log(office=office, by=by or humas_a, **values)

    log.n = 1
    return log
