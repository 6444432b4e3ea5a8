"""Pages of the registry core: the portal's front page, the staff start page, and the
error pages (JSON under /api/, HTML elsewhere)."""

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from registry import tenancy
from registry.dashboard import staff_links_for
from registry.models import Role


def home(request):
    return render(request, "registry/home.html")


@login_required
def staff_home(request):
    """Links to the staff pages the user's roles use, per office."""
    offices = list(tenancy.staff_offices(request.user).order_by("code"))
    rows = []
    for office in offices:
        roles = tenancy.staff_roles(request.user, office)
        rows.append({"office": office,
                     "roles": sorted(str(Role(role).label) for role in roles),
                     "links": staff_links_for(office=office, roles=roles)})
    return render(request, "registry/staff_home.html", {"rows": rows})


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
