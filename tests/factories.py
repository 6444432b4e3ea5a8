"""factory_boy factories. Every office-owned factory has an `office` sub-factory, and
children take their office from their parent."""

import itertools
from datetime import date

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from registry.central.services.jobs import application_visit_completed
from registry.models import Application, Channel, Lane, Office, Requirement, Resident, Service
from registry.services.cases import application_open
from registry.services.offices import catalogue_seed, office_create

_nik_serial = itertools.count(1)


def make_nik(*, regency: str = "3275", born: date = date(1990, 5, 17), female: bool = False,
             serial: int | None = None) -> str:
    """A well-formed NIK: region, district 01, date of birth (+40 for women), serial."""
    day = born.day + (40 if female else 0)
    serial = next(_nik_serial) if serial is None else serial
    return f"{regency}01{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"


class OfficeFactory(factory.django.DjangoModelFactory):
    """An office with the default week and the standard catalogue."""

    class Meta:
        model = Office

    code = factory.Sequence(lambda n: f"{3201 + n:04d}")
    name = factory.LazyAttribute(lambda o: f"Disdukcapil {o.code}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        code, name = kwargs.pop("code"), kwargs.pop("name")
        timezone_name = kwargs.pop("timezone", "Asia/Jakarta")
        office = office_create(code=code, name=name, timezone_name=timezone_name,
                               **kwargs)
        catalogue_seed(office=office)
        return office


class LaneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lane
        django_get_or_create = ("office", "letter")

    office = factory.SubFactory(OfficeFactory)
    letter = "D"
    name = "Loket tambahan"


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    office = factory.SubFactory(OfficeFactory)
    code = factory.Sequence(lambda n: f"SVC_{n}")
    name = factory.Sequence(lambda n: f"Layanan {n}")
    lane = factory.LazyAttribute(lambda o: Lane.objects.get(office=o.office, letter="C"))
    steps = ["Verifikasi berkas", "Pencetakan"]


class RequirementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Requirement

    service = factory.SubFactory(ServiceFactory)
    office = factory.LazyAttribute(lambda o: o.service.office)
    code = factory.Sequence(lambda n: f"DOC_{n}")
    name = factory.Sequence(lambda n: f"Dokumen {n}")


class ResidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resident

    class Params:
        female = False

    birth_date = date(1990, 5, 17)
    nik = factory.LazyAttribute(
        lambda o: make_nik(regency=o.domicile_office.code if o.domicile_office else "3275",
                           born=o.birth_date, female=o.female))
    name = factory.Sequence(lambda n: f"Warga {n}")
    sex = factory.LazyAttribute(lambda o: "F" if o.female else "M")
    phone = factory.Sequence(lambda n: f"+6281300{n:06d}")
    # A factory resident with a phone signs in with it: the phone is bound (pass
    # phone_bound_at=None for a number staff typed in, or phone="" for none).
    phone_bound_at = factory.LazyAttribute(lambda o: timezone.now() if o.phone else None)
    domicile_office = factory.SubFactory(OfficeFactory)
    kecamatan = "Bekasi Timur"
    kelurahan = "Margahayu"
    address = factory.Sequence(lambda n: f"Jl. Mawar No. {n}")


class ApplicationFactory(factory.django.DjangoModelFactory):
    """A case file opened through the service, so it has its number and first event."""

    class Meta:
        model = Application

    office = factory.SubFactory(OfficeFactory)
    resident = factory.SubFactory(ResidentFactory,
                                  domicile_office=factory.SelfAttribute("..office"))
    service = factory.LazyAttribute(
        lambda o: Service.objects.get(office=o.office, code="KTP_TTD_FOTO"))
    channel = Channel.APP

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return application_open(**kwargs)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"staff{n}")
    password = factory.django.Password("pass-for-tests-1")


def card_stock_for(office, on_hand: int = 100, alert_below: int = 10):
    """Give an office blank cards (registry.central)."""
    from registry.central.models import CardStock

    stock, _created = CardStock.objects.update_or_create(
        office=office, defaults={"on_hand": on_hand, "alert_below": alert_below})
    return stock


def assigned_delivery(application, courier, day=None):
    """Print `application`'s card, choose home delivery and dispatch it to `courier`
    (registry.central and registry.deliveries, through their services)."""
    from django.db import transaction

    from registry.calendar import office_is_working_day, office_next_working_day, office_today
    from registry.central.services.jobs import central_job_send
    from registry.deliveries.models import Delivery
    from registry.deliveries.services.dispatch import deliveries_dispatch
    from registry.deliveries.services.handovers import handover_choose

    card_stock_for(application.office, on_hand=1000)
    with transaction.atomic():
        application_visit_completed(application=application)
    for job in application.central_jobs.order_by("id"):
        central_job_send(job_id=job.id)
    handover_choose(application=application, method="delivery")
    office = application.office
    if day is None:
        day = office_today(office)
        if not office_is_working_day(office, day):
            day = office_next_working_day(office, day)
    Delivery.objects.filter(application=application).update(courier=None)
    deliveries_dispatch(office=office, day=day)
    delivery = Delivery.objects.get(application=application, status="assigned")
    if delivery.courier_id != courier.id:
        Delivery.objects.filter(pk=delivery.pk).update(courier=courier)
        delivery.refresh_from_db()
    return delivery


def field_delivery_for(world: dict):
    """For tests/api/test_bad_input.py: a delivery of the world's application assigned
    to the world's courier, made once per world."""
    if "field_delivery" not in world:
        from registry.models import Role, StaffMembership

        courier = StaffMembership.objects.filter(office=world["office"],
                                                 role=Role.COURIER).first().user
        world["field_delivery"] = assigned_delivery(world["application"], courier)
    return world["field_delivery"]
