"""Pages of the registry core: the portal's front page, the staff start page, the
language switch, and the error pages (JSON under /api/, HTML elsewhere)."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.i18n import LANGUAGE_QUERY_PARAMETER, set_language

from registry import tenancy
from registry.auth import role_allows
from registry.calendar import office_day_bounds, office_today
from registry.dashboard import staff_alerts_for, staff_links_for
from registry.errors import DomainError
from registry.models import Role, Service, TurnAwayReason
from registry.selectors import turn_aways_for_office
from registry.services.residents import resident_find_by_nik
from registry.services.turn_aways import turn_away_record

TURN_AWAY = "registry.add_turnaway"


def home(request):
    return render(request, "registry/home.html")


def language_set(request):
    """The language switch of every page (registry/language_switch.html): Django's
    set_language keeps the choice in the language cookie and goes back to the page.
    Only the languages of LANGUAGES: set_language alone takes any language Django has
    a catalogue for (French, say), which no page would then show."""
    if request.method == "POST" and request.POST.get(LANGUAGE_QUERY_PARAMETER) not in dict(
            settings.LANGUAGES):
        return error_400(request)
    return set_language(request)


@login_required
def staff_home(request):
    """Links to the staff pages the user's roles use, per office."""
    offices = list(tenancy.staff_offices(request.user).order_by("code"))
    rows = []
    for office in offices:
        roles = tenancy.staff_roles(request.user, office)
        rows.append({"office": office,
                     "roles": sorted(str(Role(role).label) for role in roles),
                     "links": staff_links_for(office=office, roles=roles),
                     "alerts": staff_alerts_for(office=office, roles=roles)})
    return render(request, "registry/staff_home.html", {"rows": rows})


def staff_links(*, office, roles) -> list[tuple[str, str]]:
    """The core's staff pages for the start page, for this user's roles in `office`."""
    if any(role_allows(role, TURN_AWAY) for role in roles):
        return [(_("Sent away at the door"),
                 reverse("registry:turn-away") + f"?office={office.code}")]
    return []


class TurnAwayForm(forms.Form):
    nik = forms.CharField(label=gettext_lazy("NIK"), max_length=32)
    service = forms.CharField(max_length=32, required=False)
    reason = forms.CharField(max_length=24)
    note = forms.CharField(max_length=300, required=False)


@login_required
def turn_away(request):
    """The front desk records a resident sent away at the door, found by NIK, with the
    service they came for and the reason (registry.services.turn_aways)."""
    office, offices = tenancy.office_for_request(request, TURN_AWAY)
    form = TurnAwayForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_bound:
        status = 400
        if not form.is_valid():
            messages.error(request, _("Enter the NIK and choose the reason."))
        else:
            data = form.cleaned_data
            service = None
            if data["service"]:
                service = Service.objects.filter(office=office, code=data["service"]).first()
            try:
                if data["service"] and service is None:
                    raise DomainError(_("This service is not offered by this office."),
                                      "service_not_found")
                resident = resident_find_by_nik(office=office, user=request.user,
                                                nik=data["nik"],
                                                reason=str(_("Sent away at the door")))
                turn_away_record(office=office, resident=resident, reason=data["reason"],
                                 service=service, note=data["note"], by=request.user)
            except DomainError as exc:
                messages.error(request, str(exc.message))
            else:
                messages.success(request, _("Recorded: %(name)s was sent away.")
                                 % {"name": resident.name})
                return redirect(reverse("registry:turn-away") + f"?office={office.code}")
    start, end = office_day_bounds(office, office_today(office))
    return render(request, "registry/desk/turn_away.html", {
        "office": office, "offices": offices, "form": form,
        "services": Service.objects.filter(office=office, is_active=True).order_by("name"),
        "reasons": TurnAwayReason.choices,
        "today": turn_aways_for_office(office=office).filter(at__gte=start, at__lt=end),
    }, status=status)


def _error(request, status, code, message, template):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": str(message), "code": code}, status=status)
    return render(request, template, {"message": message}, status=status)


def error_400(request, exception=None):
    return _error(request, 400, "bad_request", _("The request could not be understood."),
                  "registry/error.html")


def error_403(request, exception=None):
    return _error(request, 403, "permission_denied",
                  _("You do not have permission to do this."), "registry/error.html")


def error_404(request, exception=None):
    return _error(request, 404, "not_found", _("Not found."), "registry/error.html")


def error_500(request):
    return _error(request, 500, "server_error",
                  _("Something went wrong on our side. It has been logged."),
                  "registry/error.html")
