"""Staff accounts in admin (issue 12, account takeover 2): an office administrator sees,
creates and changes only the accounts whose every membership is in an office they
administer. Every other account (another office's staff, staff of several offices,
provincial supervisors, superusers, accounts with no office) answers 404 to them on
every page, its password page included; their memberships are read-only."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from registry import tenancy
from registry.errors import NotFound
from registry.models import Role, StaffMembership
from registry.services.staff import staff_membership_grant
from tests.factories import UserFactory

PASSWORD = "pass-for-tests-1"
STOLEN = "Diambil-alih-2026!"  # the password the attacker chooses

User = get_user_model()


@pytest.fixture
def kota(office_a):
    return office_a


@pytest.fixture
def kab(office_b):
    return office_b


@pytest.fixture
def kab_admin(make_staff, kab):
    return make_staff(kab, Role.OFFICE_ADMIN, username="kab.admin")


@pytest.fixture
def kab_desk(make_staff, kab):
    return make_staff(kab, Role.FRONT_DESK, username="kab.frontdesk")


@pytest.fixture
def kota_desk(make_staff, kota):
    return make_staff(kota, Role.FRONT_DESK, username="kota.frontdesk")


@pytest.fixture
def jabar(make_staff, kota, kab):
    """The provincial supervisor of both offices, as in the demo data."""
    user = make_staff(kota, Role.PROVINCIAL_SUPERVISOR, username="jabar.supervisor")
    staff_membership_grant(user=user, office=kab, role=Role.PROVINCIAL_SUPERVISOR)
    user.refresh_from_db()
    return user


@pytest.fixture
def superuser(db):
    return UserFactory(username="admin", is_superuser=True, is_staff=True)


@pytest.fixture
def protected(request, make_staff, kota, kab, jabar, superuser, kota_desk):
    """Each account an office administrator of Kabupaten Bekasi must not manage."""

    def both_offices():
        user = make_staff(kab, Role.FRONT_DESK, username="both.frontdesk")
        staff_membership_grant(user=user, office=kota, role=Role.COUNTER_OPERATOR)
        return user

    made = {
        "provincial_supervisor_of_both": lambda: jabar,
        "provincial_supervisor_of_kab_only": lambda: make_staff(
            kab, Role.PROVINCIAL_SUPERVISOR, username="kab.provincial"),
        "superuser": lambda: superuser,
        "staff_of_both_offices": both_offices,
        "staff_of_the_other_office": lambda: kota_desk,
        "staff_flag_without_office": lambda: UserFactory(username="flagged", is_staff=True),
        "account_without_office": lambda: UserFactory(username="nobody"),
    }[request.param]()
    made.refresh_from_db()
    return made


PROTECTED = ["provincial_supervisor_of_both", "provincial_supervisor_of_kab_only",
             "superuser", "staff_of_both_offices", "staff_of_the_other_office",
             "staff_flag_without_office", "account_without_office"]


def _login(client, username, password):
    return client.post(reverse("admin:login"), {"username": username, "password": password})


def _password_form(password):
    return {"usable_password": "true", "password1": password, "password2": password}


def _state(user):
    """What an office administrator must not be able to change about `user`."""
    user = User.objects.get(pk=user.pk)
    return {
        "username": user.username, "first_name": user.first_name, "password": user.password,
        "is_active": user.is_active, "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
        "groups": sorted(user.groups.values_list("name", flat=True)),
        "user_permissions": sorted(user.user_permissions.values_list("codename", flat=True)),
        "memberships": sorted(user.memberships.values_list("office__code", "role")),
    }


def _change_form(user, **changes):
    return {"username": user.username, "first_name": user.first_name,
            "last_name": user.last_name, "email": user.email, "is_active": "on",
            **changes}


# --- The attack, as reported -------------------------------------------------------


def test_an_office_admin_cannot_set_the_provincial_supervisors_password(
        client, kab_admin, jabar):
    before = _state(jabar)
    assert _login(client, "kab.admin", PASSWORD).status_code == 302
    url = reverse("admin:auth_user_password_change", args=[jabar.pk])

    assert client.get(url).status_code == 404
    assert client.post(url, _password_form(STOLEN)).status_code == 404

    assert _state(jabar) == before
    client.logout()
    refused = _login(client, "jabar.supervisor", STOLEN)
    assert refused.status_code == 200  # the login form again
    assert "_auth_user_id" not in client.session
    assert _login(client, "jabar.supervisor", PASSWORD).status_code == 302


# --- Protected accounts: invisible to an office administrator ----------------------


@pytest.mark.parametrize("protected", PROTECTED, indirect=True)
def test_a_protected_account_answers_404_on_every_page(client, kab_admin, protected):
    before = _state(protected)
    client.force_login(kab_admin)
    pk = protected.pk

    for name in ("change", "password_change", "history"):
        url = reverse(f"admin:auth_user_{name}", args=[pk])
        assert client.get(url).status_code == 404, name
    assert client.post(reverse("admin:auth_user_change", args=[pk]), _change_form(
        protected, first_name="Diubah", is_active="")).status_code == 404
    assert client.post(reverse("admin:auth_user_password_change", args=[pk]),
                       _password_form(STOLEN)).status_code == 404
    # Office administrators delete no account (they deactivate): 403 for any id.
    delete = reverse("admin:auth_user_delete", args=[pk])
    assert client.get(delete).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403

    assert _state(protected) == before


@pytest.mark.parametrize("protected", PROTECTED, indirect=True)
def test_a_protected_account_is_not_listed_found_or_offered(client, kab_admin, kab_desk,
                                                            protected):
    client.force_login(kab_admin)
    listed = client.get(reverse("admin:auth_user_changelist"))
    assert [u.username for u in listed.context["cl"].result_list] == ["kab.admin",
                                                                      "kab.frontdesk"]
    found = client.get(reverse("admin:auth_user_changelist"), {"q": protected.username})
    assert protected not in found.context["cl"].result_list
    form = client.get(reverse("admin:registry_staffmembership_add")).context["adminform"].form
    assert list(form.fields["user"].queryset.order_by("username")) == [kab_admin, kab_desk]


@pytest.mark.parametrize("protected", PROTECTED, indirect=True)
def test_an_office_admin_cannot_give_a_protected_account_a_role(client, kab, kab_admin,
                                                                protected):
    before = _state(protected)
    client.force_login(kab_admin)
    response = client.post(reverse("admin:registry_staffmembership_add"), {
        "office": kab.pk, "user": protected.pk, "role": Role.FRONT_DESK})
    assert response.status_code == 200  # the form again
    assert set(response.context["adminform"].form.errors) == {"user"}
    assert _state(protected) == before
    with pytest.raises(NotFound):
        staff_membership_grant(user=protected, office=kab, role=Role.FRONT_DESK,
                               by=kab_admin)
    assert _state(protected) == before


def test_the_provincial_supervisors_membership_is_read_only_to_the_office_admin(
        client, kab, kab_admin, kab_desk, jabar):
    membership = StaffMembership.objects.get(user=jabar, office=kab)
    before = _state(jabar)
    client.force_login(kab_admin)
    change = reverse("admin:registry_staffmembership_change", args=[membership.pk])
    page = client.get(change)
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert page.context["has_delete_permission"] is False
    assert client.post(change, {"office": kab.pk, "user": kab_desk.pk,
                                "role": Role.FRONT_DESK}).status_code == 403
    delete = reverse("admin:registry_staffmembership_delete", args=[membership.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert _state(jabar) == before


def test_bulk_deleting_memberships_cannot_touch_a_protected_account(client, kab, kab_admin,
                                                                     kab_desk, jabar):
    jabar_kab = StaffMembership.objects.get(user=jabar, office=kab)
    desk_kab = StaffMembership.objects.get(user=kab_desk, office=kab)
    client.force_login(kab_admin)
    response = client.post(reverse("admin:registry_staffmembership_changelist"), {
        "action": "delete_selected", "_selected_action": [jabar_kab.pk, desk_kab.pk],
        "post": "yes"})
    assert response.status_code == 403
    assert set(StaffMembership.objects.filter(office=kab).values_list("pk", flat=True)) >= {
        jabar_kab.pk, desk_kab.pk}


def test_bulk_deleting_users_cannot_touch_a_protected_account(client, kab_admin, kab_desk,
                                                              jabar):
    client.force_login(kab_admin)
    client.post(reverse("admin:auth_user_changelist"), {
        "action": "delete_selected", "_selected_action": [jabar.pk, kab_desk.pk],
        "post": "yes"})
    assert set(User.objects.values_list("username", flat=True)) == {
        "kab.admin", "kab.frontdesk", "jabar.supervisor"}


def test_an_office_admin_grants_no_role_outside_what_they_administer(client, make_staff, kota,
                                                                     kab, kab_admin, kab_desk):
    # kab.admin also works at Kota Bekasi's front desk: that is not administering it.
    staff_membership_grant(user=kab_admin, office=kota, role=Role.FRONT_DESK)
    kab_admin.refresh_from_db()
    before = _state(kab_desk)
    client.force_login(kab_admin)
    add = reverse("admin:registry_staffmembership_add")

    form = client.get(add).context["adminform"].form
    assert list(form.fields["office"].queryset) == [kab]
    assert Role.PROVINCIAL_SUPERVISOR not in dict(form.fields["role"].choices)

    refused = [
        ({"office": kota.pk, "user": kab_desk.pk, "role": Role.OFFICE_ADMIN}, {"office"}),
        ({"office": kab.pk, "user": kab_desk.pk, "role": Role.PROVINCIAL_SUPERVISOR},
         {"role"}),
    ]
    for data, errors in refused:
        response = client.post(add, data)
        assert response.status_code == 200
        assert set(response.context["adminform"].form.errors) == errors
    assert _state(kab_desk) == before
    for office, role in ((kota, Role.OFFICE_ADMIN), (kab, Role.PROVINCIAL_SUPERVISOR)):
        with pytest.raises(NotFound):
            staff_membership_grant(user=kab_desk, office=office, role=role,
                                   by=kab_admin)
    assert _state(kab_desk) == before


# --- The office administrator escalates nothing ------------------------------------


def test_an_office_admin_cannot_raise_their_own_powers(client, kab_admin):
    before = _state(kab_admin)
    client.force_login(kab_admin)
    response = client.post(reverse("admin:auth_user_change", args=[kab_admin.pk]), {
        **_change_form(kab_admin), "is_staff": "on", "is_superuser": "on",
        "groups": list(Group.objects.values_list("pk", flat=True)),
        "user_permissions": list(Permission.objects.values_list("pk", flat=True)[:20])})
    assert response.status_code == 302
    assert _state(kab_admin) == before


def test_an_office_admin_cannot_make_their_staff_a_superuser(client, kab_admin, kab_desk):
    before = _state(kab_desk)
    client.force_login(kab_admin)
    response = client.post(reverse("admin:auth_user_change", args=[kab_desk.pk]), {
        **_change_form(kab_desk), "is_staff": "on", "is_superuser": "on",
        "groups": list(Group.objects.values_list("pk", flat=True)),
        "user_permissions": list(Permission.objects.values_list("pk", flat=True)[:20])})
    assert response.status_code == 302
    assert _state(kab_desk) == before


# --- What an office administrator still does ---------------------------------------


def test_an_office_admin_fully_manages_their_own_offices_staff(client, kab, kab_admin,
                                                               kab_desk):
    client.force_login(kab_admin)
    change = reverse("admin:auth_user_change", args=[kab_desk.pk])
    assert client.get(change).status_code == 200
    response = client.post(change, _change_form(kab_desk, first_name="Siti", is_active=""))
    assert response.status_code == 302
    kab_desk.refresh_from_db()
    assert (kab_desk.first_name, kab_desk.is_active) == ("Siti", False)
    User.objects.filter(pk=kab_desk.pk).update(is_active=True)

    password = reverse("admin:auth_user_password_change", args=[kab_desk.pk])
    assert client.post(password, _password_form("Kata-sandi-baru-7")).status_code == 302

    membership = StaffMembership.objects.get(user=kab_desk)
    response = client.post(reverse("admin:registry_staffmembership_change",
                                   args=[membership.pk]),
                           {"office": kab.pk, "user": kab_desk.pk, "role": Role.SUPERVISOR})
    assert response.status_code == 302
    assert list(kab_desk.memberships.values_list("office__code", "role")) == [
        ("3216", Role.SUPERVISOR)]
    response = client.post(reverse("admin:registry_staffmembership_add"), {
        "office": kab.pk, "user": kab_desk.pk, "role": Role.OFFICE_ADMIN})
    assert response.status_code == 302
    assert sorted(kab_desk.memberships.values_list("role", flat=True)) == [
        Role.OFFICE_ADMIN, Role.SUPERVISOR]

    client.logout()
    assert _login(client, "kab.frontdesk", "Kata-sandi-baru-7").status_code == 302


def test_a_new_account_starts_with_a_role_in_the_admins_office(client, kota, kab, kab_admin):
    client.force_login(kab_admin)
    add = reverse("admin:auth_user_add")
    form = client.get(add).context["adminform"].form
    assert list(form.fields["office"].queryset) == [kab]
    assert Role.PROVINCIAL_SUPERVISOR not in dict(form.fields["role"].choices)

    data = {"username": "kab.baru", **_password_form("Kata-sandi-baru-7")}
    for forged, errors in (({"office": kota.pk, "role": Role.FRONT_DESK}, {"office"}),
                           ({"office": kab.pk, "role": Role.PROVINCIAL_SUPERVISOR}, {"role"}),
                           ({}, {"office", "role"})):
        response = client.post(add, {**data, **forged})
        assert response.status_code == 200
        assert set(response.context["adminform"].form.errors) == errors
        assert not User.objects.filter(username="kab.baru").exists()

    response = client.post(add, {**data, "office": kab.pk, "role": Role.FRONT_DESK})
    created = User.objects.get(username="kab.baru")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:auth_user_change", args=[created.pk])
    assert client.get(response["Location"]).status_code == 200
    assert _state(created)["memberships"] == [("3216", Role.FRONT_DESK)]
    assert (created.is_staff, created.is_superuser) == (True, False)
    assert created.check_password("Kata-sandi-baru-7")


# --- Superusers manage everyone ----------------------------------------------------


def test_a_superuser_manages_every_account(client, superuser, kab_admin, kab_desk, kota_desk,
                                           jabar):
    client.force_login(superuser)
    listed = client.get(reverse("admin:auth_user_changelist")).context["cl"].result_list
    assert [u.username for u in listed] == ["admin", "jabar.supervisor", "kab.admin",
                                            "kab.frontdesk", "kota.frontdesk"]
    url = reverse("admin:auth_user_password_change", args=[jabar.pk])
    assert client.post(url, _password_form("Kata-sandi-baru-7")).status_code == 302
    jabar.refresh_from_db()
    assert jabar.check_password("Kata-sandi-baru-7")

    page = client.get(reverse("admin:auth_user_change", args=[jabar.pk]))
    assert {"is_superuser", "groups", "user_permissions"} <= set(
        page.context["adminform"].form.fields)
    form = client.get(reverse("admin:registry_staffmembership_add")).context["adminform"].form
    assert set(form.fields["user"].queryset) == set(User.objects.all())
    assert Role.PROVINCIAL_SUPERVISOR in dict(form.fields["role"].choices)

    stranger = UserFactory(username="stranger")
    client.post(reverse("admin:auth_user_changelist"), {
        "action": "delete_selected", "_selected_action": [stranger.pk], "post": "yes"})
    assert not User.objects.filter(username="stranger").exists()


# --- The rule itself ---------------------------------------------------------------


def test_staff_manageable_by(make_staff, kota, kab, kab_admin, kab_desk, kota_desk, jabar,
                             superuser):
    both = make_staff(kab, Role.SUPERVISOR, username="both.supervisor")
    staff_membership_grant(user=both, office=kota, role=Role.SUPERVISOR)
    UserFactory(username="nobody")

    def usernames(user):
        return sorted(tenancy.staff_manageable_by(user).values_list("username", flat=True))

    assert usernames(kab_admin) == ["kab.admin", "kab.frontdesk"]
    assert usernames(kab_desk) == []
    assert usernames(jabar) == []
    assert usernames(superuser) == sorted(User.objects.values_list("username", flat=True))
    User.objects.filter(pk=kab_admin.pk).update(is_active=False)
    assert usernames(User.objects.get(pk=kab_admin.pk)) == []
