"""registry.background.per_office: every office's share is tried, in order when it
must run alone (SQLite, or inside the caller's transaction), and the first failure is
raised once the rest are done. Side by side on PostgreSQL is tested with the expiry
sweep (tests/appointments/test_concurrency.py)."""

import threading

import pytest
from django.db import transaction

from registry.background import per_office
from registry.models import Office
from tests.factories import OfficeFactory


@pytest.mark.django_db
def test_inside_a_transaction_each_office_runs_here_in_order_and_sees_its_rows(settings):
    settings.SWEEP_THREADS = 4
    offices = [OfficeFactory(), OfficeFactory(), OfficeFactory()]
    threads = set()

    def work(office_id):
        threads.add(threading.current_thread().name)
        # A row only this transaction has written is visible: same connection.
        return Office.objects.get(pk=office_id).code

    with transaction.atomic():
        assert per_office(work, [o.pk for o in offices]) == [o.code for o in offices]
    assert threads == {threading.current_thread().name}


@pytest.mark.django_db
def test_a_failing_office_is_raised_after_the_others_are_done(settings):
    settings.SWEEP_THREADS = 1
    done = []

    def work(item):
        if item == "b":
            raise ValueError("b broke")
        done.append(item)
        return item

    with pytest.raises(ValueError, match="b broke"):
        per_office(work, ["a", "b", "c"])
    assert done == ["a", "c"]
