"""The desk's identity work (registry.desk, issue 12): the "not verified" mark and
"KTP-el checked", a phone bound at the desk only by the code sent to it and read back,
the activation code printed by the desk used in the app once, and another office's
staff refused (404) everywhere, as services and through the resident admin."""

import re
from datetime import date, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from registry import desk, otp
from registry.errors import DomainError, NotFound, Throttled
from registry.models import ActivationCode, OtpChallenge, Resident, Role
from registry.notify.backends import SimulatedGateway
from registry.services.residents import resident_nik_verify
from tests.api.sign_in import last_code, sms_gateway, sms_to, tasks_at_once  # noqa: F401
from tests.factories import ResidentFactory, make_nik
from tests.language import choose_language

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sms_gateway")]

NOW = timezone.datetime(2026, 6, 29, 9, 0, tzinfo=timezone.get_fixed_timezone(7 * 60))


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def desk_a(make_staff, office_a):
    return make_staff(office_a, Role.FRONT_DESK)


@pytest.fixture
def desk_b(make_staff, office_b):
    return make_staff(office_b, Role.FRONT_DESK)


@pytest.fixture
def walk_in_resident(office_a, clock):
    """A resident the desk registered from the card, with no phone at all, verified."""
    return ResidentFactory(domicile_office=office_a, phone="", phone_bound_at=None,
                           identity_verified_at=NOW - timedelta(days=1))


def state(resident) -> tuple:
    resident.refresh_from_db()
    return (resident.phone, resident.phone_bound_at, resident.token_generation,
            resident.identity_verified_at)


def sent_code(phone: str) -> str:
    return re.search(r"\b(\d{6})\b", sms_to(phone)[-1]["body"]).group(1)


# --- Identity -------------------------------------------------------------------------


def test_ktp_checked_records_who_and_when_once(office_a, desk_a, make_staff, clock):
    resident = ResidentFactory(domicile_office=office_a)  # self-registered: not verified
    assert resident.identity_verified_at is None
    desk.resident_identity_verify(office=office_a, resident=resident, by=desk_a)
    resident.refresh_from_db()
    assert (resident.identity_verified_at, resident.identity_verified_by) == (NOW, desk_a)
    clock.shift(timedelta(hours=1))
    colleague = make_staff(office_a, Role.SUPERVISOR)
    desk.resident_identity_verify(office=office_a, resident=resident, by=colleague)
    resident.refresh_from_db()
    assert (resident.identity_verified_at, resident.identity_verified_by) == (NOW, desk_a)


def test_another_office_cannot_verify_or_bind_and_nothing_changes(office_a, office_b, desk_b,
                                                                  walk_in_resident):
    resident = ResidentFactory(domicile_office=office_a)
    before, before_walk_in = state(resident), state(walk_in_resident)
    with pytest.raises(NotFound):
        desk.resident_identity_verify(office=office_b, resident=resident, by=desk_b)
    with pytest.raises(NotFound):
        desk.resident_phone_bind_start(office=office_b, resident=walk_in_resident,
                                       phone="081277770201", by=desk_b)
    with pytest.raises(NotFound):
        desk.resident_phone_bind_confirm(office=office_b, resident=walk_in_resident,
                                         code="123456", by=desk_b)
    with pytest.raises(NotFound):
        desk.activation_code_for_paper(office=office_b, resident=walk_in_resident, by=desk_b)
    assert (state(resident), state(walk_in_resident)) == (before, before_walk_in)
    assert not OtpChallenge.objects.exists()
    assert not ActivationCode.objects.exists()
    assert SimulatedGateway.sent("sms") == []


def test_verifying_the_nik_also_verifies_the_identity(office_a, desk_a, clock):
    resident = ResidentFactory(domicile_office=office_a, nik_needs_review=True)
    resident_nik_verify(resident=resident, by=desk_a)
    resident.refresh_from_db()
    assert (resident.nik_needs_review, resident.identity_verified_at,
            resident.identity_verified_by) == (False, NOW, desk_a)


# --- Binding a phone at the desk ---------------------------------------------------------


def test_the_desk_binds_a_phone_only_with_the_code_sent_to_it(office_a, desk_a,
                                                               walk_in_resident):
    challenge = desk.resident_phone_bind_start(office=office_a, resident=walk_in_resident,
                                               phone="0812-7777-0201", by=desk_a)
    assert (challenge.phone, challenge.binds_phone, challenge.sent, challenge.address,
            challenge.expires_at) == ("+6281277770201", True, True, None,
                                      NOW + timedelta(minutes=5))
    code = sent_code("+6281277770201")
    assert code not in challenge.code_hash
    assert desk.resident_phone_bind_pending(office=office_a,
                                            resident=walk_in_resident) == challenge
    before = state(walk_in_resident)
    with pytest.raises(DomainError) as wrong:
        desk.resident_phone_bind_confirm(office=office_a, resident=walk_in_resident,
                                         code=f"{(int(code) + 1) % 10**6:06d}", by=desk_a)
    assert wrong.value.code == "otp_wrong"
    assert state(walk_in_resident) == before
    # The desk's code is not a sign-in code in the app.
    with pytest.raises(DomainError) as in_app:
        otp.otp_verify(nik=walk_in_resident.nik, code=code)
    assert in_app.value.code == "otp_expired"
    assert state(walk_in_resident) == before
    bound = desk.resident_phone_bind_confirm(office=office_a, resident=walk_in_resident,
                                             code=f" {code[:3]} {code[3:]} ", by=desk_a)
    assert (bound.phone, bound.phone_bound_at, bound.token_generation) == (
        "+6281277770201", NOW, 0)
    assert state(walk_in_resident)[:3] == ("+6281277770201", NOW, 0)
    # Used once.
    with pytest.raises(DomainError) as again:
        desk.resident_phone_bind_confirm(office=office_a, resident=walk_in_resident,
                                         code=code, by=desk_a)
    assert again.value.code == "otp_expired"


def test_five_wrong_codes_spend_the_desk_code(office_a, desk_a, walk_in_resident):
    desk.resident_phone_bind_start(office=office_a, resident=walk_in_resident,
                                   phone="081277770202", by=desk_a)
    code = sent_code("+6281277770202")
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        with pytest.raises(DomainError) as refused:
            desk.resident_phone_bind_confirm(office=office_a, resident=walk_in_resident,
                                             code=wrong, by=desk_a)
        assert refused.value.code == "otp_wrong"
    with pytest.raises(Throttled) as locked:
        desk.resident_phone_bind_confirm(office=office_a, resident=walk_in_resident,
                                         code=code, by=desk_a)
    assert locked.value.code == "otp_locked"
    assert OtpChallenge.objects.get().attempts == 5
    assert desk.resident_phone_bind_pending(office=office_a, resident=walk_in_resident) is None
    assert state(walk_in_resident)[:3] == ("", None, 0)


def test_the_desk_code_lasts_five_minutes(office_a, desk_a, walk_in_resident, clock):
    desk.resident_phone_bind_start(office=office_a, resident=walk_in_resident,
                                   phone="081277770203", by=desk_a)
    code = sent_code("+6281277770203")
    clock.shift(timedelta(minutes=5))
    with pytest.raises(DomainError) as expired:
        desk.resident_phone_bind_confirm(office=office_a, resident=walk_in_resident,
                                         code=code, by=desk_a)
    assert expired.value.code == "otp_expired"
    assert state(walk_in_resident)[:3] == ("", None, 0)


def test_binding_needs_the_ktp_checked_and_a_phone(office_a, desk_a, clock):
    resident = ResidentFactory(domicile_office=office_a, phone="", phone_bound_at=None)
    with pytest.raises(DomainError) as unverified:
        desk.resident_phone_bind_start(office=office_a, resident=resident,
                                       phone="081277770204", by=desk_a)
    assert unverified.value.code == "identity_not_verified"
    desk.resident_identity_verify(office=office_a, resident=resident, by=desk_a)
    with pytest.raises(DomainError) as bad_phone:
        desk.resident_phone_bind_start(office=office_a, resident=resident, phone="12345",
                                       by=desk_a)
    assert bad_phone.value.code == "phone_invalid"
    assert not OtpChallenge.objects.exists()
    assert SimulatedGateway.sent("sms") == []


def test_a_new_desk_code_ends_the_earlier_one_but_not_moments_after(office_a, desk_a,
                                                                    walk_in_resident, clock,
                                                                    settings):
    settings.OTP_RESEND_INTERVAL = timedelta(seconds=60)
    desk.resident_phone_bind_start(office=office_a, resident=walk_in_resident,
                                   phone="081277770205", by=desk_a)
    first = sent_code("+6281277770205")
    with pytest.raises(Throttled) as soon:
        desk.resident_phone_bind_start(office=office_a, resident=walk_in_resident,
                                       phone="081277770206", by=desk_a)
    assert (soon.value.code, soon.value.retry_after) == ("otp_too_soon", 61)
    clock.shift(timedelta(seconds=61))
    desk.resident_phone_bind_start(office=office_a, resident=walk_in_resident,
                                   phone="081277770206", by=desk_a)
    with pytest.raises(DomainError):
        desk.resident_phone_bind_confirm(office=office_a, resident=walk_in_resident,
                                         code=first, by=desk_a)
    desk.resident_phone_bind_confirm(office=office_a, resident=walk_in_resident,
                                     code=sent_code("+6281277770206"), by=desk_a)
    assert state(walk_in_resident)[0] == "+6281277770206"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("tasks_at_once")
def test_changing_a_bound_phone_ends_the_old_ones_sessions_and_tells_it(office_a, desk_a,
                                                                        clock):
    resident = ResidentFactory(domicile_office=office_a, phone="+6281277770207",
                               identity_verified_at=NOW, language="en")
    otp.activation_code_issue(office=office_a, resident=resident, by=desk_a)
    desk.resident_phone_bind_start(office=office_a, resident=resident,
                                   phone="081277770208", by=desk_a)
    desk.resident_phone_bind_confirm(office=office_a, resident=resident,
                                     code=sent_code("+6281277770208"), by=desk_a)
    assert state(resident)[:3] == ("+6281277770208", NOW, 1)
    [told] = sms_to("+6281277770207")
    assert told["body"] == (
        "The phone number of your e-Open account was changed. This phone no longer signs "
        "in. If this was not you, come to the office with your KTP-el.")
    # The printed code has done its work: spent.
    assert not ActivationCode.objects.filter(expires_at__gt=NOW).exists()


# --- The printed activation code, used in the app -----------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("tasks_at_once")
def test_the_printed_activation_code_binds_the_phone_in_the_app_once(http, office_a,
                                                                     desk_a):
    resident = ResidentFactory(domicile_office=office_a, phone="", phone_bound_at=None,
                               birth_date=date(1958, 2, 3))
    printed = desk.activation_code_for_paper(office=office_a, resident=resident, by=desk_a)
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", printed.code)
    # Without the code, a NIK alone sends nothing to a stranger's phone.
    assert http.post("/api/v1/auth/otp/", {"nik": resident.nik, "phone": "081277770209"}
                     ).status_code == 202
    assert sms_to("+6281277770209") == []
    answer = http.post("/api/v1/auth/otp/", {"nik": resident.nik, "phone": "081277770209",
                                             "activation_code": printed.code.lower()})
    assert answer.status_code == 202, answer.text
    signed_in = http.post("/api/v1/auth/token/", {"nik": resident.nik,
                                                  "otp": last_code("+6281277770209")})
    assert signed_in.status_code == 200, signed_in.text
    resident.refresh_from_db()
    assert (resident.phone, resident.phone_bound_at is not None) == ("+6281277770209", True)
    assert ActivationCode.objects.get().used_at is not None
    # A second use: the same answer, nothing sent, nothing bound.
    again = http.post("/api/v1/auth/otp/", {"nik": resident.nik, "phone": "081277770210",
                                            "activation_code": printed.code})
    assert again.status_code == 202
    assert sms_to("+6281277770210") == []
    resident.refresh_from_db()
    assert resident.phone == "+6281277770209"
    # And a resident with a bound phone gets no code on paper.
    assert desk.activation_code_for_paper(office=office_a, resident=resident,
                                          by=desk_a) is None
    assert ActivationCode.objects.count() == 1


# --- The resident admin --------------------------------------------------------------------


def test_the_admin_shows_the_mark_until_ktp_checked(client, office_a, office_b, desk_a, desk_b,
                                                    clock):
    resident = ResidentFactory(domicile_office=office_a)
    change = reverse("admin:registry_resident_change", args=[resident.pk])
    verify = reverse("admin:registry_resident_verify_identity", args=[resident.pk])
    client.force_login(desk_b)
    assert client.get(change).status_code == 404
    assert client.post(verify).status_code == 404
    assert state(resident)[3] is None
    client.force_login(desk_a)
    choose_language(client, "en")
    page = client.get(change).content.decode()
    assert 'id="not-verified"' in page
    assert "Not verified: check the KTP-el" in page
    # Its button's form is not inside the change form (a browser would ignore it).
    assert page.index('id="verify-identity-form"') < page.index('id="resident_form"')
    listing = client.get(reverse("admin:registry_resident_changelist"),
                         {"identity_verified_at__isempty": "1"})
    assert [r.pk for r in listing.context["cl"].result_list] == [resident.pk]
    assert client.post(verify)["Location"] == change
    assert state(resident)[3] == NOW
    assert 'id="not-verified"' not in client.get(change).content.decode()
    listing = client.get(reverse("admin:registry_resident_changelist"),
                         {"identity_verified_at__isempty": "1"})
    assert list(listing.context["cl"].result_list) == []


def test_the_admin_action_marks_the_identity_verified(client, office_a, desk_a, clock):
    residents = [ResidentFactory(domicile_office=office_a) for _ in range(2)]
    client.force_login(desk_a)
    choose_language(client, "en")
    response = client.post(reverse("admin:registry_resident_changelist"), {
        "action": "mark_identity_verified", "_selected_action": [r.pk for r in residents]},
        follow=True)
    assert [str(m) for m in response.context["messages"]] == ["2 resident(s) marked verified."]
    assert [state(r)[3] for r in residents] == [NOW, NOW]


def test_the_admin_binds_a_phone_by_the_code_read_back(client, office_a, desk_a, desk_b,
                                                       walk_in_resident):
    url = reverse("admin:registry_resident_bind_phone", args=[walk_in_resident.pk])
    client.force_login(desk_b)
    assert client.get(url).status_code == 404
    assert client.post(url, {"phone": "081277770211"}).status_code == 404
    assert SimulatedGateway.sent("sms") == []
    client.force_login(desk_a)
    assert 'id="bind-phone-link"' in client.get(
        reverse("admin:registry_resident_change", args=[walk_in_resident.pk])).content.decode()
    choose_language(client, "en")
    sent = client.post(url, {"phone": "081277770211"}, follow=True)
    assert [str(m) for m in sent.context["messages"]] == [
        "A code was sent to +62812*****211. Ask the resident to read it to you."]
    assert 'id="bind-confirm"' in sent.content.decode()
    code = sent_code("+6281277770211")
    client.force_login(desk_b)
    assert client.post(url, {"code": code}).status_code == 404
    assert state(walk_in_resident)[:2] == ("", None)
    client.force_login(desk_a)
    wrong = client.post(url, {"code": f"{(int(code) + 1) % 10**6:06d}"}, follow=True)
    assert "The code is wrong." in [str(m) for m in wrong.context["messages"]]
    assert state(walk_in_resident)[:2] == ("", None)
    bound = client.post(url, {"code": code})
    assert bound["Location"] == reverse("admin:registry_resident_change",
                                        args=[walk_in_resident.pk])
    assert state(walk_in_resident)[:2] == ("+6281277770211", NOW)


def test_a_bound_phone_cannot_be_typed_over_in_the_admin(client, office_a, desk_a, clock):
    resident = ResidentFactory(domicile_office=office_a, phone="+6281277770212",
                               identity_verified_at=NOW)
    client.force_login(desk_a)
    url = reverse("admin:registry_resident_change", args=[resident.pk])
    form = client.get(url).context["adminform"].form
    assert "phone" not in form.fields
    client.post(url, {"name": resident.name, "birth_date": "1990-05-17",
                      "phone": "+6281299999999", "language": "id", "sex": "M"})
    resident.refresh_from_db()
    assert resident.phone == "+6281277770212"


def test_a_resident_added_in_the_admin_is_verified_and_not_bound(client, office_a, desk_a,
                                                                 clock):
    client.force_login(desk_a)
    nik = make_nik(regency="3275", born=date(1970, 1, 2), serial=91)
    client.post(reverse("admin:registry_resident_add"), {
        "nik": nik, "name": "Siti Aminah", "birth_date": "1970-01-02", "sex": "M",
        "phone": "0812 7777 0213", "language": "id", "domicile_office": office_a.pk})
    resident = Resident.objects.get(nik=nik)
    assert (resident.identity_verified_at, resident.identity_verified_by,
            resident.phone, resident.phone_bound_at) == (NOW, desk_a, "+6281277770213", None)
