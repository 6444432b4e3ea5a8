"""The access log (registry.services.access_log, registry.admin_access): every staff
view of residents' personal data is one row per office with the residents it showed;
overseers give a reason before a record opens; the log cannot be changed."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from registry.models import AccessKind, AccessLog, AccessLogResident, Role
from registry.services.access_log import record_access, role_label
from registry.services.staff import staff_membership_grant
from tests.factories import ApplicationFactory, ResidentFactory


def logged(**filters) -> list[tuple]:
    return [(log.kind, log.office_id, log.role, log.reason,
             sorted(log.entries.values_list("resident_id", flat=True)))
            for log in AccessLog.objects.filter(**filters).order_by("id")]


@pytest.fixture
def desk_a(make_staff, office_a):
    return make_staff(office_a, Role.FRONT_DESK, username="desk.a")


def test_the_resident_list_is_one_row_with_the_residents_shown(
        client, desk_a, office_a, office_b, resident_a, resident_b):
    other_here = ResidentFactory(domicile_office=office_a, name="Another Resident")
    client.force_login(desk_a)
    response = client.get(reverse("admin:registry_resident_changelist"))
    assert response.status_code == 200
    assert logged(user=desk_a) == [
        (AccessKind.LIST, office_a.id, Role.FRONT_DESK, "",
         sorted([resident_a.id, other_here.id]))]
    assert AccessLog.objects.get(user=desk_a).resident_count == 2
    # The list by its name, in the staff member's language (Indonesian by default).
    assert AccessLog.objects.get(user=desk_a).target == "penduduk"


def test_an_empty_list_writes_nothing(client, make_staff, office_b, resident_a):
    desk_b = make_staff(office_b, Role.FRONT_DESK, username="desk.b")
    client.force_login(desk_b)
    assert client.get(reverse("admin:registry_resident_changelist")).status_code == 200
    assert not AccessLog.objects.exists()


def test_opening_a_resident_and_a_case_file_is_recorded(
        client, desk_a, office_a, resident_a, application_a):
    client.force_login(desk_a)
    assert client.get(reverse("admin:registry_resident_change",
                              args=[resident_a.pk])).status_code == 200
    assert client.get(reverse("admin:registry_application_change",
                              args=[application_a.pk])).status_code == 200
    assert logged(user=desk_a) == [
        (AccessKind.RESIDENT, office_a.id, Role.FRONT_DESK, "", [resident_a.id]),
        (AccessKind.APPLICATION, office_a.id, Role.FRONT_DESK, "", [resident_a.id]),
    ]
    # The record as the resident knows it (the case number), never a NIK.
    case = AccessLog.objects.get(kind=AccessKind.APPLICATION)
    assert case.target.endswith(application_a.number)
    assert resident_a.nik not in "".join(AccessLog.objects.values_list("target", flat=True))


def test_another_office_resident_is_not_found_and_not_logged(
        client, desk_a, resident_b):
    client.force_login(desk_a)
    response = client.get(reverse("admin:registry_resident_change", args=[resident_b.pk]))
    assert response.status_code == 404
    assert not AccessLog.objects.exists()


def test_the_export_logs_every_resident_in_its_rows(
        client, make_staff, office_a, office_b, application_a, application_b):
    supervisor = make_staff(office_a, Role.SUPERVISOR, username="sup.a")
    second = ApplicationFactory(office=office_a, resident=ResidentFactory(
        domicile_office=office_a))
    client.force_login(supervisor)
    response = client.get(reverse("admin:registry_application_list_export", args=["csv"]))
    assert response.status_code == 200
    assert logged(user=supervisor, kind=AccessKind.EXPORT) == [
        (AccessKind.EXPORT, office_a.id, Role.SUPERVISOR, "",
         sorted([application_a.resident_id, second.resident_id]))]


@pytest.fixture
def provincial(make_staff, office_a, office_b):
    user = make_staff(office_a, Role.PROVINCIAL_SUPERVISOR, username="prov")
    staff_membership_grant(user=user, office=office_b, role=Role.PROVINCIAL_SUPERVISOR)
    return user


def test_an_overseer_gives_a_reason_before_a_record_opens(
        client, provincial, office_a, resident_a):
    client.force_login(provincial)
    url = reverse("admin:registry_resident_change", args=[resident_a.pk])
    asked = client.get(url)
    assert asked.status_code == 200
    assert "access_reason" in asked.content.decode()
    assert resident_a.name not in asked.content.decode()
    assert not AccessLog.objects.exists()

    too_short = client.post(url, {"access_reason": "x"})
    assert too_short.status_code == 200
    assert not AccessLog.objects.exists()

    given = client.post(url, {"access_reason": "Audit of complaint ADU-7"})
    assert given.status_code == 302
    opened = client.get(url)
    assert opened.status_code == 200
    assert resident_a.name in opened.content.decode()
    assert logged(user=provincial) == [
        (AccessKind.RESIDENT, office_a.id, Role.PROVINCIAL_SUPERVISOR,
         "Audit of complaint ADU-7", [resident_a.id])]


def test_a_list_spanning_two_offices_is_one_row_per_office(
        client, provincial, office_a, office_b, resident_a, resident_b):
    client.force_login(provincial)
    assert client.get(reverse("admin:registry_resident_changelist")).status_code == 200
    assert logged(user=provincial) == [
        (AccessKind.LIST, office_a.id, Role.PROVINCIAL_SUPERVISOR, "", [resident_a.id]),
        (AccessKind.LIST, office_b.id, Role.PROVINCIAL_SUPERVISOR, "", [resident_b.id]),
    ]


def test_staff_who_serve_the_office_need_no_reason(client, make_staff, office_a,
                                                     resident_a):
    supervisor = make_staff(office_a, Role.SUPERVISOR, username="sup.a")
    client.force_login(supervisor)
    response = client.get(reverse("admin:registry_resident_change", args=[resident_a.pk]))
    assert resident_a.name in response.content.decode()
    assert logged(user=supervisor)[0][3] == ""


def test_the_log_cannot_be_changed_or_deleted(desk_a, office_a, resident_a):
    log = record_access(desk_a, kind=AccessKind.RESIDENT, residents=[resident_a],
                        office=office_a, target="resident #1")
    log.reason = "rewritten"
    with pytest.raises(ValidationError):
        log.save()
    with pytest.raises(ValidationError):
        log.delete()
    assert AccessLog.objects.get().reason == ""


@pytest.mark.postgres
def test_postgres_refuses_an_update_of_the_log(desk_a, office_a, resident_a):
    assert connection.vendor == "postgresql"
    record_access(desk_a, kind=AccessKind.RESIDENT, residents=[resident_a], office=office_a)
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessLog.objects.update(reason="rewritten")
    assert AccessLog.objects.get().reason == ""


def test_the_staff_admin_of_the_log_is_read_only_and_per_office(
        client, make_staff, office_a, office_b, resident_a, resident_b, desk_a):
    desk_b = make_staff(office_b, Role.FRONT_DESK, username="desk.b")
    mine = record_access(desk_a, kind=AccessKind.RESIDENT, residents=[resident_a],
                         office=office_a)
    theirs = record_access(desk_b, kind=AccessKind.RESIDENT, residents=[resident_b],
                           office=office_b)
    supervisor = make_staff(office_a, Role.SUPERVISOR, username="sup.a")
    client.force_login(supervisor)
    listed = client.get(reverse("admin:registry_accesslog_changelist"))
    assert [row.pk for row in listed.context["cl"].result_list] == [mine.pk]
    assert client.get(reverse("admin:registry_accesslog_change",
                              args=[theirs.pk])).status_code == 404
    assert client.post(reverse("admin:registry_accesslog_delete",
                               args=[mine.pk]), {"post": "yes"}).status_code == 403
    assert AccessLog.objects.count() == 2
    client.force_login(desk_a)  # the front desk does not read the log
    assert client.get(reverse("admin:registry_accesslog_changelist")).status_code == 403


def test_a_superuser_without_a_role_is_named_as_such(make_staff, office_a, resident_a,
                                                     django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.com", "x")
    log = record_access(root, kind=AccessKind.RESIDENT, residents=[resident_a],
                        office=office_a)
    assert log.role == "superuser"
    assert role_label(log.role) == "Administrator sistem"
    assert AccessLogResident.objects.filter(access=log).count() == 1


def test_residents_seen_through_a_case_cost_one_query_whatever_their_number(
        client, provincial, office_b):
    def list_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("admin:registry_resident_changelist")).status_code == 200
        return len(captured)

    client.force_login(provincial)
    first = ApplicationFactory(office=office_b, resident=ResidentFactory(domicile_office=None))
    one = list_queries()
    more = [ApplicationFactory(office=office_b, resident=ResidentFactory(domicile_office=None))
            for _n in range(3)]
    assert list_queries() == one
    last = AccessLog.objects.latest("id")
    assert (last.office_id, sorted(last.entries.values_list("resident_id", flat=True))) == (
        office_b.id, sorted([first.resident_id, *(a.resident_id for a in more)]))
