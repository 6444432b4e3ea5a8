"""The phone desk, under /appointments/phone/: staff answering a resident who calls the
office's WhatsApp centre. Find them by NIK (the look-up is recorded), see their cases
and active booking, run the pre-check with the documents they have or have lost,
change the services of the active booking, book a lapsed, expired or office-cancelled
case again (assisted channel), and set the kind of phone they have. Every rule is in
the services this page calls."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from registry import tenancy
from registry.appointments import selectors
from registry.appointments.forms import documents_from_post
from registry.appointments.models import ACTIVE_BOOKING_STATUSES, Booking, BookingChannel, Slot
from registry.appointments.services.booking_services import booking_services_change
from registry.appointments.services.bookings import booking_create
from registry.appointments.services.requirements import requirement_check
from registry.appointments.services.slots import bookable_range
from registry.appointments.views import resident_of_request, resident_token
from registry.errors import DomainError
from registry.models import Application, Office, PhoneType, Requirement, Service
from registry.selectors import residents_for_office
from registry.service_sets import service_set_get, service_set_of
from registry.services.residents import resident_find_by_nik, resident_phone_type_set

BOOK = "appointments.add_booking"
# Slots offered for re-booking, the soonest first.
SLOTS_SHOWN = 40


def _url(office: Office, **params) -> str:
    query = {"office": office.code, **{k: v for k, v in params.items() if v}}
    return reverse("appointments:phone-desk") + "?" + urlencode(query, doseq=True)


def _requirements(office: Office) -> list[Requirement]:
    """One row per requirement code of the office's services, for the documents form."""
    rows = {}
    for requirement in (Requirement.objects.filter(office=office, service__is_active=True)
                        .order_by("position", "code")):
        rows.setdefault(requirement.code, requirement)
    return list(rows.values())


@login_required
def phone_desk(request):
    office, offices = tenancy.office_for_request(request, BOOK)
    token, resident = resident_of_request(request)
    if token and resident is None:
        return redirect(_url(office))
    action = request.POST.get("action", "") if request.method == "POST" else ""
    context = {"office": office, "offices": offices, "resident": None}
    status = 200
    if action == "find":
        try:
            found = resident_find_by_nik(office=office, user=request.user,
                                         nik=str(request.POST.get("nik", ""))[:32],
                                         reason=str(_("Phone desk (WhatsApp centre)")))
        except DomainError as exc:
            messages.error(request, str(exc.message))
            return render(request, "appointments/phone_desk.html", context, status=400)
        return redirect(_url(office, r=resident_token(found, request.user)))
    if resident is None:
        return render(request, "appointments/phone_desk.html", context)
    if not residents_for_office(office=office).filter(pk=resident.pk).exists():
        raise Http404
    data = request.POST if action else request.GET
    codes = [str(c)[:32] for c in data.getlist("services")][:8]
    bookings = list(Booking.objects.filter(office=office, resident=resident,
                                           status__in=ACTIVE_BOOKING_STATUSES)
                    .select_related("slot", "slot__lane", "service", "application")
                    .order_by("day"))
    booking = bookings[0] if bookings else None
    context.update(resident=resident, token=token, bookings=bookings, booking=booking,
                   chosen=codes, posted=data, problems=None)
    if action:
        try:
            response = _act(request, office, resident, booking, action, codes, context)
        except DomainError as exc:
            if exc.status == 404:
                raise Http404 from exc
            status = 400
            if exc.code == "requirements_not_met":
                context["problems"] = exc.extra.get("problems", [])
            else:
                messages.error(request, str(exc.message))
        else:
            if response is not None:
                return response
    _fill(context, office, resident, booking, codes)
    return render(request, "appointments/phone_desk.html", context, status=status)


def _act(request, office, resident, booking, action, codes, context):
    """One action of the page; a redirect when it changed something, None to show the
    page again (with the pre-check's problems)."""
    back = _url(office, r=context["token"])
    if action == "phone-type":
        resident_phone_type_set(office=office, resident=resident, by=request.user,
                                phone_type=str(request.POST.get("phone_type", ""))[:16])
        messages.success(request, _("The phone type is saved."))
        return redirect(back)
    service_set = service_set_get(office=office, codes=codes)
    documents = documents_from_post(request.POST, service_set)
    if action == "check":
        visit_date = booking.slot.date if booking else bookable_range(office=office)[0]
        context["problems"] = requirement_check(office=office, service_set=service_set,
                                                visit_date=visit_date, documents=documents)
        context["checked_for"] = visit_date
        return None
    if action == "change":
        if booking is None:
            raise DomainError(_("The resident has no active booking to change."),
                              "booking_required")
        booking_services_change(booking=booking, service_set=service_set, documents=documents,
                                by=request.user)
        messages.success(request, _("Booking %(code)s is now for %(services)s; the resident "
                                    "has been told what to bring.")
                         % {"code": booking.code, "services": service_set.name})
        return redirect(back)
    if action == "rebook":
        slot = Slot.objects.filter(office=office, pk=_int(request.POST.get("slot"))).first()
        if slot is None:
            raise DomainError(_("Choose a time."), "slot_required")
        made = booking_create(office=office, resident=resident, service=service_set, slot=slot,
                              documents=documents, channel=BookingChannel.ASSISTED,
                              by=request.user)
        messages.success(request, _("Booked: %(code)s.") % {"code": made.code})
        return redirect(back)
    raise DomainError(_("Choose an action."), "action_unknown")


def _int(value) -> int:
    try:
        return int(str(value)[:12])
    except (TypeError, ValueError):
        return 0


def _fill(context, office, resident, booking, codes) -> None:
    cases = list(Application.objects.filter(office=office, resident=resident)
                 .select_related("service").prefetch_related("extra_services")
                 .order_by("-created_at")[:10])
    for case in cases:
        case.visit = service_set_of(case)
    if not codes and booking is not None:
        codes = service_set_of(booking.application).codes
        context["chosen"] = codes
    slots = []
    if codes:
        try:
            slots = list(selectors.slots_bookable(
                office=office, service=service_set_get(office=office, codes=codes))
                .select_related("lane")[:SLOTS_SHOWN])
        except DomainError:
            slots = []
    context.update(
        cases=cases, slots=slots, requirements=_requirements(office),
        services=Service.objects.filter(office=office, is_active=True).select_related("lane")
        .order_by("lane__letter", "name"),
        phone_types=PhoneType.choices)
