"""Pages are in Indonesian unless their user chose English, whatever the browser asks;
staff see times in their office's zone (WIB, WITA or WIT), not the server's; and
requests no view could answer well are refused before one reads them."""

import zoneinfo

from django.conf import settings
from django.http import JsonResponse
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header

from registry import tenancy
from registry.api.errors import body_too_large
from registry.views import error_400


class LanguageMiddleware:
    """Activates the language of each request, in place of Django's LocaleMiddleware.

    - Every page (staff pages, the admin, the portal, the kiosk, error pages): the
      language its user chose with the switch (Django's language cookie, which
      /i18n/setlang/ sets), else Indonesian. The browser's Accept-Language is not read:
      an office PC with an English browser still shows Indonesian to its operator.
    - Under /api/, the contract (API.md): Indonesian, English with Accept-Language: en.
      The cookie is not read there: an app gets the language it asks for, whatever a
      browser on the same site chose for the pages (the display board asks the board
      API in its own language).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        api = request.path_info.startswith("/api/")
        translation.activate(_asked_language(request) if api else _chosen_language(request))
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        patch_vary_headers(response, ("Accept-Language",) if api else ("Cookie",))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response


def _chosen_language(request) -> str:
    """The language of the cookie, when it is one of LANGUAGES; else the default."""
    code = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if code:
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            pass
    return settings.LANGUAGE_CODE


def _asked_language(request) -> str:
    """The first language of Accept-Language that is one of LANGUAGES, as Django's own
    get_language_from_request reads the header (which would read the cookie first)."""
    for code, _quality in parse_accept_lang_header(request.META.get("HTTP_ACCEPT_LANGUAGE", "")):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


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

    After LanguageMiddleware, so the answer is in the client's language.
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
