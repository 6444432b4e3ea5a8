"""Staff pages of appointments, under /appointments/: assisted booking at the front
desk (for a resident without a phone, found by NIK or registered on the spot), the
printable slip of a booking, and the documents sent ahead awaiting review, with their
files shown only to staff of the booking's office. Views parse and answer; the rules
are in registry.appointments.services."""

from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from registry import desk, printed_codes, tenancy
from registry.appointments import documents as booking_documents
from registry.appointments import selectors
from registry.appointments.forms import (
    AssistedBookingForm,
    FindResidentForm,
    RegisterResidentForm,
    ReviewForm,
)
from registry.appointments.models import (
    ACTIVE_BOOKING_STATUSES,
    Booking,
    BookingChannel,
    BookingDocument,
    Slot,
)
from registry.appointments.services.booking_documents import booking_document_review
from registry.appointments.services.bookings import booking_create
from registry.appointments.services.requirements import requirement_check
from registry.appointments.services.slots import bookable_range
from registry.auth import role_allows
from registry.calendar import office_today
from registry.errors import DomainError
from registry.models import AccessKind, Office, Resident, Service
from registry.nik import NikError, parse_nik
from registry.service_sets import as_service_set
from registry.services.access_log import record_access
from registry.services.residents import resident_register

BOOK = "appointments.add_booking"
VIEW_BOOKING = "appointments.view_booking"
REVIEW = "appointments.change_bookingdocument"
VIEW_DOCUMENT = "appointments.view_bookingdocument"
VIEW_SLOTS = "appointments.view_slot"

# The resident found (or registered) at the desk travels between the steps of the
# assisted booking as a signed token, never as a NIK in the address bar; a token is
# good for one working day at the desk.
RESIDENT_TOKEN_SALT = "appointments.assisted-resident"  # noqa: S105 - a salt, not a secret
RESIDENT_TOKEN_MAX_AGE = 10 * 3600
# Days of free times shown unfolded on the booking step; the rest of the window folds.
OPEN_DAYS = 3


def staff_links(*, office, roles) -> list[tuple[str, str]]:
    """(label, url) pairs for the staff start page, for this user's roles in `office`."""

    def allowed(perm):
        return any(role_allows(role, perm) for role in roles)

    links = []
    suffix = f"?office={office.code}"
    if allowed(BOOK):
        links.append((_("Book for a resident (assisted booking)"),
                      reverse("appointments:assisted") + suffix))
    if allowed(BOOK):
        links.append((_("Phone desk (WhatsApp centre)"),
                      reverse("appointments:phone-desk") + suffix))
    if allowed(REVIEW):
        links.append((_("Documents awaiting review"), reverse("appointments:documents") + suffix))
    if allowed(VIEW_SLOTS):
        links.append((_("Slots of the day"), reverse("admin:appointments_slot_day") + suffix))
    return links


# --- Offices and permissions -------------------------------------------------------






def _not_found_or_message(request, exc: DomainError) -> None:
    if exc.status == 404:
        raise Http404 from exc
    messages.error(request, str(exc.message))


# --- Assisted booking --------------------------------------------------------------


def resident_token(resident: Resident, user) -> str:
    return signing.dumps({"r": resident.pk, "u": user.pk}, salt=RESIDENT_TOKEN_SALT,
                         compress=True)


def _resident_from_token(token: str, user) -> Resident | None:
    try:
        data = signing.loads(token, salt=RESIDENT_TOKEN_SALT, max_age=RESIDENT_TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != user.pk:
        return None
    return Resident.objects.filter(pk=data.get("r")).first()


def resident_of_request(request) -> tuple[str, Resident | None]:
    """The resident token a desk page carries (`r`) and its resident; with a token that
    no longer holds, the resident is None and the desk is told to find them again."""
    token = request.POST.get("r") or request.GET.get("r") or ""
    resident = _resident_from_token(token, request.user) if token else None
    if token and resident is None:
        messages.error(request, _("This page has expired; find the resident by NIK again."))
    return token, resident


def _assisted_url(office: Office, **params) -> str:
    query = {"office": office.code, **{k: v for k, v in params.items() if v}}
    return reverse("appointments:assisted") + "?" + urlencode(query)


def _bookable_services(office: Office) -> list[Service]:
    return list(Service.objects.filter(office=office, is_active=True)
                .select_related("lane").prefetch_related("requirements")
                .order_by("lane__letter", "name"))


def _slot_days(office: Office, service: Service) -> list[dict]:
    slots = selectors.slots_bookable(office=office, service=service).select_related("lane")
    return [{"day": day, "slots": list(rows)} for day, rows in groupby(slots,
                                                                      key=lambda s: s.date)]


@login_required
def assisted_booking(request):
    """Book on a resident's behalf, step by step: find them by NIK (or register them
    from their KTP-el or KK), choose the service, then a free time and the documents
    they have, with their dates of issue. The requirement problems are shown before
    anything is booked; the booking ends on its printable slip."""
    office, offices = tenancy.office_for_request(request, BOOK)
    token, resident = resident_of_request(request)
    if token and resident is None:
        return redirect(_assisted_url(office))
    action = request.POST.get("action", "") if request.method == "POST" else ""
    context = {"office": office, "offices": offices, "resident": resident, "token": token,
               "find_form": FindResidentForm()}

    if action == "find":
        return _assisted_find(request, office, context)
    if action == "register":
        return _assisted_register(request, office, context)
    if resident is None:
        context["step"] = "find"
        return render(request, "appointments/assisted.html", context)

    code = request.POST.get("service") or request.GET.get("service") or ""
    service = Service.objects.select_related("lane").filter(
        office=office, code=code[:32], is_active=True).first() if code else None
    context["active_bookings"] = list(
        Booking.objects.filter(office=office, resident=resident,
                               status__in=ACTIVE_BOOKING_STATUSES)
        .select_related("service", "slot", "slot__lane").order_by("day", "slot__start"))
    if service is None:
        if code:
            messages.error(request, _("Choose a service."))
        context.update(step="service", services=_bookable_services(office))
        return render(request, "appointments/assisted.html", context)

    form = AssistedBookingForm(request.POST if action in ("check", "book") else None,
                               service=service)
    context.update(step="book", service=service, form=form, problems=None)
    if action in ("check", "book") and form.is_valid():
        response = _assisted_check_or_book(request, office, resident, service, form, action,
                                           context)
        if response is not None:
            return response
    chosen = str(form["slot"].value() or "") if form.is_bound else ""
    days = _slot_days(office, service)
    for number, row in enumerate(days):
        # The first days are open; later ones fold away unless the chosen time is there.
        row["open"] = number < OPEN_DAYS or any(str(s.pk) == chosen for s in row["slots"])
    context.update(slot_days=days, chosen_slot=chosen or None)
    return render(request, "appointments/assisted.html", context)


def _assisted_find(request, office, context):
    form = FindResidentForm(request.POST)
    context.update(step="find", find_form=form)
    if not form.is_valid():
        return render(request, "appointments/assisted.html", context)
    try:
        nik = parse_nik(form.cleaned_data["nik"]).nik
    except NikError as exc:
        form.add_error("nik", str(exc.message))
        return render(request, "appointments/assisted.html", context)
    resident = Resident.objects.filter(nik=nik).first()
    if resident is not None:
        return redirect(_assisted_url(office, r=resident_token(resident, request.user)))
    context.update(step="register", register_form=RegisterResidentForm(initial={"nik": nik}))
    messages.info(request, _("This NIK is not registered yet: register the resident from "
                             "their KTP-el or KK. A phone is not needed."))
    return render(request, "appointments/assisted.html", context)


def _assisted_register(request, office, context):
    form = RegisterResidentForm(request.POST)
    context.update(step="register", register_form=form)
    if not form.is_valid():
        return render(request, "appointments/assisted.html", context)
    data = form.cleaned_data
    try:
        nik = parse_nik(data["nik"]).nik
    except NikError as exc:
        form.add_error("nik", str(exc.message))
        return render(request, "appointments/assisted.html", context)
    existing = Resident.objects.filter(nik=nik).first()
    if existing is not None:
        return redirect(_assisted_url(office, r=resident_token(existing, request.user)))
    try:
        resident = resident_register(
            nik=nik, name=data["name"], birth_date=data["birth_date"], sex=data["sex"],
            phone=data["phone"], address=data["address"], kecamatan=data["kecamatan"],
            kelurahan=data["kelurahan"], verified_by=request.user)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return render(request, "appointments/assisted.html", context)
    messages.success(request, _("%(name)s is registered.") % {"name": resident.name})
    return redirect(_assisted_url(office, r=resident_token(resident, request.user)))


def _assisted_check_or_book(request, office, resident, service, form, action, context):
    """Run the requirement check, or book; None to show the page again (with the
    problems or the message), or the redirect to the slip."""
    slot = None
    slot_id = form.cleaned_data.get("slot")
    if slot_id:
        slot = Slot.objects.filter(pk=slot_id, office=office, lane_id=service.lane_id).first()
    if action == "book" and slot is None:
        messages.error(request, _("Choose a time."))
        return None
    documents = form.documents()
    if action == "check":
        visit_date = slot.date if slot else bookable_range(office=office)[0]
        try:
            problems = requirement_check(office=office, service_set=as_service_set(service),
                                         visit_date=visit_date, documents=documents)
        except DomainError as exc:
            _not_found_or_message(request, exc)
            return None
        context["problems"] = problems
        context["checked_for"] = visit_date
        return None
    try:
        booking = booking_create(
            office=office, resident=resident, service=service, slot=slot, documents=documents,
            channel=BookingChannel.ASSISTED, by=request.user)
    except DomainError as exc:
        if exc.code == "requirements_not_met":
            context["problems"] = exc.extra.get("problems", [])
            context["checked_for"] = slot.date
        else:
            _not_found_or_message(request, exc)
        return None
    messages.success(request, _("Booked: %(code)s. Print the slip and give it to the "
                                "resident.") % {"code": booking.code})
    # A resident with no bound phone gets an activation code on the slip, shown once.
    printed = desk.activation_code_for_paper(office=office, resident=resident, by=request.user)
    printed_codes.keep(request, paper=_slip_paper(booking), printed=printed)
    return redirect("appointments:slip", code=booking.code)


# --- The slip ----------------------------------------------------------------------


def _slip_paper(booking: Booking) -> str:
    return f"slip:{booking.code}"


@login_required
def booking_slip(request, code):
    """One printable page (A5, or A4 with ?size=a4) for the resident to carry: the
    booking code and its QR, the date, time and lane, what to bring and the office's
    address. Only staff of the booking's office.

    For a resident with no bound phone, the activation code issued when the slip was
    made is on it, this once (registry.printed_codes); shown again, the page says the
    code is no longer shown and offers the desk a new one."""
    office_ids = [o.id for o in tenancy.offices_with_perm(request.user, VIEW_BOOKING)]
    booking = tenancy.get_for_office_or_404(
        Booking.objects.select_related("office", "resident", "service", "slot", "slot__lane",
                                       "application"),
        office_ids=office_ids, code=str(code)[:12].upper())
    declared = {doc.requirement_id: doc for doc in
                booking.documents.select_related("requirement")}
    requirements = [{"requirement": r, "document": declared.get(r.id)}
                    for r in booking.application.service_set.requirements()]
    may_issue = request.user.has_perm(BOOK, booking)
    response = render(request, "appointments/slip.html", {
        "booking": booking, "office": booking.office, "slot": booking.slot,
        "requirements": requirements, "qr": booking_documents.booking_qr_data_uri(booking.code),
        "paper": "A4" if request.GET.get("size") == "a4" else "A5",
        "printed": printed_codes.take(request, paper=_slip_paper(booking)),
        "needs_code": booking.resident.phone_bound_at is None,
        "new_code_url": reverse("appointments:slip-activation", args=[booking.code])
        if may_issue else "",
        "language": booking.resident.language,
    })
    # The code is on this answer only: no cache keeps it.
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def booking_slip_activation(request, code):
    """The desk prints a new activation code on the slip (the resident lost it, or the
    page was shown again): the earlier codes stop working. Only the front desk of the
    booking's office; everyone else gets 404."""
    office_ids = [o.id for o in tenancy.offices_with_perm(request.user, BOOK)]
    booking = tenancy.get_for_office_or_404(
        Booking.objects.select_related("office", "resident"), office_ids=office_ids,
        code=str(code)[:12].upper())
    try:
        printed = desk.activation_code_for_paper(office=booking.office,
                                                 resident=booking.resident, by=request.user)
    except DomainError as exc:
        _not_found_or_message(request, exc)
    else:
        if printed is None:
            messages.info(request, _("The resident's phone is bound: no activation code "
                                     "is needed."))
        else:
            printed_codes.keep(request, paper=_slip_paper(booking), printed=printed)
            messages.success(request, _("A new activation code is on the slip; codes "
                                        "printed before no longer work."))
    return redirect("appointments:slip", code=booking.code)


# --- Documents sent ahead ----------------------------------------------------------


@login_required
def documents_to_review(request):
    """The documents residents sent ahead for bookings still to come, oldest visit
    first, to accept or reject with a reason before the resident travels."""
    office, offices = tenancy.office_for_request(request, REVIEW)
    rows = list(selectors.documents_awaiting_review(office=office)
                .select_related("booking__slot__lane"))
    return render(request, "appointments/documents.html", {
        "office": office, "offices": offices, "documents": rows, "today": office_today(office),
    })


@login_required
@require_POST
def document_review(request, pk):
    office_ids = [o.id for o in tenancy.offices_with_perm(request.user, REVIEW)]
    if not office_ids:
        raise PermissionDenied
    document = tenancy.get_for_office_or_404(
        BookingDocument.objects.select_related("booking", "requirement", "office"),
        office_ids=office_ids, pk=pk)
    form = ReviewForm(request.POST)
    back = reverse("appointments:documents") + f"?office={document.office.code}"
    if request.POST.get("next", "").startswith("/admin/"):
        back = request.POST["next"]
    if not form.is_valid():
        messages.error(request, _("Choose accept or reject."))
        return redirect(back)
    accept = form.cleaned_data["decision"] == "accept"
    try:
        booking_document_review(document=document, accept=accept,
                                reason=form.cleaned_data["reason"], by=request.user)
    except DomainError as exc:
        _not_found_or_message(request, exc)
    else:
        params = {"document": document.requirement.name, "code": document.booking.code}
        messages.success(request, (
            _("%(document)s of booking %(code)s accepted.") if accept else
            _("%(document)s of booking %(code)s rejected; the resident has been told."))
            % params)
    return redirect(back)


@login_required
def document_file(request, pk):
    """The file a resident sent, for staff of the booking's office who may see its
    documents. Everyone else gets 404, as for any other office's object."""
    document = (BookingDocument.objects.select_related("booking", "requirement")
                .filter(pk=pk).exclude(file="").first())
    if document is None or not request.user.has_perm(VIEW_DOCUMENT, document):
        raise Http404
    try:
        handle = document.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    record_access(request.user, kind=AccessKind.DOCUMENT, residents=[
        document.booking.resident_id], office=document.office_id,
        target=f"{document.booking.code} {document.requirement.code}")
    extension = document.file.name.rsplit(".", 1)[-1]
    response = FileResponse(
        handle, content_type=document.content_type or "application/octet-stream",
        as_attachment=False,
        filename=f"{document.booking.code}-{document.requirement.code}.{extension}")
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
