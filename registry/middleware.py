"""Staff see times in their office's zone (WIB, WITA or WIT), not the server's; and
requests no view could answer well are refused before one reads them."""

import zoneinfo

from django.conf import settings
from django.http import JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from registry import tenancy
from registry.api.errors import body_too_large
from registry.views import error_400


class OfficeTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        office = None
        if user is not None and getattr(user, "is_authenticated", False):
            office = tenancy.staff_primary_office(user)
        if office is not None:
            timezone.activate(zoneinfo.ZoneInfo(office.timezone))
        else:
            timezone.deactivate()
        return self.get_response(request)


class RequestGuardMiddleware:
    """Refuses, before any view reads them, requests no view could answer well:

    - a NUL character in the path or the query string, anywhere: PostgreSQL refuses
      NUL in text, so a lookup by a path parameter such as `/bookings/AB%00C/` would
      answer 500;
    - under /api/, a declared body larger than DATA_UPLOAD_MAX_MEMORY_SIZE (the largest
      upload, an 8 MB delivery photo, fits): answered 413 in the contract's shape
      without reading it. Django applies the same limit only to forms, and only once a
      view reads one (registry.api.errors answers that case too).

    After LocaleMiddleware, so the answer is in the client's language.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        api = request.path_info.startswith("/api/")
        if "\x00" in request.path_info or "%00" in request.META.get("QUERY_STRING", ""):
            if not api:
                return error_400(request)
            return JsonResponse({"detail": _("The address contains a NUL character."),
                                 "code": "null_character"}, status=400)
        if api and _content_length(request) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return JsonResponse(body_too_large(), status=413)
        return self.get_response(request)


def _content_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0
