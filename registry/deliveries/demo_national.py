"""This app's part of the national deployment (registry.demo_national).

NATIONAL_DAY: WAITING cards printed on the previous working days whose holders chose
home delivery, waiting for the office's morning dispatch (deliveries_dispatch_due
assigns them to the couriers on duty once the dispatch time has come on the live
day). Each has its resident (domiciled at the office), its case (card ready), its
print job at the central server (done), its card, hand-over and delivery.
"""

import uuid
from datetime import date, datetime, timedelta

from registry.central.models import Card, CentralJob, CentralJobKind, CentralJobStatus
from registry.central.services.jobs import RECEIPT_ALPHABET
from registry.deliveries.models import Delivery, DeliveryStatus, Handover, HandoverMethod
from registry.demo_history import applications_create, residents_create
from registry.models import Application, ApplicationStatus, Channel, Office, Service
from registry.services.bulk_sql import instance, objects_insert

WAITING = 8


def day(*, office: Office, day: date, moment: datetime, rng) -> dict[str, int]:
    """The NATIONAL_DAY part (module docstring)."""
    services = list(Service.objects.filter(office=office, is_active=True, produces_card=True,
                                           home_delivery=True, holder_in_person=False)
                    .order_by("code"))
    if not services:
        return {}
    opened = moment - timedelta(days=6)
    printed = moment - timedelta(days=2)
    residents = residents_create(office=office, rng=rng, moments=[opened] * WAITING)
    cases = applications_create(office=office, applications=[
        instance(Application, resident=resident, service=rng.choice(services),
                 channel=Channel.WALK_IN, status=ApplicationStatus.READY, created_at=opened,
                 updated_at=printed) for resident in residents])
    jobs = objects_insert([
        instance(CentralJob, office=office, application=case, kind=CentralJobKind.CARD_PRINT,
                 key=uuid.UUID(int=rng.getrandbits(128), version=4),
                 status=CentralJobStatus.DONE, created_at=opened, next_attempt_at=opened,
                 done_at=printed) for case in cases])
    cards = objects_insert([
        instance(Card, office=office, application=case, print_job=job,
                 receipt_code=_receipt_code(rng), printed_at=printed)
        for case, job in zip(cases, jobs, strict=True)])
    handovers = objects_insert([
        instance(Handover, office=office, application=case, card=card,
                 method=HandoverMethod.DELIVERY, chosen_at=opened + timedelta(hours=1),
                 created_at=opened)
        for case, card in zip(cases, cards, strict=True)])
    objects_insert([
        instance(Delivery, office=office, application=case, handover=handover,
                 status=DeliveryStatus.WAITING, waiting_since=printed,
                 address=resident.address, kecamatan=resident.kecamatan,
                 kelurahan=resident.kelurahan, latitude=resident.latitude,
                 longitude=resident.longitude, created_at=opened + timedelta(hours=1))
        for case, handover, resident in zip(cases, handovers, residents, strict=True)])
    return {"registry.Resident": WAITING, "registry.Application": WAITING,
            "central.CentralJob": WAITING, "central.Card": WAITING,
            "deliveries.Handover": WAITING, "deliveries.Delivery": WAITING}


def _receipt_code(rng) -> str:
    raw = "".join(rng.choice(RECEIPT_ALPHABET) for _i in range(8))
    return f"{raw[:4]}-{raw[4:]}"
