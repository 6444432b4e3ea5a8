"""What every booking reads of its office and never changes itself, kept per worker
process: the office (with its appointment settings) and its active services with their
lanes and requirements.

Each office's copy is kept under the office's catalogue version, a token in the shared
cache that `catalogue_changed` replaces whenever staff change one of these rows (the
admin, a service or the shell: CATALOGUE_MODELS are followed by their save and delete
signals, as the audit of staff changes already follows them, registry.audit). A
request reads the version once (one cache GET) and uses its process's copy only when
it was loaded under that same version; so a change is seen by the next booking on
every worker. The version is replaced again after the change commits: a worker that
reloaded in between (and read the rows as they were before the commit) has its copy
under the first token, which is then stale too.

When the shared cache cannot be reached there is no version, and the rows are read
from the database each time (the cache is a speed-up, never a dependency).

The objects are shared by the requests of a process: callers read them and never
change or save them.
"""

import uuid
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from registry.appointments.models import AppointmentSettings
from registry.models import Lane, Office, Requirement, Service, ServiceCombination
from registry.selectors import offices_public
from registry.services.offices import office_settings_get

VERSION_KEY = "appointments:catalogue-version:{office_id}"
# Offices by region code: the request names the office by code, the version by id.
_OFFICE_IDS: dict[str, int] = {}
_COPIES: dict[int, "OfficeCatalogue"] = {}
# Rows whose change changes what a booking reads (registry.selectors.offices_public
# and the services' lanes and requirements; combinations are read per visit).
CATALOGUE_MODELS = (Office, AppointmentSettings, Lane, Service, Requirement,
                    ServiceCombination)


@dataclass
class OfficeCatalogue:
    version: str | None
    office: Office
    services: dict[str, Service] = field(default_factory=dict)


def _version(office_id: int) -> str | None:
    """The office's catalogue version, made when there is none yet; None when the
    shared cache cannot be reached."""
    key = VERSION_KEY.format(office_id=office_id)
    version = cache.get(key)
    if version is None:
        made = uuid.uuid4().hex
        version = made if cache.add(key, made, timeout=None) else cache.get(key)
    return version


def _load(*, office: Office, version: str | None) -> OfficeCatalogue:
    office_settings_get(AppointmentSettings, office=office)  # attached to the office
    services = (Service.objects.filter(office=office, is_active=True)
                .select_related("lane").prefetch_related("requirements").order_by())
    copy = OfficeCatalogue(version=version, office=office)
    for service in services:
        service.office = office
        copy.services[service.code] = service
    return copy


def office_catalogue(*, code: str) -> OfficeCatalogue | None:
    """The active office with region code `code` and its active services, from this
    process's copy when it is current; None when there is no such office."""
    code = str(code)[:8]
    office_id = _OFFICE_IDS.get(code)
    version = None
    if office_id is not None:
        version = _version(office_id)
        copy = _COPIES.get(office_id)
        if (version is not None and copy is not None and copy.version == version
                and copy.office.code == code):
            return copy
    office = offices_public().filter(code=code).first()
    if office is None:
        return None
    if office_id != office.id:
        version = _version(office.id)
    copy = _load(office=office, version=version)
    if version is not None:
        _OFFICE_IDS[code] = office.id
        _COPIES[office.id] = copy
    return copy


def catalogue_changed(*, office_id: int) -> None:
    """Every process's copy of the office's catalogue is out of date: now, and again
    when the change commits."""
    key = VERSION_KEY.format(office_id=office_id)

    def bump():
        cache.set(key, uuid.uuid4().hex, timeout=None)

    bump()
    transaction.on_commit(bump)


def _on_change(sender, instance, **kwargs) -> None:
    office_id = instance.pk if sender is Office else getattr(instance, "office_id", None)
    if office_id is not None:
        catalogue_changed(office_id=office_id)


def catalogue_follow() -> None:
    """Follow the changes of CATALOGUE_MODELS (called once, AppConfig.ready)."""
    for model in CATALOGUE_MODELS:
        post_save.connect(_on_change, sender=model, dispatch_uid=f"catalogue-{model.__name__}")
        post_delete.connect(_on_change, sender=model,
                            dispatch_uid=f"catalogue-{model.__name__}-delete")
