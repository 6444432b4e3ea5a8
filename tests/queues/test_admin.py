"""Admin of the queues: counters and their lane order, tickets by day, lane, counter,
operator and status, and the statistics per day and lane, each office to itself."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from queues.models import Counter, CounterLane, Ticket
from queues.services.calling import ticket_call_next, ticket_finish, ticket_no_show, ticket_start
from queues.services.issuing import ticket_check_in
from registry.models import Role
from tests.queues.conftest import lanes_of, walk_in

WIB = ZoneInfo("Asia/Jakarta")


def a_day_at(office, operator, counter):
    with time_machine.travel(datetime(2022, 7, 1, 8, 0, tzinfo=WIB), tick=False) as clock:
        walk_in(office)
        walk_in(office)
        clock.shift(timedelta(minutes=6))
        ticket_call_next(counter=counter, by=operator)
        ticket_start(counter=counter, by=operator)
        clock.shift(timedelta(minutes=9))
        ticket_finish(counter=counter, by=operator, outcome="not_served",
                      reason="missing_documents")
        ticket_call_next(counter=counter, by=operator)
        ticket_no_show(counter=counter, by=operator)


@pytest.fixture
def two_offices_day(office_a, office_b, make_staff, counter_factory):
    for office in (office_a, office_b):
        operator = make_staff(office, Role.COUNTER_OPERATOR)
        a_day_at(office, operator, counter_factory("C", office=office))


def stats_url(**params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("admin:queues_ticket_statistics") + (f"?{query}" if query else "")


def test_a_supervisor_sees_their_offices_figures(client, office_a, office_b, make_staff,
                                                 two_offices_day):
    client.force_login(make_staff(office_a, Role.SUPERVISOR))
    response = client.get(stats_url(office=office_a.pk, date_from="2022-07-01",
                                    date_to="2022-07-01"))
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [(r["lane"].letter, r["issued"], r["not_served"], r["no_shows"], r["wait_median"],
             r["service_median"]) for r in rows] == [("C", 2, 1, 1, 10.5, 9.0)]
    assert list(response.context["form"].fields["office"].queryset) == [office_a]
    # Another office's figures are not offered.
    other = client.get(stats_url(office=office_b.pk, date_from="2022-07-01",
                                 date_to="2022-07-01"))
    assert other.context["rows"] == []
    assert "office" in other.context["form"].errors


def test_a_provincial_supervisor_chooses_the_office(client, office_a, office_b, make_staff,
                                                    two_offices_day):
    user = make_staff(office_a, Role.PROVINCIAL_SUPERVISOR)
    from registry.services.staff import staff_membership_grant

    staff_membership_grant(user=user, office=office_b, role=Role.PROVINCIAL_SUPERVISOR)
    client.force_login(user)
    response = client.get(stats_url(office=office_b.pk, date_from="2022-06-30",
                                    date_to="2022-07-02"))
    assert response.context["office"] == office_b
    assert len(response.context["rows"]) == 1


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.COUNTER_OPERATOR])
def test_statistics_are_for_supervisors(client, office_a, make_staff, role):
    client.force_login(make_staff(office_a, role))
    assert client.get(stats_url()).status_code == 403


def test_a_range_too_long_is_refused(client, office_a, make_staff):
    client.force_login(make_staff(office_a, Role.SUPERVISOR))
    response = client.get(stats_url(office=office_a.pk, date_from="2022-01-01",
                                    date_to="2022-12-31"))
    assert response.context["rows"] == []
    assert response.context["form"].non_field_errors() == [
        "Pilih rentang paling lama 92 hari, tanggal awal sebelum tanggal akhir."]


def test_an_office_admin_sets_up_a_counter_with_its_lane_order(client, office_a, office_b,
                                                               make_staff):
    client.force_login(make_staff(office_a, Role.OFFICE_ADMIN))
    lanes, foreign = lanes_of(office_a), lanes_of(office_b)
    form = {"office": office_a.pk, "number": 7, "name": "Loket 7", "is_active": "on",
            "lane_order-TOTAL_FORMS": 2, "lane_order-INITIAL_FORMS": 0,
            "lane_order-0-position": 1, "lane_order-0-lane": lanes["C"].pk,
            "lane_order-1-position": 2, "lane_order-1-lane": foreign["A"].pk}
    refused = client.post(reverse("admin:queues_counter_add"), form)
    assert refused.status_code == 200
    assert not Counter.objects.filter(number=7).exists()
    form["lane_order-1-lane"] = lanes["A"].pk
    response = client.post(reverse("admin:queues_counter_add"), form)
    assert response.status_code == 302
    counter = Counter.objects.get(office=office_a, number=7)
    assert list(CounterLane.objects.filter(counter=counter).order_by("position")
                .values_list("lane__letter", flat=True)) == ["C", "A"]


def test_tickets_are_listed_per_office_and_filter_by_lane_and_status(
        client, office_a, office_b, make_staff, two_offices_day, django_assert_max_num_queries):
    client.force_login(make_staff(office_a, Role.SUPERVISOR))
    with django_assert_max_num_queries(25):
        response = client.get(reverse("admin:queues_ticket_changelist"))
    assert response.status_code == 200
    assert sorted((t.office_id, t.code) for t in response.context["cl"].result_list) == [
        (office_a.pk, "C-001"), (office_a.pk, "C-002")]
    lane = lanes_of(office_a)["C"]
    filtered = client.get(reverse("admin:queues_ticket_changelist")
                          + f"?status__exact=no_show&lane__id__exact={lane.pk}")
    assert [t.code for t in filtered.context["cl"].result_list] == ["C-002"]
    ticket = response.context["cl"].result_list[0]
    assert client.get(reverse("admin:queues_ticket_change", args=[ticket.pk])).status_code == 200
    other = Ticket.objects.filter(office=office_b).first()
    assert client.get(reverse("admin:queues_ticket_change", args=[other.pk])).status_code == 404


def test_a_booking_ticket_is_found_by_its_booking_code(client, office_a, office_b, make_staff,
                                                       ktp_photo):
    from tests.queues.conftest import BOOKED_ON, at, book, service_of

    with time_machine.travel(BOOKED_ON, tick=False) as clock:
        booking = book(ktp_photo)
        other = book(service_of(office_b, "KTP_TTD_FOTO"))
        clock.move_to(at(8, 0))
        ticket = ticket_check_in(office=office_a, booking_code=booking.code)
        ticket_check_in(office=office_b, booking_code=other.code)
    client.force_login(make_staff(office_a, Role.SUPERVISOR))
    found = client.get(reverse("admin:queues_ticket_changelist") + f"?q={booking.code}")
    assert [t.pk for t in found.context["cl"].result_list] == [ticket.pk]
    hidden = client.get(reverse("admin:queues_ticket_changelist") + f"?q={other.code}")
    assert list(hidden.context["cl"].result_list) == []
    page = client.get(reverse("admin:queues_ticket_change", args=[ticket.pk]))
    assert page.status_code == 200
    assert booking.code in page.content.decode()


def test_an_office_admin_sets_a_lane_quota_of_their_office_only(client, office_a, office_b,
                                                                make_staff):
    from queues.models import LaneQuota

    client.force_login(make_staff(office_a, Role.OFFICE_ADMIN))
    lanes_a, lanes_b = lanes_of(office_a), lanes_of(office_b)
    add = reverse("admin:queues_lanequota_add")
    # Another office's lane is not offered: the form says so, nothing is saved.
    response = client.post(add, {"office": office_a.pk, "lane": lanes_b["C"].pk,
                                 "daily_walk_ins": 40})
    assert response.status_code == 200
    assert "lane" in response.context["adminform"].form.errors
    response = client.post(add, {"office": office_b.pk, "lane": lanes_b["C"].pk,
                                 "daily_walk_ins": 40})
    assert response.status_code == 200
    assert LaneQuota.objects.count() == 0
    # Out of range: refused by the form.
    response = client.post(add, {"office": office_a.pk, "lane": lanes_a["C"].pk,
                                 "daily_walk_ins": 0})
    assert "daily_walk_ins" in response.context["adminform"].form.errors
    response = client.post(add, {"office": office_a.pk, "lane": lanes_a["C"].pk,
                                 "daily_walk_ins": 40})
    assert response.status_code == 302
    quota = LaneQuota.objects.get()
    assert (quota.office, quota.lane, quota.daily_walk_ins) == (office_a, lanes_a["C"], 40)
    change = reverse("admin:queues_lanequota_change", args=[quota.pk])
    response = client.post(change, {"daily_walk_ins": 25})
    assert response.status_code == 302
    quota.refresh_from_db()
    assert quota.daily_walk_ins == 25
    # Another office's quota answers 404.
    other = LaneQuota.objects.create(office=office_b, lane=lanes_b["A"], daily_walk_ins=9)
    assert client.get(reverse("admin:queues_lanequota_change",
                              args=[other.pk])).status_code == 404
    assert list(client.get(reverse("admin:queues_lanequota_changelist"))
                .context["cl"].result_list) == [quota]


def test_a_supervisor_sees_the_quotas_and_does_not_change_them(client, office_a, make_staff):
    from queues.models import LaneQuota

    quota = LaneQuota.objects.create(office=office_a, lane=lanes_of(office_a)["C"],
                                     daily_walk_ins=30)
    client.force_login(make_staff(office_a, Role.SUPERVISOR))
    assert client.get(reverse("admin:queues_lanequota_changelist")).status_code == 200
    change = reverse("admin:queues_lanequota_change", args=[quota.pk])
    assert client.get(change).status_code == 200
    client.post(change, {"daily_walk_ins": 1})
    quota.refresh_from_db()
    assert quota.daily_walk_ins == 30
    assert client.get(reverse("admin:queues_lanequota_add")).status_code == 403
