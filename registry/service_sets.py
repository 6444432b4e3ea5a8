"""Several services done in one visit: a lost card and a signature change, a change of
data and a new photo. One booking, one ticket, one central job, one printed card.

A `ServiceSet` is what the rest of the system asks about such a visit: its lane (the
office's ServiceCombination, else the first service's), its minutes (the combination's,
else the sum), its requirements (the union; a document a service in the set replaces
when lost is not asked for), and how its card may be handed over (delivered or given
to a proxy only when every card-producing service allows it).
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from registry.errors import DomainError, NotFound
from registry.models import Application, Lane, Office, Requirement, Service, ServiceCombination

# More than this in one visit is not one visit any more.
MAX_SERVICES = 4


def combination_key(codes) -> str:
    return "+".join(sorted(codes))


@dataclass(frozen=True)
class ServiceSet:
    services: tuple[Service, ...]
    combination: ServiceCombination | None = None

    @property
    def primary(self) -> Service:
        return self.services[0]

    @property
    def extra(self) -> tuple[Service, ...]:
        return self.services[1:]

    @property
    def codes(self) -> list[str]:
        return [service.code for service in self.services]

    @property
    def ids(self) -> set[int]:
        return {service.id for service in self.services}

    @property
    def name(self) -> str:
        return " + ".join(service.name for service in self.services)

    @property
    def lane(self) -> Lane:
        if self.combination is not None and self.combination.lane_id:
            return self.combination.lane
        return self.primary.lane

    @property
    def lane_id(self) -> int:
        return self.lane.id

    @property
    def estimated_minutes(self) -> int:
        if self.combination is not None and self.combination.estimated_minutes:
            return self.combination.estimated_minutes
        return sum(service.estimated_minutes for service in self.services)

    @property
    def produces_card(self) -> bool:
        return any(service.produces_card for service in self.services)

    @property
    def needs_central(self) -> bool:
        return any(service.needs_central for service in self.services)

    @property
    def holder_in_person(self) -> bool:
        return any(service.holder_in_person for service in self.services)

    @property
    def home_delivery(self) -> bool:
        cards = [service for service in self.services if service.produces_card]
        return bool(cards) and all(service.home_delivery for service in cards)

    def requirements(self) -> list[Requirement]:
        """The union of the services' requirements by code, in the services' order; a
        document replaced by a service of the set when lost (the old KTP-el beside
        KTP-el hilang) is not asked for."""
        seen, union = set(), []
        for service in self.services:
            for requirement in _requirements_of(service):
                if requirement.code in seen or requirement.lost_instead_id in self.ids:
                    continue
                seen.add(requirement.code)
                union.append(requirement)
        return union

    def replaced_codes(self) -> set[str]:
        """Requirement codes not asked for because a service of the set replaces them."""
        return {requirement.code for service in self.services
                for requirement in _requirements_of(service)
                if requirement.lost_instead_id in self.ids}


def _requirements_of(service: Service) -> list[Requirement]:
    # Prefetched by the callers that read many (prefetch_related("requirements")).
    return list(service.requirements.all())


def _combination_for(office_id: int, codes) -> ServiceCombination | None:
    if len(codes) < 2:
        return None
    return (ServiceCombination.objects.select_related("lane")
            .filter(office_id=office_id, key=combination_key(codes)).first())


def service_set_get(*, office: Office, codes: list[str], active_only: bool = True
                    ) -> ServiceSet:
    """The office's services with these codes, in this order, as one visit. Refuses
    unknown or inactive codes (NotFound, as one unknown service), repeats and more
    than MAX_SERVICES (400)."""
    codes = [str(code).strip().upper()[:32] for code in codes]
    if not codes:
        raise DomainError(_("Choose at least one service."), "service_required")
    if len(codes) > MAX_SERVICES:
        raise DomainError(_("At most %(count)s services can be done in one visit.")
                          % {"count": MAX_SERVICES}, "too_many_services")
    if len(set(codes)) != len(codes):
        raise DomainError(_("A service is listed twice."), "service_repeated")
    found = Service.objects.select_related("lane").prefetch_related(
        "requirements").filter(office=office, code__in=codes)
    if active_only:
        found = found.filter(is_active=True)
    by_code = {service.code: service for service in found}
    missing = [code for code in codes if code not in by_code]
    if missing:
        raise NotFound(_("This service is not offered by this office."), "service_not_found")
    return ServiceSet(tuple(by_code[code] for code in codes),
                      _combination_for(office.id, codes))


def requested_codes(service: str | None, services: list[str] | None) -> list[str]:
    """The codes of a request with `service` and/or `services` (the API's two fields):
    `service` first, then the others of `services` in their order. `services` may name
    `service` again; a code twice in `services` is refused."""
    services = list(services or [])
    if len(set(services)) != len(services):
        raise DomainError(_("A service is listed twice."), "service_repeated")
    codes = [service] if service else []
    for code in services or []:
        if code not in codes:
            codes.append(code)
    return codes


def service_set_of(application: Application, *, primary: Service | None = None
                   ) -> ServiceSet:
    """The visit of a case: its first service and its extra services. `primary` is the
    case's first service when the caller holds it already (a booking's `service`,
    prefetched with its requirements)."""
    extra = sorted(application.extra_services.all(), key=lambda service: service.code)
    services = (primary or application.service, *extra)
    return ServiceSet(services, _combination_for(application.office_id,
                                                 [s.code for s in services]))


def application_services_set(application: Application, service_set: ServiceSet) -> None:
    """Make the case carry exactly this set of services (no event: the caller records
    why it changed)."""
    if application.service_id != service_set.primary.id:
        application.service = service_set.primary
        application.save(update_fields=["service", "updated_at"])
    application.extra_services.set(service_set.extra)


def as_service_set(service: Service | ServiceSet) -> ServiceSet:
    """A single service as a visit of one service; a set as it is."""
    if isinstance(service, ServiceSet):
        return service
    return ServiceSet((service,))
