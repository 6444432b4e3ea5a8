"""Staff see times in their office's zone (WIB, WITA or WIT), not the server's."""

import zoneinfo

from django.utils import timezone

from registry import tenancy


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
