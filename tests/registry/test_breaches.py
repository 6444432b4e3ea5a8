"""Personal-data breaches (registry.breaches, registry.services.breaches,
registry.admin_breaches): which residents an incident's query selects, one notice per
resident through the normal notifications, the 3 x 24-hour deadline, and that only
superusers see any of it."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from complaints.services.intake import complaint_file
from registry.breaches import breach_affected_residents, breach_deadline_text, breach_is_overdue
from registry.errors import DomainError
from registry.models import (
    BreachDataKind,
    BreachIncident,
    BreachNotice,
    BreachStatus,
    Notification,
    NotificationDelivery,
    Role,
)
from registry.services.breaches import breach_notices_send, breach_notices_send_batch
from tests.factories import ApplicationFactory, ResidentFactory, UserFactory

JUNE_20 = datetime(2026, 6, 20, 3, 0, tzinfo=UTC)
JULY_2 = datetime(2026, 7, 2, 3, 0, tzinfo=UTC)
JULY_5 = datetime(2026, 7, 5, 3, 0, tzinfo=UTC)
PERIOD = {"period_start": datetime(2026, 7, 1, tzinfo=UTC),
          "period_end": datetime(2026, 7, 3, tzinfo=UTC)}
DISCOVERED = datetime(2026, 7, 10, 2, 0, tzinfo=UTC)


def resident_at(when, office, **kwargs):
    with time_machine.travel(when, tick=False):
        return ResidentFactory(domicile_office=office, created_at=when, **kwargs)


def application_at(when, office, resident):
    with time_machine.travel(when, tick=False):
        return ApplicationFactory(office=office, resident=resident)


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def world(office_a, office_b):
    """Residents of two offices, written inside and outside 1-3 July."""
    w = {}
    w["a_new"] = resident_at(JULY_2, office_a, name="A registered in July")
    w["a_old"] = resident_at(JUNE_20, office_a, name="A registered in June")
    w["b_new"] = resident_at(JULY_2, office_b, name="B registered in July")
    w["b_case_in_a"] = resident_at(JUNE_20, office_b, name="B with a July case in A")
    application_at(JULY_2, office_a, w["b_case_in_a"])
    w["a_late_case"] = resident_at(JUNE_20, office_a, name="A with a case on 5 July")
    application_at(JULY_5, office_a, w["a_late_case"])
    w["b_case_in_b"] = resident_at(JUNE_20, office_b, name="B with a July case in B")
    application_at(JULY_2, office_b, w["b_case_in_b"])
    w["a_complaint"] = resident_at(JUNE_20, office_a, name="A who complained in July")
    with time_machine.travel(JULY_2, tick=False):
        complaint_file(resident=w["a_complaint"], office=office_a, text="Antrean kacau")
    w["nowhere"] = ResidentFactory(domicile_office=None, name="No office at all",
                                   created_at=JULY_2)
    return w


def incident(superuser, **fields):
    values = {"title": "Kebocoran", "description": "Basis data tersalin",
              "discovered_at": DISCOVERED, "opened_by": superuser,
              "kinds": [BreachDataKind.IDENTITY], **fields}
    return BreachIncident.objects.create(**values)


def names(queryset):
    return sorted(queryset.values_list("name", flat=True))


def test_query_by_office_kind_and_period(world, superuser, office_a, office_b):
    identity = incident(superuser, office=office_a, **PERIOD)
    assert names(breach_affected_residents(incident=identity)) == ["A registered in July"]
    cases = incident(superuser, office=office_a, kinds=[BreachDataKind.CASES], **PERIOD)
    assert names(breach_affected_residents(incident=cases)) == ["B with a July case in A"]
    both = incident(superuser, office=office_a,
                    kinds=[BreachDataKind.IDENTITY, BreachDataKind.CASES], **PERIOD)
    assert names(breach_affected_residents(incident=both)) == [
        "A registered in July", "B with a July case in A"]
    # Every office: B's residents too; the resident with no office is left out.
    everywhere = incident(superuser, kinds=[BreachDataKind.IDENTITY, BreachDataKind.CASES],
                          **PERIOD)
    assert names(breach_affected_residents(incident=everywhere)) == [
        "A registered in July", "B registered in July", "B with a July case in A",
        "B with a July case in B"]
    # An app's data (complaints, registered by the complaints app).
    complaints = incident(superuser, office=office_a, kinds=[BreachDataKind.COMPLAINTS],
                          **PERIOD)
    assert names(breach_affected_residents(incident=complaints)) == [
        "A who complained in July"]
    # An open period: every case in office A, whenever.
    open_cases = incident(superuser, office=office_a, kinds=[BreachDataKind.CASES])
    assert names(breach_affected_residents(incident=open_cases)) == [
        "A with a case on 5 July", "B with a July case in A"]
    assert names(breach_affected_residents(incident=incident(superuser, kinds=[]))) == []


def test_send_tells_each_resident_once(world, superuser, office_a, office_b,
                                       django_capture_on_commit_callbacks):
    both = incident(superuser, office=None,
                    kinds=[BreachDataKind.IDENTITY, BreachDataKind.CASES], **PERIOD)
    with time_machine.travel(DISCOVERED + timedelta(hours=5), tick=False):
        result = breach_notices_send(incident=both)
    assert result == {"sent": 4, "pending": 0}
    told = Notification.objects.filter(kind="breach.notice")
    assert sorted(told.values_list("resident__name", flat=True)) == [
        "A registered in July", "B registered in July", "B with a July case in A",
        "B with a July case in B"]
    # Told from their domicile office, in their language, the notice as written.
    by_name = {n.resident.name: n for n in told.select_related("resident")}
    assert by_name["B with a July case in A"].office_id == office_b.id
    assert by_name["A registered in July"].office_id == office_a.id
    assert by_name["A registered in July"].title == (
        "Pemberitahuan kegagalan pelindungan data pribadi")
    assert by_name["A registered in July"].body == both.notice_text
    # Through the resident's channels: the factory's residents have a bound smartphone.
    assert set(NotificationDelivery.objects.filter(notification__in=told)
               .values_list("channel", flat=True)) == {"whatsapp"}
    assert BreachNotice.objects.filter(incident=both).count() == 4
    both.refresh_from_db()
    assert both.status == BreachStatus.NOTIFIED
    assert both.residents_notified_at == DISCOVERED + timedelta(hours=5)
    # Sending again tells nobody twice.
    assert breach_notices_send(incident=both) == {"sent": 0, "pending": 0}
    assert Notification.objects.filter(kind="breach.notice").count() == 4
    assert BreachNotice.objects.count() == 4


def test_a_large_incident_goes_on_in_batches(world, superuser, office_a, monkeypatch):
    from registry import tasks
    from registry.services import breaches

    queued = []
    monkeypatch.setattr(breaches, "enqueue_on_commit", lambda task, *args: queued.append(
        (task.name, args)))
    both = incident(superuser, office=office_a,
                    kinds=[BreachDataKind.IDENTITY, BreachDataKind.CASES], **PERIOD)
    assert breach_notices_send(incident=both, batch_size=1) == {"sent": 1, "pending": 1}
    assert queued == [("registry.tasks.breach_notices_send", (both.id,))]
    both.refresh_from_db()
    assert both.status == BreachStatus.NOTIFYING
    assert both.residents_notified_at is None
    # The task's runs: one batch each, then nothing left.
    assert breach_notices_send_batch(incident_id=both.id, batch_size=1) == 1
    assert breach_notices_send_batch(incident_id=both.id, batch_size=1) == 0
    both.refresh_from_db()
    assert both.status == BreachStatus.NOTIFIED
    assert Notification.objects.filter(kind="breach.notice", office=office_a).count() == 2
    # The task runs a batch and queues itself again while it told anyone.
    monkeypatch.setattr(tasks, "enqueue_now", lambda task, *args: queued.append(
        (task.name, args)))
    tasks.breach_notices_send(both.id)
    assert len(queued) == 1


def test_an_incident_matching_nobody_sends_nothing(world, superuser, office_a):
    nobody = incident(superuser, office=office_a, kinds=[BreachDataKind.PHOTOS], **PERIOD)
    with pytest.raises(DomainError) as error:
        breach_notices_send(incident=nobody)
    assert error.value.code == "breach_no_residents"
    nobody.refresh_from_db()
    assert nobody.status == BreachStatus.OPEN
    assert Notification.objects.filter(kind="breach.notice").count() == 0


def test_deadline_left_overdue_and_in_time(superuser):
    breach = incident(superuser)
    assert breach.deadline == datetime(2026, 7, 13, 2, 0, tzinfo=UTC)
    with translation.override("en"):
        assert breach_deadline_text(breach, DISCOVERED + timedelta(hours=1, minutes=15)) == (
            "70 h 45 min left")
        assert not breach_is_overdue(breach, DISCOVERED + timedelta(hours=72))
        late = DISCOVERED + timedelta(hours=74, minutes=30)
        assert breach_deadline_text(breach, late) == "Overdue by 2 h 30 min"
        assert breach_is_overdue(breach, late)
        breach.residents_notified_at = DISCOVERED + timedelta(hours=71)
        assert breach_deadline_text(breach, late) == "Residents notified in time"
        assert not breach_is_overdue(breach, late)
        breach.residents_notified_at = DISCOVERED + timedelta(hours=73, minutes=5)
        assert breach_deadline_text(breach, late) == "Residents notified late, by 1 h 05 min"
        assert breach_is_overdue(breach, late)
    with translation.override("id"):
        breach.residents_notified_at = None
        assert breach_deadline_text(breach, late) == "Lewat batas 2 jam 30 menit"


def test_superuser_opens_an_incident_and_sends_from_admin(client, world, superuser,
                                                          office_a):
    client.force_login(superuser)
    response = client.post(reverse("admin:registry_breachincident_add"), {
        "title": "Tangkapan layar bocor", "description": "Daftar antrean tersebar",
        "discovered_at_0": "2026-07-10", "discovered_at_1": "09:00:00",
        "kinds": [BreachDataKind.IDENTITY, BreachDataKind.CASES], "office": office_a.id,
        "period_start_0": "2026-07-01", "period_start_1": "07:00:00",
        "period_end_0": "2026-07-03", "period_end_1": "07:00:00",
        "notice_text": "Data Anda mungkin terdampak.",
        "authority_notified_at_0": "", "authority_notified_at_1": ""})
    assert response.status_code == 302, response.content.decode()[:3000]
    breach = BreachIncident.objects.get()
    assert breach.opened_by == superuser
    # The office's zone (WIB) for the typed times: 10 July 09:00 WIB is 02:00 UTC.
    assert breach.discovered_at == DISCOVERED
    with time_machine.travel(DISCOVERED + timedelta(hours=2), tick=False):
        changelist = client.get(reverse("admin:registry_breachincident_changelist"))
        assert "sisa 70 jam 00 menit" in changelist.content.decode()
        page = client.get(reverse("admin:registry_breachincident_residents",
                                  args=[breach.pk])).content.decode()
    assert '<td id="affected-count">2</td>' in page
    assert '<td id="pending-count">2</td>' in page
    assert "A registered in July" in page
    assert "B with a July case in A" in page
    assert "B registered in July" not in page
    with time_machine.travel(DISCOVERED + timedelta(hours=80), tick=False):
        response = client.post(reverse("admin:registry_breachincident_send",
                                       args=[breach.pk]))
        assert response.status_code == 302
        change = client.get(reverse("admin:registry_breachincident_change",
                                    args=[breach.pk])).content.decode()
    assert "Penduduk diberi tahu terlambat 8 jam 00 menit" in change
    assert Notification.objects.filter(kind="breach.notice").count() == 2
    assert client.post(reverse("admin:registry_breachincident_send", args=[breach.pk]))
    assert Notification.objects.filter(kind="breach.notice").count() == 2


@pytest.mark.parametrize("role", [Role.OFFICE_ADMIN, Role.PROVINCIAL_SUPERVISOR,
                                  Role.SUPERVISOR])
def test_only_superusers_see_breaches(client, world, superuser, make_staff, office_a, role):
    breach = incident(superuser, office=office_a, **PERIOD)
    client.force_login(make_staff(office_a, role))
    urls = [reverse("admin:registry_breachincident_changelist"),
            reverse("admin:registry_breachincident_add"),
            reverse("admin:registry_breachincident_change", args=[breach.pk]),
            reverse("admin:registry_breachincident_residents", args=[breach.pk])]
    for url in urls:
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("admin:registry_breachincident_send",
                               args=[breach.pk])).status_code == 403
    assert Notification.objects.filter(kind="breach.notice").count() == 0
    assert BreachNotice.objects.count() == 0
    index = client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:registry_breachincident_changelist") not in index


def test_the_list_does_not_query_per_incident(client, world, superuser, office_a,
                                              django_assert_max_num_queries):
    for number in range(4):
        breach = incident(superuser, title=f"Kejadian {number}", office=office_a,
                          kinds=[BreachDataKind.IDENTITY, BreachDataKind.CASES], **PERIOD)
        breach_notices_send(incident=breach)
    client.force_login(superuser)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("admin:registry_breachincident_changelist"))
    assert response.status_code == 200
    assert [row.notice_count for row in response.context["cl"].result_list] == [2, 2, 2, 2]
