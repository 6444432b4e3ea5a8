"""Staff of office A can neither list, open, change, search, act on nor pick in a form
anything of office B."""

import pytest
from django.contrib import admin
from django.urls import reverse

from registry.admin_base import OfficeScopedAdmin, _model_has_office
from registry.models import Application, Office, Resident, Role, Service


@pytest.fixture
def desk_a(make_staff, office_a):
    return make_staff(office_a, Role.FRONT_DESK)


@pytest.fixture
def client_a(client, desk_a):
    client.force_login(desk_a)
    return client


def test_every_office_owned_model_has_an_office_scoped_admin():
    unscoped = [
        model.__name__ for model, model_admin in admin.site._registry.items()
        if _model_has_office(model) and not isinstance(model_admin, OfficeScopedAdmin)
    ]
    assert unscoped == []


def test_the_list_shows_only_the_staff_members_office(client_a, application_a, application_b):
    response = client_a.get(reverse("admin:registry_application_changelist"))
    assert response.status_code == 200
    shown = {app.pk for app in response.context["cl"].result_list}
    assert shown == {application_a.pk}


def test_another_offices_object_answers_404_to_view_and_change(client_a, application_b):
    url = reverse("admin:registry_application_change", args=[application_b.pk])
    assert client_a.get(url).status_code == 404
    response = client_a.post(url, {"note": "intrusion"})
    assert response.status_code == 404
    assert application_b.events.filter(kind="application.note").count() == 0


def test_search_does_not_reach_another_office(client_a, application_a, application_b):
    url = reverse("admin:registry_application_changelist")
    response = client_a.get(url, {"q": application_b.number})
    assert list(response.context["cl"].result_list) == []
    response = client_a.get(url, {"q": application_b.resident.nik})
    assert list(response.context["cl"].result_list) == []


def test_form_choices_hold_only_the_staff_members_office(client_a, office_a, office_b,
                                                          resident_a, resident_b):
    response = client_a.get(reverse("admin:registry_application_add"))
    form = response.context["adminform"].form
    assert list(form.fields["office"].queryset) == [office_a]
    assert set(form.fields["service"].queryset.values_list("office_id", flat=True)) == {
        office_a.id}
    assert resident_b not in form.fields["resident"].queryset
    assert resident_a in form.fields["resident"].queryset


def test_a_forged_post_with_another_offices_rows_creates_nothing(client_a, office_a, office_b,
                                                                 resident_a):
    foreign_service = Service.objects.get(office=office_b, code="KTP_BARU")
    response = client_a.post(reverse("admin:registry_application_add"), {
        "office": office_b.pk, "resident": resident_a.pk, "service": foreign_service.pk,
        "channel": "walk_in",
    })
    assert response.status_code == 200  # the form again, with errors
    assert set(response.context["adminform"].form.errors) == {"office", "service"}
    assert not Application.objects.exists()


def test_the_front_desk_opens_a_walk_in_case_through_the_service(client_a, office_a,
                                                                  resident_a):
    service = Service.objects.get(office=office_a, code="KTP_RUSAK")
    response = client_a.post(reverse("admin:registry_application_add"), {
        "office": office_a.pk, "resident": resident_a.pk, "service": service.pk,
        "channel": "walk_in",
    })
    assert response.status_code == 302
    application = Application.objects.get()
    assert application.number.startswith("3275-")
    assert application.created_by.username == "3275-front_desk"
    assert list(application.events.values_list("kind", flat=True)) == ["application.opened"]


def test_actions_ignore_another_offices_rows(make_staff, client, office_a, office_b):
    supervisor = make_staff(office_a, Role.SUPERVISOR)
    flagged_b = Resident.objects.create(nik="3216011203850009", name="B", birth_date="1985-03-13",
                                        domicile_office=office_b, nik_needs_review=True)
    client.force_login(supervisor)
    client.post(reverse("admin:registry_resident_changelist"), {
        "action": "mark_nik_verified", "_selected_action": [flagged_b.pk]})
    flagged_b.refresh_from_db()
    assert flagged_b.nik_needs_review is True


def test_residents_list_masks_the_nik(client_a, resident_a):
    response = client_a.get(reverse("admin:registry_resident_changelist"))
    body = response.content.decode()
    assert resident_a.masked_nik in body
    assert resident_a.nik not in body


def test_the_full_nik_is_shown_with_a_reason_and_recorded(client_a, resident_a, desk_a):
    url = reverse("admin:registry_resident_reveal_nik", args=[resident_a.pk])
    assert resident_a.nik not in client_a.get(url).content.decode()
    response = client_a.post(url, {"reason": "Cocokkan dengan KTP"})
    assert resident_a.nik in response.content.decode()
    from registry.models import NikDisclosure

    assert NikDisclosure.objects.get().user == desk_a


def test_public_relations_cannot_reveal_a_full_nik(make_staff, client, office_a, resident_a):
    client.force_login(make_staff(office_a, Role.PUBLIC_RELATIONS))
    url = reverse("admin:registry_resident_reveal_nik", args=[resident_a.pk])
    assert client.post(url, {"reason": "x"}).status_code == 403


def test_office_admin_edits_own_office_only(make_staff, client, office_a, office_b):
    client.force_login(make_staff(office_a, Role.OFFICE_ADMIN))
    response = client.get(reverse("admin:registry_office_changelist"))
    assert [o.pk for o in response.context["cl"].result_list] == [office_a.pk]
    assert client.get(reverse("admin:registry_office_change", args=[office_b.pk])
                      ).status_code == 404


def test_office_admin_sees_and_grants_only_their_offices_staff(make_staff, client, office_a,
                                                               office_b):
    admin_a = make_staff(office_a, Role.OFFICE_ADMIN)
    staff_b = make_staff(office_b, Role.FRONT_DESK)
    client.force_login(admin_a)
    users = client.get(reverse("admin:auth_user_changelist")).context["cl"].result_list
    assert staff_b not in users
    form = client.get(reverse("admin:registry_staffmembership_add")).context["adminform"].form
    assert staff_b not in form.fields["user"].queryset
    assert list(form.fields["office"].queryset) == [office_a]


def test_a_provincial_supervisor_sees_both_offices(make_staff, client, office_a, office_b,
                                                   application_a, application_b):
    from registry.services.staff import staff_membership_grant

    user = make_staff(office_a, Role.PROVINCIAL_SUPERVISOR, username="jabar")
    staff_membership_grant(user=user, office=office_b, role=Role.PROVINCIAL_SUPERVISOR)
    client.force_login(user)
    response = client.get(reverse("admin:registry_application_changelist"))
    assert {a.pk for a in response.context["cl"].result_list} == {application_a.pk,
                                                                  application_b.pk}
    url = reverse("admin:registry_application_change", args=[application_b.pk])
    # An overseer says why before a case file opens (registry.admin_access).
    assert "access_reason" in client.get(url).content.decode()
    client.post(url, {"access_reason": "Checking a complaint"})
    change = client.get(url)
    assert change.status_code == 200
    assert change.context["has_change_permission"] is False


def test_the_index_is_titled_for_the_office_with_todays_figures(client_a, application_a):
    response = client_a.get(reverse("admin:index"))
    body = response.content.decode()
    assert "Disdukcapil Kota Bekasi" in body
    assert "Disdukcapil Kabupaten Bekasi" not in body
    panel = response.context["office_panels"][0]
    assert panel["office"] == Office.objects.get(code="3275")
    figures = dict(panel["figures"])
    assert list(figures.values())[:2] == [1, 1]


def test_complaint_messages_are_listed_to_the_offices_supervisors_only(
        client, make_staff, office_a, office_b, resident_a):
    from registry.services.notifications import notification_send

    def say(office, kind):
        return notification_send(office=office, resident=resident_a, kind=kind,
                                 title=f"{kind} {office.code}", body="...")

    booking = say(office_a, "booking.created")
    complaint = say(office_a, "complaint.response")
    say(office_b, "complaint.response")
    url = reverse("admin:registry_notification_changelist")

    def listed(user):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        return {n.pk for n in response.context["cl"].result_list}

    for role in (Role.FRONT_DESK, Role.OFFICE_ADMIN, Role.PUBLIC_RELATIONS):
        assert listed(make_staff(office_a, role)) == {booking.pk}
    assert listed(make_staff(office_a, Role.SUPERVISOR)) == {booking.pk, complaint.pk}
    # The message itself is not found either.
    client.force_login(make_staff(office_a, Role.FRONT_DESK))
    change = reverse("admin:registry_notification_change", args=[complaint.pk])
    assert client.get(change).status_code == 404
