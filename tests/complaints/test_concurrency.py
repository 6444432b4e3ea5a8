"""Concurrency on PostgreSQL with real threads: the same post logged twice at once is
one complaint; references are never handed out twice; two sweeps at once alert once."""


import pytest
import time_machine

from complaints.models import Complaint, StaffAlert
from complaints.services.deadlines import deadlines_sweep
from complaints.services.intake import complaint_log
from registry.errors import Conflict
from tests.complaints.conftest import wib
from tests.concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _successes(outcome):
    results, errors = outcome
    return [r for r in results if r is not None], errors


def test_the_same_post_logged_at_once_by_two_officers_is_one_complaint(office_a, humas_a,
                                                                        humas_a2):
    users = [humas_a, humas_a2] * 3

    def log(index):
        return complaint_log(office=office_a, by=users[index], channel="instagram",
                             link="https://www.instagram.com/p/SAME/", text="x",
                             category="other")

    results, errors = _successes(race(log, 6))
    assert len(results) == 1
    assert len(errors) == 5
    assert all(isinstance(e, Conflict) and e.code == "duplicate_post" for e in errors)
    assert Complaint.objects.count() == 1


def test_references_are_unique_when_logged_at_once(office_a, humas_a):
    def log(index):
        return complaint_log(office=office_a, by=humas_a, channel="instagram",
                             link=f"https://www.instagram.com/p/P{index}/", text="x",
                             category="other").reference

    results, errors = _successes(race(log, 8))
    assert errors == []
    assert sorted(int(r.rsplit("-", 1)[1]) for r in results) == list(range(1, 9))


def test_two_sweeps_at_once_alert_each_supervisor_once(office_a, humas_a, supervisor_a):
    with time_machine.travel(wib(2022, 7, 4, 9, 0), tick=False):
        for index in range(5):
            complaint_log(office=office_a, by=humas_a, channel="instagram",
                          link=f"https://www.instagram.com/p/S{index}/", text="x",
                          category="other")

    results, errors = _successes(race(
        lambda _i: deadlines_sweep(now=wib(2022, 7, 7, 9, 0)), 4))
    assert errors == []
    # Five acknowledge deadlines passed: one alert each to the one supervisor.
    assert sum(results) == 5
    assert StaffAlert.objects.filter(kind="overdue").count() == 5
