"""The retention sweep (registry.services.retention): at a fixed moment, rows just past
each limit in settings.RETENTION are removed and rows just inside it stay."""

from datetime import UTC, datetime, time, timedelta
from io import StringIO

import pytest
import time_machine
from django.contrib import admin
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse

from registry import tasks
from registry.appointments.models import Booking, BookingDocument, BookingStatus, Slot
from registry.deliveries.models import DeliveryAttempt
from registry.models import (
    AccessKind,
    AccessLog,
    AccessLogResident,
    ActivationCode,
    Application,
    ApplicationStatus,
    CaseEvent,
    DeliveryStatus,
    Notification,
    NotificationDelivery,
    OtpChallenge,
    Requirement,
    RetentionRun,
    Role,
)
from registry.services import retention
from tests.factories import ApplicationFactory, ResidentFactory, UserFactory, assigned_delivery

NOW = datetime(2026, 6, 29, 2, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def past(days: int) -> datetime:
    """Just past a limit of `days`: the sweep at NOW removes it."""
    return NOW - timedelta(days=days) - SECOND


def inside(days: int) -> datetime:
    """Just inside a limit of `days`: it stays."""
    return NOW - timedelta(days=days) + SECOND


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def limits(settings):
    # The defaults of the README, whatever the environment says.
    settings.RETENTION = {"documents": 90, "delivery_photos": 365, "otp": 30,
                          "notification_bodies": 365, "access_log": 730}
    return settings.RETENTION


def _closed(application, status, at):
    Application.objects.filter(pk=application.pk).update(status=status, closed_at=at)


def _document(application, requirement, *, with_file=True):
    """A booking of the application with one sent document (its file in storage)."""
    service = application.service
    day = application.created_at.date()
    slot, _made = Slot.objects.get_or_create(
        office=application.office, lane=service.lane, date=day, start=time(8),
        defaults={"end": time(8, 30), "starts_at": datetime.combine(day, time(1), UTC),
                  "ends_at": datetime.combine(day, time(1, 30), UTC), "capacity": 50})
    booking = Booking.objects.create(
        office=application.office, code=f"B{application.pk:07d}", resident=application.resident,
        service=service, application=application, slot=slot, day=day,
        expires_at=slot.ends_at, status=BookingStatus.DONE)
    document = BookingDocument(office=application.office, booking=booking,
                               requirement=requirement, content_type="application/pdf",
                               size=4, review="accepted")
    if with_file:
        document.file.save("upload", ContentFile(b"%PDF"), save=False)
    document.save()
    return document


@pytest.fixture
def world(clock, limits, office_a, office_b, resident_a, resident_b, make_staff):
    """In both offices, each kind of data just past and just inside its limit."""
    requirement = Requirement.objects.filter(service__office=office_a).first()
    rows = {}

    # Documents: 90 days after the application closed.
    due_app = ApplicationFactory(office=office_a, resident=resident_a)
    _closed(due_app, ApplicationStatus.COMPLETED, past(90))
    kept_app = ApplicationFactory(office=office_a, resident=ResidentFactory(
        domicile_office=office_a))
    _closed(kept_app, ApplicationStatus.LAPSED, inside(90))
    open_app = ApplicationFactory(office=office_a, resident=ResidentFactory(
        domicile_office=office_a))
    missing_app = ApplicationFactory(office=office_a, resident=ResidentFactory(
        domicile_office=office_a))
    _closed(missing_app, ApplicationStatus.CANCELLED, past(200))
    rows["doc_due"] = _document(due_app, requirement)
    rows["doc_kept"] = _document(kept_app, requirement)
    rows["doc_open"] = _document(open_app, requirement)
    # Its file is already gone from storage: the sweep still clears the row.
    rows["doc_missing"] = _document(missing_app, requirement)
    default_storage.delete(rows["doc_missing"].file.name)
    rows["doc_none"] = _document(_closed_app_b(office_b, resident_b), Requirement.objects.filter(
        service__office=office_b).first(), with_file=False)

    # Delivery photos: a year after the visit.
    courier = make_staff(office_a, Role.COURIER, username="kurir-ret")
    delivery = assigned_delivery(ApplicationFactory(office=office_a, resident=ResidentFactory(
        domicile_office=office_a)), courier)

    def attempt(number, at, photo=True):
        made = DeliveryAttempt(office=office_a, delivery=delivery, number=number,
                               courier=courier, scheduled_for=at.date(), at=at,
                               outcome="failed", reason="nobody_home")
        if photo:
            made.photo.save("proof.jpg", ContentFile(b"\xff\xd8jpeg"), save=False)
        made.save()
        return made

    rows["photo_due"] = attempt(1, past(365))
    rows["photo_kept"] = attempt(2, inside(365))
    rows["photo_none"] = attempt(3, past(400), photo=False)

    # Sign-in records: 30 days.
    def challenge(created_at):
        return OtpChallenge.objects.create(nik=resident_a.nik, phone=resident_a.phone,
                                           code_hash="x$y", created_at=created_at,
                                           expires_at=created_at + timedelta(minutes=5))

    rows["otp_due"] = challenge(past(30))
    rows["otp_kept"] = challenge(inside(30))

    def activation(office, resident, **times):
        return ActivationCode.objects.create(office=office, resident=resident,
                                             code_hash="x$y", created_at=past(60), **times)

    rows["code_used_due"] = activation(office_a, resident_a, used_at=past(30),
                                       expires_at=NOW + timedelta(days=1))
    rows["code_expired_due"] = activation(office_b, resident_b, expires_at=past(30))
    rows["code_used_kept"] = activation(office_a, resident_a, used_at=inside(30),
                                        expires_at=past(30) + timedelta(days=90))
    rows["code_live"] = activation(office_b, resident_b, expires_at=NOW + timedelta(days=3))

    # Message texts: a year; the message itself stays.
    def message(office, resident, created_at, status=DeliveryStatus.SENT, error=""):
        note = Notification.objects.create(
            office=office, resident=resident, kind="test.told", title="Kartu siap",
            body=f"Halo {resident.name}, kartu Anda siap.", link="/x", created_at=created_at)
        NotificationDelivery.objects.create(office=office, notification=note, channel="sms",
                                            address=resident.phone, status=status,
                                            last_error=error)
        return note

    rows["note_due_a"] = message(office_a, resident_a, past(365), error="refused: Halo ...")
    rows["note_due_b"] = message(office_b, resident_b, past(500))
    rows["note_kept"] = message(office_a, resident_a, inside(365), error="timeout")
    rows["note_pending"] = message(office_b, resident_b, past(365), DeliveryStatus.PENDING)

    # The access log: two years.
    staff = UserFactory(username="ret-viewer")

    def access(at, *residents):
        log = AccessLog.objects.create(at=at, user=staff, office=office_a, role="front_desk",
                                       kind=AccessKind.LIST, target="list",
                                       resident_count=len(residents))
        AccessLogResident.objects.bulk_create(
            AccessLogResident(access=log, resident=resident) for resident in residents)
        return log

    rows["log_due"] = access(past(730), resident_a, resident_b)
    rows["log_kept"] = access(inside(730), resident_a)
    return rows


def _closed_app_b(office_b, resident_b):
    application = ApplicationFactory(office=office_b, resident=resident_b)
    _closed(application, ApplicationStatus.COMPLETED, past(300))
    return application


EXPECTED = {"otp_challenges": 1, "activation_codes": 2, "notification_bodies": 2,
            "access_log": 1, "documents": 2, "delivery_photos": 1}


def _state():
    """Everything the sweep may touch, to compare before and after."""
    return {
        "documents": sorted(BookingDocument.objects.values_list("pk", "file", "file_removed_at")),
        "photos": sorted(DeliveryAttempt.objects.values_list("pk", "photo", "photo_removed_at")),
        "otp": sorted(OtpChallenge.objects.values_list("pk", flat=True)),
        "codes": sorted(ActivationCode.objects.values_list("pk", flat=True)),
        "notes": sorted(Notification.objects.values_list("pk", "body", "title", "created_at")),
        "deliveries": sorted(NotificationDelivery.objects.values_list(
            "pk", "notification_id", "status", "last_error")),
        "access": sorted(AccessLog.objects.values_list("pk", flat=True)),
        "access_residents": sorted(AccessLogResident.objects.values_list("access_id",
                                                                         "resident_id")),
        "events": sorted(CaseEvent.objects.values_list("pk", "kind", "at")),
        "applications": sorted(Application.objects.values_list("pk", "status", "closed_at")),
    }


def test_the_rules_are_the_core_and_the_apps(db):
    assert [rule.name for rule in retention.retention_rules()] == [
        "otp_challenges", "activation_codes", "notification_bodies", "access_log",
        "documents", "delivery_photos"]


def test_the_sweep_removes_exactly_what_is_past_its_limit(world):
    rows = world
    events_before = sorted(CaseEvent.objects.values_list("pk", "kind", "at"))
    applications_before = sorted(Application.objects.values_list("pk", "status", "closed_at"))
    due_files = [rows["doc_due"].file.name, rows["photo_due"].photo.name]
    kept_files = [rows["doc_kept"].file.name, rows["doc_open"].file.name,
                  rows["photo_kept"].photo.name]
    assert all(default_storage.exists(name) for name in due_files + kept_files)

    run = retention.retention_sweep(now=NOW)

    assert run.counts == EXPECTED
    assert (run.dry_run, run.started_at, run.finished_at) == (False, NOW, NOW)
    stored = RetentionRun.objects.get()
    assert (stored.counts, stored.days) == (EXPECTED, {
        "documents": 90, "delivery_photos": 365, "otp": 30, "notification_bodies": 365,
        "access_log": 730})

    # Files: gone from storage, the column cleared and stamped; the rows stay.
    assert not any(default_storage.exists(name) for name in due_files)
    assert all(default_storage.exists(name) for name in kept_files)
    documents = {doc.pk: (doc.file.name, doc.file_removed_at)
                 for doc in BookingDocument.objects.all()}
    assert documents == {
        rows["doc_due"].pk: ("", NOW),
        rows["doc_missing"].pk: ("", NOW),
        rows["doc_kept"].pk: (rows["doc_kept"].file.name, None),
        rows["doc_open"].pk: (rows["doc_open"].file.name, None),
        rows["doc_none"].pk: ("", None),
    }
    photos = {a.pk: (a.photo.name, a.photo_removed_at) for a in DeliveryAttempt.objects.all()}
    assert photos == {
        rows["photo_due"].pk: ("", NOW),
        rows["photo_kept"].pk: (rows["photo_kept"].photo.name, None),
        rows["photo_none"].pk: ("", None),
    }
    # Sign-in records: deleted.
    assert list(OtpChallenge.objects.values_list("pk", flat=True)) == [rows["otp_kept"].pk]
    assert set(ActivationCode.objects.values_list("pk", flat=True)) == {
        rows["code_used_kept"].pk, rows["code_live"].pk}
    # Messages: the text and the provider's error go, the message and its deliveries stay.
    mine = [rows[key].pk for key in ("note_due_a", "note_due_b", "note_kept", "note_pending")]
    notes = dict(Notification.objects.filter(pk__in=mine).values_list("pk", "body"))
    assert notes == {
        rows["note_due_a"].pk: "", rows["note_due_b"].pk: "",
        rows["note_kept"].pk: rows["note_kept"].body,
        rows["note_pending"].pk: rows["note_pending"].body,
    }
    assert set(Notification.objects.filter(pk__in=mine).values_list("title", "kind")) == {
        ("Kartu siap", "test.told")}
    assert dict(NotificationDelivery.objects.filter(notification__in=mine).values_list(
        "notification_id", "last_error")) == {
        rows["note_due_a"].pk: "", rows["note_due_b"].pk: "", rows["note_kept"].pk: "timeout",
        rows["note_pending"].pk: ""}
    # The access log: the old row and its residents.
    assert list(AccessLog.objects.values_list("pk", flat=True)) == [rows["log_kept"].pk]
    assert list(AccessLogResident.objects.values_list("access_id", flat=True)) == [
        rows["log_kept"].pk]
    # Case timelines and applications are kept whole.
    assert sorted(CaseEvent.objects.values_list("pk", "kind", "at")) == events_before
    assert sorted(Application.objects.values_list("pk", "status",
                                                  "closed_at")) == applications_before


def test_a_second_run_removes_nothing(world):
    retention.retention_sweep(now=NOW)
    after_first = _state()

    second = retention.retention_sweep(now=NOW)

    assert second.counts == dict.fromkeys(EXPECTED, 0)
    assert _state() == after_first
    assert RetentionRun.objects.count() == 2


def test_a_dry_run_changes_nothing_and_counts_what_a_run_removes(world):
    before = _state()

    dry = retention.retention_sweep(now=NOW, dry_run=True)

    assert dry.counts == EXPECTED
    assert _state() == before
    assert all(default_storage.exists(name) for name in (world["doc_due"].file.name,
                                                         world["photo_due"].photo.name))
    reports = {r.name: (r.count, r.oldest, r.newest) for r in dry.reports}
    assert reports == {
        "otp_challenges": (1, past(30), past(30)),
        "activation_codes": (2, past(60), past(60)),
        "notification_bodies": (2, past(500), past(365)),
        "access_log": (1, past(730), past(730)),
        "documents": (2, past(200), past(90)),
        "delivery_photos": (1, past(365), past(365)),
    }
    assert list(RetentionRun.objects.values_list("dry_run", "counts")) == [(True, EXPECTED)]

    real = retention.retention_sweep(now=NOW)
    assert real.counts == dry.counts


def test_batches_smaller_than_the_rows_still_finish(world):
    run = retention.retention_sweep(now=NOW, batch_size=1)

    assert run.counts == EXPECTED
    assert retention.retention_sweep(now=NOW, batch_size=1).counts == dict.fromkeys(EXPECTED, 0)


def test_a_run_stops_at_its_cap_and_the_next_run_goes_on(world):
    first = retention.retention_sweep(now=NOW, batch_size=1, max_batches=1)

    assert first.counts == dict.fromkeys(EXPECTED, 1)
    assert retention.retention_sweep(now=NOW, dry_run=True).counts == {
        name: count - 1 for name, count in EXPECTED.items()}
    second = retention.retention_sweep(now=NOW, batch_size=1, max_batches=1)
    assert second.counts == {name: min(count - 1, 1) for name, count in EXPECTED.items()}
    assert retention.retention_sweep(now=NOW).counts == dict.fromkeys(EXPECTED, 0)


def test_the_limits_come_from_settings(world, settings):
    settings.RETENTION = {**settings.RETENTION, "otp": 31, "access_log": 800}

    run = retention.retention_sweep(now=NOW)

    assert (run.counts["otp_challenges"], run.counts["access_log"]) == (0, 0)
    assert run.counts["documents"] == 2
    assert run.days["otp"] == 31


def test_the_task_runs_the_same_sweep(world):
    result = tasks.retention_sweep.apply().get()

    assert result == EXPECTED
    assert list(RetentionRun.objects.values_list("dry_run", "counts")) == [(False, EXPECTED)]


def test_the_command_prints_what_it_would_remove_then_removes_it(world):
    out = StringIO()
    call_command("retention", "--dry-run", stdout=out)
    assert out.getvalue().splitlines() == [
        "Dry run at 2026-06-29 02:00 UTC: nothing is removed.",
        ("otp_challenges: 1 would be removed (older than 30 days; oldest 2026-05-30, "
        "newest 2026-05-30)"),
        ("activation_codes: 2 would be removed (older than 30 days; oldest 2026-04-30, "
        "newest 2026-04-30)"),
        ("notification_bodies: 2 would be removed (older than 365 days; oldest 2025-02-14, "
        "newest 2025-06-29)"),
        ("access_log: 1 would be removed (older than 730 days; oldest 2024-06-29, "
        "newest 2024-06-29)"),
        ("documents: 2 would be removed (older than 90 days; oldest 2025-12-11, "
        "newest 2026-03-31)"),
        ("delivery_photos: 1 would be removed (older than 365 days; oldest 2025-06-29, "
        "newest 2025-06-29)"),
        f"Recorded as retention run {RetentionRun.objects.get().pk}.",
    ]
    assert OtpChallenge.objects.count() == 2

    out = StringIO()
    call_command("retention", stdout=out)
    assert out.getvalue().splitlines() == [
        "otp_challenges: 1 removed (older than 30 days)",
        "activation_codes: 2 removed (older than 30 days)",
        "notification_bodies: 2 removed (older than 365 days)",
        "access_log: 1 removed (older than 730 days)",
        "documents: 2 removed (older than 90 days)",
        "delivery_photos: 1 removed (older than 365 days)",
        f"Recorded as retention run {RetentionRun.objects.latest('id').pk}.",
    ]
    assert OtpChallenge.objects.count() == 1


def test_the_daily_sweep_is_scheduled(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["retention-sweep"]
    assert entry["task"] == tasks.retention_sweep.name == "registry.tasks.retention_sweep"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({19}, {0})


# --- The admin: superusers read the runs; nobody changes them -----------------------------

@pytest.fixture
def run(db):
    return RetentionRun.objects.create(started_at=NOW, finished_at=NOW,
                                       days={"otp": 30}, counts={"otp_challenges": 3})


def test_a_superuser_reads_the_runs_and_cannot_change_them(run, client):
    boss = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(boss)

    listing = client.get(reverse("admin:registry_retentionrun_changelist"))
    assert listing.status_code == 200
    assert [row.pk for row in listing.context["cl"].result_list] == [run.pk]
    assert "otp_challenges: 3" in listing.content.decode()
    detail = client.get(reverse("admin:registry_retentionrun_change", args=[run.pk]))
    assert detail.status_code == 200
    assert not detail.context["has_change_permission"]

    assert client.post(reverse("admin:registry_retentionrun_change", args=[run.pk]),
                       {"counts": "{}"}).status_code == 403
    assert client.post(reverse("admin:registry_retentionrun_delete", args=[run.pk]),
                       {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:registry_retentionrun_add")).status_code == 403
    run.refresh_from_db()
    assert run.counts == {"otp_challenges": 3}
    model_admin = admin.site._registry[RetentionRun]
    assert model_admin.get_actions(listing.wsgi_request) == {}


@pytest.mark.parametrize("role", [Role.OFFICE_ADMIN, Role.SUPERVISOR,
                                  Role.PROVINCIAL_SUPERVISOR])
def test_office_staff_do_not_see_the_runs(run, client, make_staff, office_a, role):
    client.force_login(make_staff(office_a, role, is_staff=True))

    assert client.get(reverse("admin:registry_retentionrun_changelist")).status_code == 403
    assert client.get(reverse("admin:registry_retentionrun_change",
                              args=[run.pk])).status_code == 403
    index = client.get(reverse("admin:index"))
    assert "retentionrun" not in index.content.decode()


def test_staff_read_that_a_file_was_removed_by_the_retention_period(world):
    from registry.appointments.admin import _file_link
    from registry.deliveries.admin import DeliveryAttemptInline
    from registry.deliveries.models import Delivery

    retention.retention_sweep(now=NOW)

    removed = BookingDocument.objects.get(pk=world["doc_due"].pk)
    never_sent = BookingDocument.objects.get(pk=world["doc_none"].pk)
    assert _file_link(removed) == "dihapus pada 29 Juni 2026 (masa simpan berakhir)"
    assert _file_link(never_sent) == "-"
    inline = DeliveryAttemptInline(Delivery, admin.site)
    photo = DeliveryAttempt.objects.get(pk=world["photo_due"].pk)
    assert inline.photo_link(photo) == "dihapus pada 29 Juni 2026 (masa simpan berakhir)"
    assert inline.photo_link(DeliveryAttempt.objects.get(pk=world["photo_none"].pk)) == "-"
