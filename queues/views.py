"""Pages of the queues: the walk-in kiosk and the front desk's check-in (front-desk
accounts: a kiosk device is signed in as one), the counter workstation (counter
operators), and the public display board. Views parse and answer; the rules are in
queues.services."""

import uuid
from datetime import date

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from queues import estimates, policy, selectors, speech
from queues.models import (
    ACTIVE_STATUSES,
    OUT_OF_ORDER_REASONS,
    Band,
    CallReason,
    Counter,
    CounterLane,
    CounterState,
    NotServedReason,
    Outcome,
    Priority,
    Ticket,
    TicketStatus,
)
from queues.services.calling import (
    ticket_call,
    ticket_call_next,
    ticket_finish,
    ticket_no_show,
    ticket_recall,
    ticket_start,
    ticket_transfer,
)
from queues.services.counters import (
    counter_close,
    counter_open,
    counter_pause,
    pause_reasons_ensure,
)
from queues.services.issuing import ticket_check_in, ticket_identify, ticket_issue_walk_in
from queues.services.walk_in_limits import walk_in_refusals
from queues.serving_views import SERVING_ACTIONS, serving_action, serving_context
from registry import desk, printed_codes, tenancy
from registry.calendar import office_today
from registry.errors import DomainError
from registry.models import AccessKind, Lane, Office, Resident, Role, Service
from registry.nik import NikError, parse_nik
from registry.privacy import mask_phone
from registry.services.access_log import record_access
from registry.services.residents import resident_register

ISSUE = "queues.issue_ticket"
OPERATE = "queues.operate_counter"
STATISTICS = "queues.view_queue_statistics"
# Tickets listed beside the counter's own, per lane.
WAITING_LISTED = 12


def staff_links(*, office, roles) -> list[tuple[str, str]]:
    """(label, url) pairs for the staff start page, for this user's roles in `office`."""
    links = []
    suffix = f"?office={office.code}"
    if roles & {Role.FRONT_DESK, Role.SUPERVISOR, Role.OFFICE_ADMIN}:
        links.append((_("Ticket kiosk"), reverse("queues:kiosk") + suffix))
        links.append((_("Booking check-in"), reverse("queues:check-in") + suffix))
    if roles & {Role.COUNTER_OPERATOR, Role.SUPERVISOR}:
        links.append((_("Counter workstation"), reverse("queues:counters") + suffix))
    if roles & {Role.SUPERVISOR, Role.OFFICE_ADMIN, Role.PUBLIC_RELATIONS,
                Role.PROVINCIAL_SUPERVISOR}:
        links.append((_("Queue statistics"),
                      reverse("admin:queues_ticket_statistics") + suffix))
    if roles:
        links.append((_("Display board"), reverse("queues:board", args=[office.code])))
    return links


# --- Offices and permissions -------------------------------------------------------






def _error(request, exc: DomainError) -> None:
    if exc.status == 404:
        raise Http404 from exc
    messages.error(request, str(exc.message))


# --- The kiosk ---------------------------------------------------------------------


class WalkInForm(forms.Form):
    service = forms.CharField(max_length=32)
    priority = forms.ChoiceField(choices=[("", ""), *Priority.choices], required=False)
    issue_key = forms.CharField(max_length=64, required=False)


def _lane_outlook(office: Office) -> dict[int, dict]:
    """Per lane: how many wait, the estimated minutes for a number taken now, and why
    the lane takes no walk-in now (or None), read with one queue state."""
    state = selectors.queue_state(office=office)
    estimate = selectors.queue_estimates(state)
    refusals = walk_in_refusals(office=office, lanes=state.lanes, now=state.now,
                                state=state)
    return {lane.id: {"waiting": len(state.waiting.get(lane.id, [])),
                      "minutes": estimates.to_minutes(estimate.new_ticket.get(lane.id)),
                      "refusal": refusals.get(lane.id)}
            for lane in state.lanes}


@login_required
def kiosk(request):
    """The walk-in kiosk: choose the service, optionally a priority category, take a
    number; or check in a booking by its code or QR (queues:check-in). A kiosk device is
    signed in with a front-desk account of its office."""
    office, offices = tenancy.office_for_request(request, ISSUE)
    if request.method == "POST":
        form = WalkInForm(request.POST)
        if form.is_valid():
            service = Service.objects.select_related("lane").filter(
                office=office, code=form.cleaned_data["service"], is_active=True).first()
            if service is None:
                messages.error(request, _("Choose a service."))
            else:
                try:
                    ticket = ticket_issue_walk_in(
                        office=office, service=service,
                        priority=form.cleaned_data["priority"], by=request.user,
                        issue_key=form.cleaned_data["issue_key"] or None)
                except DomainError as exc:
                    _error(request, exc)
                else:
                    return redirect("queues:kiosk-ticket", pk=ticket.pk)
        else:
            messages.error(request, _("Choose a service."))
        return redirect(reverse("queues:kiosk") + f"?office={office.code}")
    return _kiosk_page(request, office, offices)


def _kiosk_page(request, office: Office, offices: list[Office], status: int = 200):
    outlook = _lane_outlook(office)
    services_of: dict[int, list[Service]] = {}
    for service in Service.objects.filter(office=office, is_active=True).order_by("name"):
        services_of.setdefault(service.lane_id, []).append(service)
    lanes = []
    for lane in Lane.objects.filter(office=office, is_active=True).order_by("letter"):
        lane_services = services_of.get(lane.id)
        if lane_services:
            lanes.append({"lane": lane, "services": lane_services, "refusal": None,
                          **outlook.get(lane.id, {})})
    refusals = [row["refusal"] for row in lanes if row["refusal"] is not None]
    # Closed for the whole office (the day, the hours, the cut-off): said once on top.
    office_refusal = refusals[0] if refusals and refusals[0].office_wide else None
    return render(request, "queues/kiosk.html", {
        "office": office, "offices": offices, "lanes": lanes,
        "office_refusal": office_refusal,
        "any_open": len(refusals) < len(lanes),
        "priorities": Priority.choices, "issue_key": uuid.uuid4().hex,
        "checkin_enabled": True,
    }, status=status)


# --- Booking check-in (front desk and kiosk) ----------------------------------------


class CheckInForm(forms.Form):
    # What the QR scanner types is taken as it comes; the code is found in it.
    code = forms.CharField(max_length=200)
    priority = forms.ChoiceField(choices=[("", ""), *Priority.choices], required=False)
    from_kiosk = forms.BooleanField(required=False)


@login_required
def check_in(request):
    """The front desk's check-in: a booking's code typed or its QR scanned gives the
    resident's ticket (queues.services.ticket_check_in); today's bookings of the office
    are listed below with their tickets. The kiosk's check-in form posts here too.

    A refused check-in shows the page again with the reason, answered with the error's
    status (404 for a code unknown at this office)."""
    office, offices = tenancy.office_for_request(request, ISSUE)
    status = 200
    from_kiosk = request.POST.get("from_kiosk") == "1"
    if request.method == "POST":
        form = CheckInForm(request.POST)
        if form.is_valid():
            try:
                ticket = ticket_check_in(
                    office=office, booking_code=form.cleaned_data["code"], by=request.user,
                    priority=form.cleaned_data["priority"])
            except DomainError as exc:
                messages.error(request, str(exc.message))
                status = exc.status
            else:
                url = reverse("queues:kiosk-ticket", args=[ticket.pk])
                if from_kiosk:
                    return redirect(url)
                # Staff hand this ticket over: for a resident with no bound phone it
                # carries an activation code, shown once. Never at the unattended kiosk.
                if _keep_code(request, ticket, office, ticket.resident):
                    messages.success(request, _(
                        "An activation code is on the ticket, shown this once; codes "
                        "printed before no longer work."))
                return redirect(f"{url}?back=check-in")
        else:
            messages.error(request, _("Type the booking code or scan its QR code."))
            status = 400
        if from_kiosk:
            return _kiosk_page(request, office, offices, status=status)
    return render(request, "queues/check_in.html", {
        "office": office, "offices": offices, "priorities": Priority.choices,
        "bookings": selectors.bookings_today(office=office),
    }, status=status)


def _ticket_paper(ticket: Ticket) -> str:
    return f"ticket:{ticket.pk}"


def _keep_code(request, ticket: Ticket, office: Office, resident: Resident | None) -> bool:
    """Issue the activation code of the paper for `ticket` and keep it for its page;
    False when the resident has a bound phone (no code)."""
    if resident is None:
        return False
    printed = desk.activation_code_for_paper(office=office, resident=resident, by=request.user)
    printed_codes.keep(request, paper=_ticket_paper(ticket), printed=printed)
    return printed is not None


@login_required
@require_POST
def check_in_verify(request, pk):
    """The front desk checked the KTP-el of a self-registered resident with a booking
    today: the "not verified" mark goes (registry.desk.resident_identity_verify)."""
    office, _offices = tenancy.office_for_request(request, ISSUE)
    try:
        resident = desk.resident_get_for_office(office=office, pk=pk)
        desk.resident_identity_verify(office=office, resident=resident, by=request.user)
    except DomainError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("%(name)s: KTP-el checked.") % {"name": resident.name})
    return redirect(reverse("queues:check-in") + f"?office={office.code}")


@login_required
@require_POST
def kiosk_ticket_activation(request, pk):
    """The front desk prints a new activation code on a checked-in ticket (the page was
    shown again): the earlier codes stop working. Staff of the ticket's office only."""
    office_ids = [o.id for o in tenancy.offices_with_perm(request.user, ISSUE)]
    ticket = tenancy.get_for_office_or_404(
        Ticket.objects.select_related("office", "resident"), office_ids=office_ids, pk=pk,
        resident__isnull=False)
    try:
        issued = _keep_code(request, ticket, ticket.office, ticket.resident)
    except DomainError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("A new activation code is on the ticket; codes printed "
                                    "before no longer work.") if issued else
                         _("The resident's phone is bound: no activation code is needed."))
    return redirect(reverse("queues:kiosk-ticket", args=[ticket.pk]) + "?back=check-in")


@login_required
def kiosk_ticket(request, pk):
    """The ticket just taken, to print or to photograph. Checked in at the front desk
    for a resident with no bound phone, it carries the activation code issued then, this
    once (registry.printed_codes)."""
    office_ids = [o.id for o in tenancy.offices_with_perm(request.user, ISSUE)]
    ticket = tenancy.get_for_office_or_404(
        Ticket.objects.select_related("office", "lane", "service", "booking__slot",
                                      "resident"),
        office_ids=office_ids, pk=pk)
    state = selectors.queue_state(office=ticket.office)
    estimate = selectors.queue_estimates(state)
    position = selectors.ticket_position(state, ticket)
    back = reverse("queues:kiosk")
    at_desk = request.GET.get("back") == "check-in"
    if at_desk:
        back = reverse("queues:check-in")
    response = render(request, "queues/kiosk_ticket.html", {
        "ticket": ticket, "office": ticket.office,
        "ahead": None if position is None else max(position - 1, 0),
        "minutes": estimates.to_minutes(estimate.tickets.get(ticket.pk)),
        # A wide range is printed instead of the single figure ("about 20-35 min").
        "minutes_range": selectors.wait_range_shown(estimate, ticket.pk),
        "booking_on_time": ticket.band == Band.BOOKING_ON_TIME,
        "back": f"{back}?office={ticket.office.code}",
        "printed": printed_codes.take(request, paper=_ticket_paper(ticket)),
        # The kiosk's own screen never offers a code: nobody there has seen the resident.
        "needs_code": at_desk and ticket.resident is not None
        and ticket.resident.phone_bound_at is None,
        "new_code_url": reverse("queues:kiosk-ticket-activation", args=[ticket.pk]),
        "language": ticket.resident.language if ticket.resident else "id",
    })
    response["Cache-Control"] = "private, no-store"
    return response


# --- The counter workstation -------------------------------------------------------


def _counter_or_404(request, pk) -> Counter:
    office_ids = [o.id for o in tenancy.offices_with_perm(request.user, OPERATE)]
    if not office_ids:
        raise PermissionDenied
    return tenancy.get_for_office_or_404(
        Counter.objects.select_related("office", "operator"), office_ids=office_ids, pk=pk,
        is_active=True)


@login_required
def counters(request):
    """Choose the counter to work at."""
    office, offices = tenancy.office_for_request(request, OPERATE)
    rows = list(Counter.objects.filter(office=office, is_active=True)
                .select_related("operator").order_by("number"))
    lanes = {}
    for row in CounterLane.objects.filter(office=office).select_related("lane").order_by(
            "counter_id", "position"):
        lanes.setdefault(row.counter_id, []).append(row.lane)
    for counter in rows:
        counter.lane_list = lanes.get(counter.pk, [])
    return render(request, "queues/counters.html", {"office": office, "offices": offices,
                                                    "counters": rows})


@login_required
def counter_page(request, pk):
    """The operator's workstation: the ticket at the counter, its history, the waiting
    tickets of the counter's lanes, and every action."""
    counter = _counter_or_404(request, pk)
    office = counter.office
    day = office_today(office)
    lane_order = list(CounterLane.objects.filter(counter=counter).select_related("lane")
                      .order_by("position"))
    lanes = [row.lane for row in lane_order]
    current = (Ticket.objects.filter(counter=counter, status__in=ACTIVE_STATUSES)
               .select_related("lane", "service", "resident", "application",
                               "transferred_from", "booking").first())
    history = []
    if current is not None:
        history = list(current.events.select_related("lane", "counter", "to_lane", "actor")
                       .order_by("at", "id"))
    waiting = {lane.id: [] for lane in lanes}
    for ticket in (Ticket.objects.filter(office=office, day=day, status=TicketStatus.WAITING,
                                         lane__in=lanes)
                   .select_related("lane", "service")
                   .order_by("lane_id", *policy.lane_order(timezone.now()))):
        waiting[ticket.lane_id].append(ticket)
    missed = list(Ticket.objects.filter(office=office, day=day, status=TicketStatus.NO_SHOW,
                                        closed_at__isnull=True, lane__in=lanes)
                  .select_related("lane").order_by("called_at", "id"))
    other_lanes = Lane.objects.filter(office=office, is_active=True).order_by("letter")
    if current is not None:
        other_lanes = other_lanes.exclude(pk=current.lane_id)
    resident = current.resident if current is not None else None
    if resident is not None:
        record_access(request.user, kind=AccessKind.COUNTER, residents=[resident],
                      office=office, target=current.code)
    return render(request, "queues/counter.html", {
        **serving_context(current),
        "resident_desk": _resident_desk(office, resident) if resident else None,
        "counter": counter, "office": office, "lanes": lanes,
        "lane_columns": [{"lane": lane, "tickets": waiting[lane.id][:WAITING_LISTED],
                          "count": len(waiting[lane.id])} for lane in lanes],
        "current": current, "history": history, "missed": missed,
        "other_lanes": list(other_lanes), "now": day,
        "out_of_order_reasons": [(r.value, r.label) for r in OUT_OF_ORDER_REASONS],
        "outcomes": [(Outcome.SERVED, Outcome.SERVED.label),
                     (Outcome.PARTLY_SERVED, Outcome.PARTLY_SERVED.label),
                     (Outcome.NOT_SERVED, Outcome.NOT_SERVED.label)],
        "not_served_reasons": NotServedReason.choices,
        "bands": dict(Band.choices), "call_reasons": dict(CallReason.choices),
        "states": CounterState,
        "pause_reasons": pause_reasons_ensure(office),
        "state_elapsed": _elapsed_text(timezone.now() - counter.state_since),
    })


def _elapsed_text(elapsed) -> str:
    """minutes:seconds (hours:minutes:seconds past an hour), as the page's timer shows."""
    seconds = max(0, int(elapsed.total_seconds()))
    hours, minutes = divmod(seconds // 60, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds % 60:02d}"
    return f"{minutes}:{seconds % 60:02d}"


def _resident_desk(office: Office, resident: Resident) -> dict:
    """What the counter shows of the identified resident's identity and phone."""
    pending = desk.resident_phone_bind_pending(office=office, resident=resident)
    return {
        "verified": resident.identity_verified_at is not None,
        "phone_bound": resident.phone_bound_at is not None,
        "masked_phone": mask_phone(resident.phone) if resident.phone_bound_at else "",
        "pending": pending, "pending_phone": mask_phone(pending.phone) if pending else "",
    }


class ActionForm(forms.Form):
    ticket = forms.IntegerField(required=False, min_value=1)
    phone = forms.CharField(max_length=32, required=False)
    code = forms.CharField(max_length=16, required=False)
    reason = forms.CharField(max_length=40, required=False)
    outcome = forms.CharField(max_length=20, required=False)
    note = forms.CharField(max_length=300, required=False)
    lane = forms.CharField(max_length=1, required=False)
    nik = forms.CharField(max_length=32, required=False)
    name = forms.CharField(max_length=120, required=False)
    birth_date = forms.DateField(required=False)


def _identify(counter: Counter, data: dict, by) -> str:
    nik = (data.get("nik") or "").strip()
    try:
        nik = parse_nik(nik).nik
    except NikError as exc:
        raise DomainError(exc.message, exc.code) from exc
    with transaction.atomic():
        resident = Resident.objects.filter(nik=nik).first()
        if resident is None:
            if not data.get("name") or not data.get("birth_date"):
                raise DomainError(_("This NIK is not registered yet: also enter the name and "
                                    "birth date from the KTP or KK."), "registration_required")
            # Registered by the operator from the card in front of them: verified.
            resident = resident_register(
                nik=nik, name=data["name"], birth_date=data["birth_date"],
                domicile_office=None, verified_by=by)
        ticket = ticket_identify(counter=counter, resident=resident, by=by,
                                 ticket_id=data.get("ticket"))
    return _("Ticket %(code)s: %(name)s, case %(number)s.") % {
        "code": ticket.code, "name": resident.name, "number": ticket.application.number}


def _identified_resident(counter: Counter, ticket_id: int | None) -> tuple[Ticket, Resident]:
    """The resident of the ticket at this counter, once identified."""
    ticket = (Ticket.objects.select_related("resident")
              .filter(counter=counter, status__in=ACTIVE_STATUSES, resident__isnull=False,
                      **({"pk": ticket_id} if ticket_id else {})).first())
    if ticket is None:
        raise DomainError(_("Identify the resident first."), "resident_required")
    return ticket, ticket.resident


def _resident_action(counter: Counter, action: str, data: dict, by) -> str:
    """The desk's identity work on the resident at the counter (registry.desk)."""
    _ticket, resident = _identified_resident(counter, data.get("ticket"))
    office = counter.office
    if action == "verify-identity":
        desk.resident_identity_verify(office=office, resident=resident, by=by)
        return _("%(name)s: KTP-el checked.") % {"name": resident.name}
    if action == "bind-phone":
        challenge = desk.resident_phone_bind_start(office=office, resident=resident,
                                                   phone=data.get("phone", ""), by=by)
        return _("A code was sent to %(phone)s. Ask the resident to read it to you.") % {
            "phone": mask_phone(challenge.phone)}
    desk.resident_phone_bind_confirm(office=office, resident=resident,
                                     code=data.get("code", ""), by=by)
    return _("%(name)s's phone is bound.") % {"name": resident.name}


RESIDENT_ACTIONS = ("verify-identity", "bind-phone", "bind-phone-confirm")


def _run_action(counter: Counter, action: str, data: dict, by) -> str:
    ticket_id = data.get("ticket")
    if action in RESIDENT_ACTIONS:
        return _resident_action(counter, action, data, by)
    if action == "open":
        counter_open(counter=counter, by=by)
        return _("%(counter)s is open.") % {"counter": counter.name}
    if action == "pause":
        counter_pause(counter=counter, by=by, reason=str(data.get("reason", ""))[:20],
                      note=str(data.get("note", ""))[:120])
        return _("%(counter)s is paused.") % {"counter": counter.name}
    if action == "close":
        counter_close(counter=counter, by=by)
        return _("%(counter)s is closed.") % {"counter": counter.name}
    if action == "call-next":
        ticket = ticket_call_next(counter=counter, by=by)
        if ticket is None:
            return _("Nobody is waiting in this counter's lanes.")
        return _("Called %(code)s.") % {"code": ticket.code}
    if action == "call":
        if not ticket_id:
            raise DomainError(_("Choose the ticket to call."), "ticket_required")
        ticket = ticket_call(counter=counter, ticket_id=ticket_id,
                             reason=data.get("reason", ""), by=by)
        return _("Called %(code)s out of order.") % {"code": ticket.code}
    if action == "recall":
        ticket = ticket_recall(counter=counter, by=by, ticket_id=ticket_id)
        return _("Called %(code)s again.") % {"code": ticket.code}
    if action == "start":
        ticket = ticket_start(counter=counter, by=by, ticket_id=ticket_id)
        return _("Serving %(code)s.") % {"code": ticket.code}
    if action == "finish":
        ticket = ticket_finish(counter=counter, by=by, ticket_id=ticket_id,
                               outcome=data.get("outcome", ""),
                               reason=data.get("reason", ""),
                               note=data.get("note", ""))
        return _("%(code)s finished: %(outcome)s.") % {"code": ticket.code,
                                                        "outcome": ticket.get_outcome_display()}
    if action == "no-show":
        ticket = ticket_no_show(counter=counter, by=by, ticket_id=ticket_id)
        return _("%(code)s marked as no-show.") % {"code": ticket.code}
    if action == "transfer":
        lane = Lane.objects.filter(office=counter.office, letter=data.get("lane", "")).first()
        if lane is None:
            raise DomainError(_("Choose the lane to transfer to."), "lane_required")
        ticket = ticket_transfer(counter=counter, to_lane=lane, by=by,
                                 note=data.get("note", ""), ticket_id=ticket_id)
        return _("%(code)s transferred to lane %(lane)s.") % {"code": ticket.code,
                                                              "lane": lane.letter}
    if action == "identify":
        return _identify(counter, data, by)
    raise Http404


@login_required
@require_POST
def counter_action(request, pk, action):
    counter = _counter_or_404(request, pk)
    if action in SERVING_ACTIONS:
        try:
            text = serving_action(counter, action, request.POST, request.user)
        except DomainError as exc:
            _error(request, exc)
            problems = exc.extra.get("problems") if exc.extra else None
            for problem in problems or []:
                messages.error(request, str(problem.get("message", "")))
        else:
            messages.success(request, text)
        return redirect("queues:counter", pk=counter.pk)
    form = ActionForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{field}: {' '.join(errors)}")
    else:
        try:
            text = _run_action(counter, action, form.cleaned_data, request.user)
        except DomainError as exc:
            _error(request, exc)
        else:
            messages.success(request, text)
    return redirect("queues:counter", pk=counter.pk)


def _receipt_paper(ticket: Ticket) -> str:
    return f"receipt:{ticket.pk}"


@login_required
def counter_receipt(request, pk, ticket):
    """The counter's receipt for an identified resident: the ticket, the case number
    and the service. POST makes it: for a resident with no bound phone it then carries a
    new activation code, shown once (registry.printed_codes); GET shows it again
    without the code. Operators of the counter's office only; anyone else gets 404."""
    counter = _counter_or_404(request, pk)
    ticket = tenancy.get_for_office_or_404(
        Ticket.objects.select_related("office", "lane", "service", "resident", "application"),
        office_ids=[counter.office_id], pk=ticket, resident__isnull=False)
    url = reverse("queues:counter-receipt", args=[counter.pk, ticket.pk])
    if request.method == "POST":
        try:
            printed = desk.activation_code_for_paper(office=counter.office,
                                                     resident=ticket.resident, by=request.user)
        except DomainError as exc:
            _error(request, exc)
        else:
            printed_codes.keep(request, paper=_receipt_paper(ticket), printed=printed)
            if printed is not None:
                messages.success(request, _("An activation code is on the receipt, shown "
                                            "this once; codes printed before no longer "
                                            "work."))
        return redirect(url)
    record_access(request.user, kind=AccessKind.COUNTER, residents=[ticket.resident_id],
                  office=counter.office_id, target=ticket.code)
    response = render(request, "queues/counter_receipt.html", {
        "counter": counter, "office": counter.office, "ticket": ticket,
        "resident": ticket.resident, "today": office_today(counter.office),
        "printed": printed_codes.take(request, paper=_receipt_paper(ticket)),
        "needs_code": ticket.resident.phone_bound_at is None, "new_code_url": url,
        "language": ticket.resident.language,
    })
    response["Cache-Control"] = "private, no-store"
    return response


# --- The display board -------------------------------------------------------------


def board_page(request, code):
    """The public display board of an office (no sign-in): it reads the board API every
    second and redraws without reloading. Indonesian unless ?lang=en; each new call is
    said aloud in Indonesian (queues.speech), by the browser's Indonesian voice or else
    by the board's clips, once staff turned the sound on."""
    office = Office.objects.filter(code=code[:8], is_active=True).first()
    if office is None:
        raise Http404
    language = request.GET.get("lang") if request.GET.get("lang") in ("id", "en") else "id"
    with translation.override(language):
        data = selectors.board(office=office)
        response = render(request, "queues/board.html", {
            "office": office, "board": data, "language": language,
            "api_url": reverse("office-board", args=[office.code]),
            "labels": {
                "now_serving": _("Now serving"), "next": _("Next"), "nobody": _("Nobody"),
                "waiting": _("waiting"), "about": _("estimated wait about"),
                "minutes": _("min"), "no_counter": _("no counter open yet"),
                "link_down": _("The connection to the central server (Kemendagri) is down"),
                "since": _("since"), "expected": _("expected back"),
                "sound_on": _("Turn on sound"), "sound_off": _("Turn off sound"),
            },
            # Each clip's URL (hashed by the static storage in production, so a
            # folder's URL would not do).
            "clips": {name: static(f"queues/board_audio/{name}.wav")
                      for name in (speech.CHIME, *speech.clip_texts())},
            "today": date.fromisoformat(data["date"]),
        })
    response["Cache-Control"] = "no-cache"
    return response


@login_required
def index(request):
    """The queue pages this user may open."""
    return redirect("registry:staff-home")
