"""The audit of staff changes (registry.audit, django-auditlog): every change to
settings, accounts, memberships, the catalogue and closures is an AuditEntry with the
values before and after, the office it belongs to, and who made it; each office's
overseers read theirs; nobody edits or deletes an entry."""

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from registry.models import AuditEntry, Closure, Role, Service
from registry.services.staff import staff_membership_grant


def entries_for(obj) -> list[AuditEntry]:
    return list(AuditEntry.objects.get_for_object(obj).order_by("id"))


@pytest.fixture
def admin_a(make_staff, office_a):
    return make_staff(office_a, Role.OFFICE_ADMIN, username="admin.a")


def test_a_change_in_the_admin_is_recorded_with_before_and_after(
        client, admin_a, office_a):
    service = Service.objects.filter(office=office_a).first()
    client.force_login(admin_a)
    url = reverse("admin:registry_service_change", args=[service.pk])
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update({"estimated_minutes": "25", "lane": service.lane_id, "office": office_a.id,
                 "steps": "[]"})
    for prefix in ("requirements",):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    before = service.estimated_minutes
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = entries_for(service)[-1]
    assert entry.action == AuditEntry.Action.UPDATE
    assert entry.changes["estimated_minutes"] == [before, 25]
    assert entry.actor == admin_a
    assert entry.office_id == office_a.id


def test_closures_and_memberships_carry_their_office(office_a, office_b, make_staff):
    closure = Closure.objects.create(office=office_b, date=date(2026, 12, 24),
                                     reason="Cuti bersama")
    closure.delete()
    created, deleted = AuditEntry.objects.filter(
        content_type__model="closure").order_by("id")
    assert (created.action, deleted.action) == (AuditEntry.Action.CREATE,
                                                AuditEntry.Action.DELETE)
    assert {created.office_id, deleted.office_id} == {office_b.id}
    user = make_staff(office_a, Role.FRONT_DESK, username="desk.a")
    membership = user.memberships.get()
    assert entries_for(membership)[0].office_id == office_a.id


def test_a_password_change_is_recorded_masked_and_sign_ins_are_not(office_a, make_staff):
    user = make_staff(office_a, Role.FRONT_DESK, username="desk.a")
    count = AuditEntry.objects.count()
    user.set_password("a-new-password-2026")
    user.save()
    entry = AuditEntry.objects.latest("id")
    assert AuditEntry.objects.count() == count + 1
    assert "a-new-password-2026" not in str(entry.changes)
    assert user.password not in str(entry.changes)
    get_user_model().objects.filter(pk=user.pk).update(last_login=None)
    user.refresh_from_db()
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    assert AuditEntry.objects.count() == count + 1


def test_overseers_see_their_offices_audit_only_and_cannot_change_it(
        client, make_staff, office_a, office_b):
    desk_a = make_staff(office_a, Role.FRONT_DESK, username="desk.a")
    desk_b = make_staff(office_b, Role.FRONT_DESK, username="desk.b")
    closure_b = Closure.objects.create(office=office_b, date=date(2026, 12, 24),
                                       reason="Cuti bersama")
    closure_a = Closure.objects.create(office=office_a, date=date(2026, 12, 24),
                                       reason="Cuti bersama")
    supervisor = make_staff(office_a, Role.SUPERVISOR, username="sup.a")
    client.force_login(supervisor)
    response = client.get(reverse("admin:registry_auditentry_changelist"))
    assert response.status_code == 200
    seen = list(response.context["cl"].result_list)
    user_type = "user"
    assert {(e.content_type.model, e.object_id) for e in seen
            if e.content_type.model == user_type} >= {(user_type, desk_a.pk)}
    assert (user_type, desk_b.pk) not in {(e.content_type.model, e.object_id) for e in seen}
    assert entries_for(closure_a)[0] in seen
    other = entries_for(closure_b)[0]
    assert other not in seen
    assert client.get(reverse("admin:registry_auditentry_change",
                              args=[other.pk])).status_code == 404
    mine = entries_for(closure_a)[0]
    page = client.get(reverse("admin:registry_auditentry_change", args=[mine.pk]))
    assert page.status_code == 200
    assert "Cuti bersama" in page.content.decode()
    assert client.post(reverse("admin:registry_auditentry_delete", args=[mine.pk]),
                       {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(pk=mine.pk).exists()
    client.force_login(desk_a)  # the front desk does not read the audit
    assert client.get(reverse("admin:registry_auditentry_changelist")).status_code == 403


def test_an_account_seen_through_its_membership(client, make_staff, office_a, office_b):
    both = make_staff(office_b, Role.FRONT_DESK, username="both")
    staff_membership_grant(user=both, office=office_a, role=Role.FRONT_DESK)
    supervisor = make_staff(office_a, Role.SUPERVISOR, username="sup.a")
    client.force_login(supervisor)
    account = AuditEntry.objects.filter(content_type__model="user", object_id=both.pk).first()
    assert client.get(reverse("admin:registry_auditentry_change",
                              args=[account.pk])).status_code == 200
