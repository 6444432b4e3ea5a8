"""The queues API: the display board of an office (public, no token) and the signed-in
resident's tickets of today. Views parse and answer; reads are in queues.selectors."""

import json
import zlib

from django.conf import settings
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.utils.translation import get_language
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from queues import selectors
from queues.api import serializers as s
from queues.models import Ticket
from queues.services.board import BOARD_CACHE_KEY
from registry.api.auth import IsResident
from registry.api.views import office_or_404

# Every board screen and app polls this: one computation per office and language every
# settings.QUEUES_BOARD_CACHE_SECONDS at most. Each change to the queue drops the cached
# answer when it commits (queues.services.board.board_changed), and so does a change of
# the central link's outage notice (registry.central's OUTAGE_CHANGED): the cache never
# delays a call, a new number or a notice. The estimates and the clock age by that
# much at most, and so may the lanes' names and the office's settings changed in admin.


def board_cache_seconds(code: str, seconds: float) -> float:
    """`seconds` stretched by up to half again, by office: 514 offices' boards, filled
    in the same second when the screens come on, then expire at different moments
    instead of all being recomputed together."""
    return seconds * (1 + (zlib.crc32(code.encode()) % 1000) / 2000)


class BoardView(APIView):
    """The display board of an office, as its big screen shows it."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(responses=s.BoardSerializer)
    def get(self, request, code):
        language = (get_language() or "id")[:2]
        if not (code.isascii() and code.isdigit() and len(code) <= 8):
            # No office has it (404); nor may it name a cache key (control characters,
            # spaces and other such are refused by the cache backends).
            office_or_404(code)
        key = BOARD_CACHE_KEY.format(code=code[:8], language=language)
        seconds = settings.QUEUES_BOARD_CACHE_SECONDS
        body = cache.get(key) if seconds else None
        if body is None:
            office = office_or_404(code)
            body = json.dumps(selectors.board(office=office), cls=DjangoJSONEncoder,
                              ensure_ascii=False).encode()
            if seconds:
                cache.set(key, body, board_cache_seconds(code, seconds))
        response = HttpResponse(body, content_type="application/json")
        response["Cache-Control"] = "no-cache"
        response["Content-Language"] = language
        return response


class TicketListView(generics.ListAPIView):
    """The signed-in resident's tickets of today, with their place in the lane and the
    estimated wait."""

    permission_classes = [IsResident]
    serializer_class = s.TicketSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation, no request
            return Ticket.objects.none()
        return selectors.tickets_for_resident_today(resident=self.request.user.resident)
