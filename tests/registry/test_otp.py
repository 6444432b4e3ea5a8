"""registry.otp: activation codes, sign-in codes and phone binding, as services."""

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from registry import otp
from registry.errors import DomainError, NotFound, Throttled
from registry.models import ActivationCode, OtpChallenge, OtpPurpose, Resident, Role
from registry.notify.backends import SimulatedGateway
from tests.factories import ResidentFactory, make_nik

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk_a(make_staff, office_a):
    return make_staff(office_a, Role.FRONT_DESK)


def test_an_activation_code_is_shown_once_and_stored_hashed(office_a, desk_a):
    resident = ResidentFactory(domicile_office=office_a, phone="")
    code = otp.activation_code_issue(office=office_a, resident=resident, by=desk_a)
    assert re.fullmatch(r"[ACDEFGHJKLMNPQRTUVWXY34679]{4}-[ACDEFGHJKLMNPQRTUVWXY34679]{4}",
                        code)
    row = ActivationCode.objects.get()
    assert (row.office, row.resident, row.created_by, row.used_at, row.attempts) == (
        office_a, resident, desk_a, None, 0)
    assert row.expires_at - row.created_at == timedelta(days=30)
    salt, digest = row.code_hash.split("$")
    assert (len(salt), len(digest)) == (16, 64)
    assert code.replace("-", "") not in row.code_hash
    assert otp.code_hash_matches(row.code_hash, code.replace("-", ""))


def test_a_new_activation_code_spends_the_older_ones(office_a, desk_a):
    resident = ResidentFactory(domicile_office=office_a, phone="")
    other = ResidentFactory(domicile_office=office_a, phone="")
    otp.activation_code_issue(office=office_a, resident=other, by=desk_a)
    otp.activation_code_issue(office=office_a, resident=resident, by=desk_a)
    otp.activation_code_issue(office=office_a, resident=resident, by=desk_a)
    now = timezone.now()
    live = ActivationCode.objects.filter(expires_at__gt=now)
    assert sorted(live.values_list("resident_id", flat=True)) == sorted([other.id, resident.id])
    assert ActivationCode.objects.filter(resident=resident).count() == 2


def test_staff_of_another_office_cannot_issue_activation_codes(office_a, office_b, make_staff):
    resident = ResidentFactory(domicile_office=office_a, phone="")
    desk_b = make_staff(office_b, Role.FRONT_DESK)
    with pytest.raises(NotFound):
        otp.activation_code_issue(office=office_a, resident=resident, by=desk_b)
    assert not ActivationCode.objects.exists()


# --- Sign-in codes --------------------------------------------------------------------

ADDRESS = "203.0.113.7"


@pytest.fixture
def gateway(settings):
    settings.NOTIFICATION_BACKENDS = {**settings.NOTIFICATION_BACKENDS,
                                      "sms": "registry.notify.backends.SimulatedGateway"}
    settings.OTP_RESEND_INTERVAL = timedelta(seconds=0)


def test_the_code_is_sent_by_a_task_queued_after_commit(resident_a, gateway, mocker,
                                                        django_capture_on_commit_callbacks):
    publish = mocker.patch("registry.tasks.otp_send.apply_async")
    with django_capture_on_commit_callbacks() as callbacks:
        challenge = otp.otp_request(nik=resident_a.nik, phone=resident_a.phone,
                                    address=ADDRESS)
        assert SimulatedGateway.sent("sms") == []  # nothing goes out inside the request
    assert publish.call_count == 0
    for callback in callbacks:
        callback()
    (call,) = publish.call_args_list
    challenge_id, code = call.kwargs["args"]
    assert challenge_id == challenge.id
    assert otp.code_hash_matches(challenge.code_hash, code)
    assert call.kwargs["expires"] == challenge.expires_at
    assert code not in call.kwargs["argsrepr"]
    assert otp.otp_send(challenge_id=challenge.id, code=code) is True
    (message,) = SimulatedGateway.sent("sms")
    assert (message["address"], message["reference"], message["kind"]) == (
        resident_a.phone, f"otp{challenge.id}", "otp")
    assert code in message["body"]


def test_a_challenge_not_to_be_sent_sends_nothing(resident_a, gateway, mocker):
    mocker.patch("registry.tasks.otp_send.apply_async")
    challenge = otp.otp_request(nik=resident_a.nik, phone="+6281299990000", address=ADDRESS)
    assert (challenge.sent, challenge.address) == (False, ADDRESS)
    assert otp.otp_send(challenge_id=challenge.id, code="123456") is False
    live = otp.otp_request(nik=resident_a.nik, phone=resident_a.phone, address=ADDRESS)
    OtpChallenge.objects.filter(id=live.id).update(expires_at=timezone.now())
    assert otp.otp_send(challenge_id=live.id, code="123456") is False  # expired meanwhile
    assert SimulatedGateway.sent("sms") == []


def test_a_gateway_that_is_down_is_retried_by_the_task(resident_a, gateway, settings, mocker):
    from celery.exceptions import Retry

    from registry import tasks

    mocker.patch("registry.tasks.otp_send.apply_async")
    challenge = otp.otp_request(nik=resident_a.nik, phone=resident_a.phone, address=ADDRESS)
    folder = Path(settings.NOTIFY_SIMULATOR_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sms.control.json").write_text('{"fail": "temporary"}')
    retry = mocker.patch.object(tasks.otp_send, "retry", side_effect=Retry())
    with pytest.raises(Retry):
        tasks.otp_send.run(challenge.id, "123456")
    assert retry.call_args.kwargs["countdown"] == 20


def test_a_throttled_request_writes_nothing_and_registers_no_one(office_a, gateway, settings,
                                                                 mocker):
    mocker.patch("registry.tasks.otp_send.apply_async")
    settings.OTP_MAX_PER_WINDOW = 1
    otp.otp_request(nik=make_nik(), phone="+6281277770001", address=ADDRESS)
    nik = make_nik()
    with pytest.raises(Throttled) as refused:
        otp.otp_request(nik=nik, phone="+6281277770001", address=ADDRESS, name="Budi",
                        birth_date=date(1990, 5, 17))
    assert refused.value.code == "otp_throttled"
    assert 3599 <= refused.value.retry_after <= 3601
    assert not Resident.objects.filter(nik=nik).exists()
    assert OtpChallenge.objects.count() == 1


def test_a_birth_date_in_the_future_is_refused_for_every_nik(resident_a, gateway):
    tomorrow = timezone.localdate() + timedelta(days=1)
    for nik in (resident_a.nik, make_nik()):
        with pytest.raises(DomainError) as refused:
            otp.otp_request(nik=nik, phone="+6281277770001", address=ADDRESS, name="X",
                            birth_date=tomorrow)
        assert refused.value.code == "birth_date_future"
    assert not OtpChallenge.objects.exists()
    assert Resident.objects.count() == 1


def _sent_code(mocker):
    publish = mocker.patch("registry.tasks.otp_send.apply_async")

    def code():
        return publish.call_args.kwargs["args"][1]
    return code


def test_a_self_registration_binds_nothing_once_the_nik_was_registered_since(
        office_a, gateway, mocker, django_capture_on_commit_callbacks):
    code = _sent_code(mocker)
    nik = make_nik()
    with django_capture_on_commit_callbacks(execute=True):
        otp.otp_request(nik=nik, phone="+6281277770001", address=ADDRESS, name="Budi",
                        birth_date=date(1990, 5, 17))
    assert not Resident.objects.filter(nik=nik).exists()  # not before the code
    # The desk registered the resident and bound a phone meanwhile: the code is spent.
    resident = ResidentFactory(nik=nik, phone="+6281311110000", phone_bound_at=timezone.now())
    with pytest.raises(DomainError) as refused:
        otp.otp_verify(nik=nik, code=code())
    assert refused.value.code == "otp_expired"
    resident.refresh_from_db()
    assert (resident.phone, resident.token_generation, resident.app_registered_at) == (
        "+6281311110000", 0, None)


def test_an_activation_code_spent_after_the_request_binds_nothing(
        office_a, desk_a, gateway, mocker, django_capture_on_commit_callbacks):
    code = _sent_code(mocker)
    resident = ResidentFactory(domicile_office=office_a, phone="")
    printed = otp.activation_code_issue(office=office_a, resident=resident, by=desk_a)
    with django_capture_on_commit_callbacks(execute=True):
        challenge = otp.otp_request(nik=resident.nik, phone="+6281277770001",
                                    address=ADDRESS, activation_code=printed)
    assert (challenge.sent, challenge.binds_phone) == (True, True)
    assert challenge.activation == ActivationCode.objects.get()
    otp.activation_code_issue(office=office_a, resident=resident, by=desk_a)  # a new slip
    with pytest.raises(DomainError) as refused:
        otp.otp_verify(nik=resident.nik, code=code())
    assert refused.value.code == "otp_expired"
    resident.refresh_from_db()
    assert (resident.phone, resident.phone_bound_at) == ("", None)
    assert OtpChallenge.objects.get().used_at is None


def test_an_activation_code_of_another_resident_does_not_bind(office_a, desk_a, gateway,
                                                               mocker):
    mocker.patch("registry.tasks.otp_send.apply_async")
    owner = ResidentFactory(domicile_office=office_a, phone="")
    target = ResidentFactory(domicile_office=office_a, phone="")
    printed = otp.activation_code_issue(office=office_a, resident=owner, by=desk_a)
    challenge = otp.otp_request(nik=target.nik, phone="+6281277770001", address=ADDRESS,
                                activation_code=printed)
    assert (challenge.sent, challenge.binds_phone, challenge.activation) == (
        False, False, None)
    assert ActivationCode.objects.get().attempts == 0  # the owner's code is not touched


def test_the_desks_own_codes_are_not_verified_by_the_app(office_a, resident_a, gateway):
    # registry.desk's codes are of their own purpose and are read back at the desk.
    code = "123456"
    OtpChallenge.objects.create(
        nik=resident_a.nik, phone="+6281277770001", code_hash=otp.code_hash_new(code),
        purpose=OtpPurpose.DESK_BIND, address="203.0.113.7",
        expires_at=timezone.now() + timedelta(minutes=5), sent=True, binds_phone=True)
    with pytest.raises(DomainError) as refused:
        otp.otp_verify(nik=resident_a.nik, code=code)
    assert refused.value.code == "otp_expired"
    assert Resident.objects.get(pk=resident_a.pk).phone == resident_a.phone


def test_sign_in_records_are_kept_only_as_long_as_needed(office_a, resident_a):
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    now = timezone.now()

    def challenge(age):
        return OtpChallenge.objects.create(
            nik=resident_a.nik, phone=resident_a.phone, code_hash="x$y",
            created_at=now - age, expires_at=now - age + timedelta(minutes=5))

    challenge(timedelta(days=1, minutes=1))
    fresh = challenge(timedelta(hours=23))

    def activation(**times):
        return ActivationCode.objects.create(office=office_a, resident=resident_a,
                                             code_hash="x$y", **times)

    activation(used_at=now - timedelta(days=31), expires_at=now + timedelta(days=1))
    activation(expires_at=now - timedelta(days=31))
    expired_lately = activation(expires_at=now - timedelta(days=29))
    live = activation(expires_at=now + timedelta(days=20))
    OutstandingToken.objects.create(jti="gone", token="", expires_at=now - timedelta(seconds=1))
    OutstandingToken.objects.create(jti="live", token="", expires_at=now + timedelta(hours=1))

    assert otp.sign_in_records_purge(now=now) == 4
    assert list(OtpChallenge.objects.values_list("id", flat=True)) == [fresh.id]
    assert set(ActivationCode.objects.values_list("id", flat=True)) == {expired_lately.id,
                                                                       live.id}
    assert list(OutstandingToken.objects.values_list("jti", flat=True)) == ["live"]
    assert otp.sign_in_records_purge(now=now) == 0  # a second run finds nothing


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_self_registration_code_used_at_once_registers_one_resident(office_a, gateway,
                                                                        mocker):
    from tests.concurrency import race

    code = _sent_code(mocker)
    for _round in range(3):
        nik = make_nik()
        otp.otp_request(nik=nik, phone="+6281277770001", address=ADDRESS, name="Budi",
                        birth_date=date(1990, 5, 17))
        sent = code()
        results, errors = race(lambda _i, nik=nik, sent=sent: otp.otp_verify(nik=nik,
                                                                          code=sent), 6)
        assert len([r for r in results if r is not None]) == 1, errors
        assert sorted({type(e).__name__ for e in errors}) == ["DomainError"]
        assert {e.code for e in errors} == {"otp_expired"}
        registered = Resident.objects.get(nik=nik)
        assert (registered.phone, registered.token_generation) == ("+6281277770001", 0)
