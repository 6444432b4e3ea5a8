"""Exports of the admin lists (registry.admin_base.ListExportMixin): the list's columns
and rows with its filters, as CSV and XLSX, only the offices where the role may export,
the NIK full only where the role may see it, and every export recorded."""

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from registry.models import Channel, ExportRecord, NikDisclosure, Role, Service
from registry.services.staff import staff_membership_grant
from tests.factories import ApplicationFactory, ResidentFactory
from tests.language import choose_language

WIB = ZoneInfo("Asia/Jakarta")
CHANGELIST = reverse("admin:registry_application_changelist")
HEADER = ["Number", "Resident", "Service", "Channel", "Status", "Created at", "NIK"]


def export_url(file_format="csv", model="registry_application"):
    return reverse(f"admin:{model}_list_export", args=[file_format])


def csv_rows(response) -> list[list[str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def xlsx_rows(response) -> list[list[str]]:
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    return [["" if value is None else value for value in row]
            for row in sheet.iter_rows(values_only=True)]


@pytest.fixture
def cases(office_a, office_b):
    """Three case files in office A (two services, two channels), one in office B."""
    with time_machine.travel(datetime(2026, 7, 6, 9, 15, tzinfo=WIB), tick=False):
        return {
            "photo": ApplicationFactory(office=office_a, resident=ResidentFactory(
                domicile_office=office_a, name="Budi Santoso")),
            "damaged": ApplicationFactory(
                office=office_a, channel=Channel.WALK_IN,
                service=Service.objects.get(office=office_a, code="KTP_RUSAK"),
                resident=ResidentFactory(domicile_office=office_a, name="Siti Aminah")),
            "photo_2": ApplicationFactory(office=office_a, resident=ResidentFactory(
                domicile_office=office_a, name="Rina Kurniawati")),
            "b": ApplicationFactory(office=office_b, resident=ResidentFactory(
                domicile_office=office_b, name="Andi Wijaya")),
        }


def row_of(application, nik):
    return [application.number, application.resident.name, str(application.service),
            "Walk-in" if application.channel == Channel.WALK_IN else "Mobile app", "Open",
            "2026-07-06 09:15", nik]


@pytest.fixture
def supervisor_client(client, make_staff, office_a):
    client.force_login(make_staff(office_a, Role.SUPERVISOR))
    choose_language(client, "en")
    return client


def test_the_csv_holds_the_lists_columns_and_its_filtered_rows(supervisor_client, cases):
    photo_service = cases["photo"].service
    response = supervisor_client.get(export_url(), {"service__id__exact": photo_service.pk,
                                                    "o": "1"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="application-')
    # A supervisor may see full NIKs: the NIK column is full.
    assert csv_rows(response) == [HEADER, row_of(cases["photo"], cases["photo"].resident.nik),
                                  row_of(cases["photo_2"], cases["photo_2"].resident.nik)]


@pytest.mark.parametrize("order", ["1", "-1", "2", "-6"])
def test_the_rows_come_in_the_lists_order(supervisor_client, cases, order):
    listed = supervisor_client.get(CHANGELIST, {"o": order}).context["cl"].result_list
    rows = csv_rows(supervisor_client.get(export_url(), {"o": order}))
    assert [row[0] for row in rows[1:]] == [application.number for application in listed]


def test_the_search_of_the_list_applies_to_the_export(supervisor_client, cases):
    response = supervisor_client.get(export_url(), {"q": "Siti"})
    assert csv_rows(response) == [HEADER, row_of(cases["damaged"],
                                                 cases["damaged"].resident.nik)]


def test_the_xlsx_opens_with_the_same_rows_as_the_csv(supervisor_client, cases):
    query = {"service__id__exact": cases["photo"].service.pk, "o": "1"}
    as_csv = csv_rows(supervisor_client.get(export_url("csv"), query))
    response = supervisor_client.get(export_url("xlsx"), query)
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert xlsx_rows(response) == as_csv
    assert len(as_csv) == 3


def test_another_offices_rows_never_appear(supervisor_client, cases):
    rows = csv_rows(supervisor_client.get(export_url()))
    numbers = {row[0] for row in rows[1:]}
    assert numbers == {cases["photo"].number, cases["damaged"].number,
                       cases["photo_2"].number}
    # Not even when the list is asked for the other office's row by a filter.
    rows = csv_rows(supervisor_client.get(export_url(), {"office__id__exact":
                                                         cases["b"].office_id}))
    assert rows == [HEADER]


def test_only_the_offices_where_the_role_may_export(client, make_staff, office_a, office_b,
                                                    cases):
    """A supervisor in A who is a counter operator in B sees both offices in the list,
    but exports only A's rows; the office column follows the list's."""
    user = make_staff(office_a, Role.SUPERVISOR)
    staff_membership_grant(user=user, office=office_b, role=Role.COUNTER_OPERATOR)
    client.force_login(user)
    choose_language(client, "en")
    listed = client.get(CHANGELIST).context["cl"].result_list
    assert cases["b"] in listed
    rows = csv_rows(client.get(export_url(), {"o": "1"}))
    assert rows[0] == [*HEADER[:-1], "Office", "NIK"]
    assert sorted(row[0] for row in rows[1:]) == [
        cases["photo"].number, cases["damaged"].number, cases["photo_2"].number]
    assert {row[-2] for row in rows[1:]} == {str(office_a)}
    assert list(ExportRecord.objects.values_list("office_id", "row_count")) == [
        (office_a.id, 3)]


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.COUNTER_OPERATOR])
def test_a_role_without_the_permission_gets_403_and_no_links(client, make_staff, office_a,
                                                             cases, role):
    client.force_login(make_staff(office_a, role))
    assert client.get(export_url("csv")).status_code == 403
    assert client.get(export_url("xlsx")).status_code == 403
    assert not ExportRecord.objects.exists()
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert response.context["export_links"] == []


def test_the_list_links_to_its_export_with_its_filters(supervisor_client, cases):
    response = supervisor_client.get(CHANGELIST, {"status__exact": "open", "p": "1"})
    assert response.context["export_links"] == [
        ("Export CSV", export_url("csv") + "?status__exact=open"),
        ("Export XLSX", export_url("xlsx") + "?status__exact=open"),
    ]
    assert 'class="export-link"' in response.content.decode()


def test_the_nik_is_masked_for_a_role_that_may_not_see_it(client, make_staff, office_a,
                                                          cases):
    client.force_login(make_staff(office_a, Role.PUBLIC_RELATIONS))
    choose_language(client, "en")
    response = client.get(export_url(), {"q": "Budi"})
    nik = cases["photo"].resident.nik
    assert csv_rows(response) == [HEADER, row_of(cases["photo"], "************" + nik[-4:])]
    assert nik not in response.content.decode("utf-8-sig")
    assert not NikDisclosure.objects.exists()
    assert ExportRecord.objects.get().full_niks is False


def test_each_export_is_recorded(supervisor_client, cases, office_a):
    supervisor = cases["photo"].office.memberships.get(role=Role.SUPERVISOR).user
    supervisor_client.get(export_url("xlsx"), {"channel__exact": "app", "p": "2"})
    record = ExportRecord.objects.get()
    assert (record.office, record.user, record.list_name, record.query, record.file_format,
            record.row_count, record.full_niks) == (
        office_a, supervisor, "registry.application", "channel__exact=app", "xlsx", 2, True)
    # The full NIKs that left in the file are in the residents' access logs.
    assert sorted(NikDisclosure.objects.values_list("resident__name", "user", "reason")) == [
        (name, supervisor.pk, f"Export registry.application {record.batch}")
        for name in ("Budi Santoso", "Rina Kurniawati")]


def test_a_cell_a_spreadsheet_would_run_is_written_as_text(supervisor_client, office_a):
    ApplicationFactory(office=office_a, resident=ResidentFactory(
        domicile_office=office_a, name='=HYPERLINK("http://x.example","klik")'))
    rows = csv_rows(supervisor_client.get(export_url()))
    assert rows[1][1] == '\'=HYPERLINK("http://x.example","klik")'


def test_the_export_reads_a_bounded_number_of_queries(supervisor_client, office_a,
                                                      django_assert_max_num_queries):
    for _n in range(12):
        ApplicationFactory(office=office_a)
    with django_assert_max_num_queries(20):
        rows = csv_rows(supervisor_client.get(export_url()))
    assert len(rows) == 13


@pytest.mark.parametrize("model", ["appointments_booking", "queues_ticket",
                                   "deliveries_delivery", "deliveries_handover",
                                   "complaints_complaint", "registry_application"])
def test_every_list_staff_work_from_exports(supervisor_client, model):
    for file_format in ("csv", "xlsx"):
        response = supervisor_client.get(export_url(file_format, model))
        assert response.status_code == 200, (model, file_format)
    assert ExportRecord.objects.filter(list_name=model.replace("_", ".", 1)).count() == 2


def test_export_records_are_read_only_in_the_admin(supervisor_client, cases):
    supervisor_client.get(export_url())
    url = reverse("admin:registry_exportrecord_changelist")
    response = supervisor_client.get(url)
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 1
    record = ExportRecord.objects.get()
    change = supervisor_client.post(
        reverse("admin:registry_exportrecord_change", args=[record.pk]), {"row_count": 0})
    assert change.status_code == 403
    record.refresh_from_db()
    assert record.row_count == 3


# --- Bookings and hand-overs: their own columns, the NIK through a relation ------------


def test_the_bookings_of_tomorrow_exactly(client, make_staff, office_a, office_b):
    from registry.appointments.models import Slot
    from registry.appointments.services.bookings import booking_create
    from registry.appointments.services.slots import slots_ensure

    monday, tuesday = datetime(2026, 6, 29, 9, 0, tzinfo=WIB), datetime(2026, 6, 30).date()
    booked = {}
    with time_machine.travel(monday, tick=False):
        for office, name, start in ((office_a, "Budi Santoso", "09:00"),
                                    (office_a, "Siti Aminah", "08:00"),
                                    (office_b, "Andi Wijaya", "08:00")):
            service = Service.objects.get(office=office, code="KK_UBAH")
            slots_ensure(office=office, start=tuesday, end=tuesday)
            booked[name] = booking_create(
                office=office, service=service,
                resident=ResidentFactory(domicile_office=office, name=name),
                slot=Slot.objects.get(lane=service.lane, date=tuesday, start=start),
                documents=[{"requirement": "KK"}, {"requirement": "DOK_PERISTIWA"}])
        slots_ensure(office=office_a, start=monday.date(), end=monday.date())
        booking_create(  # today's: not tomorrow
            office=office_a, service=Service.objects.get(office=office_a, code="KK_UBAH"),
            resident=ResidentFactory(domicile_office=office_a),
            slot=Slot.objects.get(lane__office=office_a, lane__letter="A",
                                  date=monday.date(), start="10:00"),
            documents=[{"requirement": "KK"}, {"requirement": "DOK_PERISTIWA"}])
        client.force_login(make_staff(office_a, Role.PROVINCIAL_SUPERVISOR))
        choose_language(client, "en")
        response = client.get(export_url("csv", "appointments_booking"), {"when": "tomorrow"})

    def row(name, time):
        booking = booked[name]
        return [booking.code, "2026-06-30", time, "A", "Perubahan Kartu Keluarga (KK)", name,
                "Booked", "No", booking.application.number,
                "************" + booking.resident.nik[-4:]]

    assert csv_rows(response) == [
        ["Booking code", "Date", "Time", "Lane", "Service", "Resident", "Status",
         "Documents awaiting review", "Case file", "NIK"],
        row("Siti Aminah", "08:00-08:30"), row("Budi Santoso", "09:00-09:30")]


def test_the_handovers_export_the_nik_of_the_applications_resident(supervisor_client,
                                                                     office_a, office_b):
    from tests.deliveries.conftest import print_card

    mine = print_card(ApplicationFactory(office=office_a, resident=ResidentFactory(
        domicile_office=office_a, name="Budi Santoso")))
    print_card(ApplicationFactory(office=office_b))
    rows = csv_rows(supervisor_client.get(export_url("csv", "deliveries_handover")))
    assert len(rows) == 2
    assert rows[1][:2] == [str(mine), "Budi Santoso"]
    assert rows[1][-1] == mine.resident.nik
