"""Fixtures shared by every test. Two offices everywhere, so every list and detail
test can assert that the other office's data is invisible."""

import os
import shutil
import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connections
from django.utils import translation

from registry.api.auth import tokens_for_resident, tokens_for_staff
from registry.models import DeliveryStatus, NotificationDelivery, PhoneType
from registry.notify.backends import SimulatedGateway
from registry.services.notification_sending import notification_deliver
from registry.services.staff import roles_sync, staff_membership_grant
from tests.factories import ApplicationFactory, OfficeFactory, ResidentFactory, UserFactory
from tests.http import HttpClient

# Hypothesis (under the schema fuzzer) keeps its files in var/, not at the top level.
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY",
                      os.path.join(os.path.dirname(os.path.dirname(__file__)), "var",
                                   "hypothesis"))
STRICT = os.environ.get("EOPEN_REQUIRE_ALL") == "1"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which(
    "chromium-browser")
# Flags for a root user in a sandbox with no network beyond localhost.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]


def _on_postgres() -> bool:
    from django.conf import settings

    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def pytest_collection_modifyitems(config, items):
    """Tests that need PostgreSQL, Redis or Chromium are skipped where those are
    missing (a laptop on embedded defaults); in CI a skip fails the run (see below)."""
    on_postgres = _on_postgres()
    for item in items:
        if item.get_closest_marker("postgres") and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)"))
        if item.get_closest_marker("redis") and not os.environ.get("REDIS_URL"):
            item.add_marker(pytest.mark.skip(reason="needs Redis (set REDIS_URL)"))
        if item.get_closest_marker("browser") and not CHROMIUM:
            item.add_marker(pytest.mark.skip(reason="needs Chromium (apt-get install "
                                                    "chromium)"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI every test must run: a skip (no PostgreSQL, no browser) is a failure."""
    outcome = yield
    report = outcome.get_result()
    if STRICT and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"Skipped in CI, where every test must run: {report.longrepr}"


@pytest.fixture(autouse=True)
def _isolated_files(tmp_path, settings):
    """Uploads and the gateway simulator write to the test's own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.NOTIFY_SIMULATOR_DIR = str(tmp_path / "gateway")
    yield
    shutil.rmtree(tmp_path / "gateway", ignore_errors=True)


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a page asked for in English through
    the test client leaves English active in the thread (LocaleMiddleware activates,
    nothing deactivates after the response)."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    """Each test reads and writes a cache of its own (a key prefix of its own on a
    shared Redis), so no cached answer outlives its test or crosses to a parallel one."""
    caches = {name: {**config, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
              for name, config in settings.CACHES.items()}
    settings.CACHES = caches


# A working Wednesday morning at the test offices (08:00-15:00 WIB, Monday to Friday).
OFFICE_HOURS = datetime(2026, 7, 8, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta"))


@pytest.fixture
def office_hours():
    """The clock, ticking, on a working morning of the test offices: the kiosk gives
    walk-in numbers only in office hours (queues.services.walk_in_limits). A test's own
    time_machine.travel inside moves it as usual."""
    with time_machine.travel(OFFICE_HOURS, tick=True):
        yield


@pytest.fixture
def office_a(db):
    return OfficeFactory(code="3275", name="Disdukcapil Kota Bekasi")


@pytest.fixture
def office_b(db):
    return OfficeFactory(code="3216", name="Disdukcapil Kabupaten Bekasi")


@pytest.fixture
def roles(db):
    return roles_sync()


@pytest.fixture
def make_staff(roles):
    """make_staff(office, role) -> a user holding `role` in `office`."""

    def make(office, role, username=None, **extra):
        user = UserFactory(username=username or f"{office.code}-{role}", **extra)
        staff_membership_grant(user=user, office=office, role=role)
        user.refresh_from_db()
        return user

    return make


@pytest.fixture
def resident_a(office_a):
    return ResidentFactory(domicile_office=office_a, name="Budi Santoso",
                           birth_date=date(1985, 3, 12))


@pytest.fixture
def resident_b(office_b):
    return ResidentFactory(domicile_office=office_b, name="Andi Wijaya",
                           birth_date=date(1990, 11, 20))


@pytest.fixture
def application_a(resident_a, office_a):
    return ApplicationFactory(office=office_a, resident=resident_a)


@pytest.fixture
def application_b(resident_b, office_b):
    return ApplicationFactory(office=office_b, resident=resident_b)


@pytest.fixture
def http(live_server):
    """An API client speaking real HTTP to a live server."""
    client = HttpClient(live_server.url)
    yield client
    client.close()


@pytest.fixture
def browser_page(live_server, monkeypatch):
    """A page of a real headless Chromium, and the live server's URL.

    Playwright's sync API runs an event loop in this thread, so Django's guard against
    ORM calls from async code is lifted for these tests (the test code itself is
    synchronous)."""
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="id-ID")
        page = context.new_page()
        page.set_default_timeout(10_000)
        yield page, live_server.url
        # The test's ORM calls ran while Playwright's loop ran in this thread, so
        # Django (asgiref's Local) gave them a connection of their own; closed here,
        # in that same state, or it outlives the tests and the test database cannot
        # be dropped.
        connections.close_all()
        context.close()
        browser.close()


@pytest.fixture
def as_resident(http):
    """as_resident(resident) -> an HttpClient signed in as that resident."""

    def sign_in(resident):
        return http.with_token(tokens_for_resident(resident)["access"])

    return sign_in


@pytest.fixture
def as_staff(http):
    def sign_in(user):
        return http.with_token(tokens_for_staff(user)["access"])

    return sign_in



@pytest.fixture(autouse=True)
def _isolated_central_simulator(tmp_path, settings):
    """The simulated central server keeps its state in the test's own folder."""
    settings.CENTRAL_SIMULATOR_DIR = str(tmp_path / "central")
    settings.CENTRAL_CLIENT = "registry.central.simulator.SimulatedCentralClient"


@pytest.fixture
def central_sim():
    """The simulated central server: configure(office_code, down=..., latency_ms=...,
    failure_rate=...) and received() to see what it was sent."""
    from registry.central.simulator import SimulatedCentralClient

    return SimulatedCentralClient


@pytest.fixture
def feature_phone(office_a):
    """A resident of office A with a feature phone (SMS only), bound, reading English;
    office A with a WhatsApp centre to call."""
    office_a.whatsapp = "+6281100001111"
    office_a.save(update_fields=["whatsapp"])
    return ResidentFactory(domicile_office=office_a, phone_type=PhoneType.FEATURE_PHONE,
                           phone="+6281377700001", email="", language="en")


@pytest.fixture
def sms_gateway(settings):
    """The simulated SMS gateway on the SMS channel: received(phone) sends what is
    pending (as the worker would) and returns what the phone has received, oldest
    first; reply(...) is SimulatedGateway.reply (a signed POST to the webhook)."""
    settings.NOTIFICATION_BACKENDS = {**settings.NOTIFICATION_BACKENDS,
                                      "sms": "registry.notify.backends.SimulatedGateway"}

    class Gateway:
        reply = staticmethod(SimulatedGateway.reply)

        @staticmethod
        def received(phone):
            for delivery_id in (NotificationDelivery.objects
                                .filter(status=DeliveryStatus.PENDING)
                                .order_by("id").values_list("id", flat=True)):
                notification_deliver(delivery_id=delivery_id)
            return SimulatedGateway.received(phone)

    return Gateway
