"""Serializers of the queues API: the display board (public) and a resident's tickets
of today. Both are read-only; the board is built by queues.selectors.board."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from queues.models import TicketStatus
from registry.api.fields import office_local_iso
from registry.api.serializers import NoticeSerializer


class NowServingSerializer(serializers.Serializer):
    ticket = serializers.CharField()
    counter = serializers.CharField()
    counter_number = serializers.IntegerField(allow_null=True)
    status = serializers.CharField()
    called_at = serializers.DateTimeField()
    reason = serializers.CharField()
    reason_text = serializers.CharField()


class BoardLaneSerializer(serializers.Serializer):
    lane = serializers.CharField()
    name = serializers.CharField()
    now_serving = NowServingSerializer(many=True)
    next = serializers.ListField(child=serializers.CharField())
    waiting = serializers.IntegerField()
    estimated_wait_minutes = serializers.IntegerField(allow_null=True)
    counters_open = serializers.IntegerField()


class RecentCallSerializer(serializers.Serializer):
    id = serializers.IntegerField(
        min_value=1,
        help_text=_("The call's own id: a recall is a new call with a new id, so a board "
                    "announces each id it has not seen once."))
    ticket = serializers.CharField()
    counter = serializers.CharField()
    counter_number = serializers.IntegerField(
        allow_null=True, min_value=1, max_value=99,
        help_text=_("The counter's number; null when the call recorded no counter."))
    lane = serializers.CharField()
    lane_name = serializers.CharField()
    called_at = serializers.DateTimeField()
    reason = serializers.CharField()
    reason_text = serializers.CharField()
    out_of_order = serializers.BooleanField()
    text = serializers.CharField()
    speech = serializers.CharField(
        help_text=_("What the board says aloud, in Indonesian whatever the language "
                    "asked for: the ticket's letter, its digits one by one, and the "
                    "counter's number in words (without a counter, only the ticket): "
                    "\"Nomor antrean C nol nol satu, silakan ke loket lima\"."))
    speech_clips = serializers.ListField(
        child=serializers.RegexField(r"^[a-z_]+$"), min_length=4,
        help_text=_("The same call as the clips to play in turn, a chime first, when the "
                    "browser has no Indonesian voice: each names the board's static file "
                    "queues/board_audio/{clip}.wav."))


class BoardOfficeSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class BoardSerializer(serializers.Serializer):
    """The schema of the board (the view answers the selector's dict as it is)."""

    office = BoardOfficeSerializer()
    date = serializers.DateField()
    generated_at = serializers.DateTimeField()
    link_status = serializers.ChoiceField(choices=["up", "down"])
    notice = NoticeSerializer(allow_null=True)
    lanes = BoardLaneSerializer(many=True)
    recent_calls = RecentCallSerializer(many=True)


class WaitRangeSerializer(serializers.Serializer):
    """The minutes within which a wait is expected to end, about 8 times in 10; given
    when the range is wider than 15 minutes (queues.estimates.RANGE_SHOWN_FROM)."""

    low = serializers.IntegerField(min_value=0)
    high = serializers.IntegerField(min_value=0)


class TicketSerializer(serializers.Serializer):
    """A row of queues.selectors.tickets_for_resident_today."""

    code = serializers.CharField(source="ticket.code")
    lane = serializers.CharField(source="ticket.lane.letter")
    lane_name = serializers.CharField(source="ticket.lane.name")
    status = serializers.CharField(source="ticket.status")
    position = serializers.IntegerField(allow_null=True)
    estimated_wait_minutes = serializers.IntegerField(allow_null=True)
    estimated_wait_range = WaitRangeSerializer(
        allow_null=True,
        help_text=_("While the ticket waits and its estimate is uncertain, the minutes "
                    "within which it is expected to be called, about 8 times in 10: the "
                    "app shows this range instead of estimated_wait_minutes. Null "
                    "otherwise (a narrow range, no estimate, or no longer waiting)."))
    office = serializers.CharField(source="ticket.office.code")
    service = serializers.CharField(source="ticket.service.code")
    service_name = serializers.CharField(source="ticket.service.name")
    date = serializers.DateField(source="ticket.day")
    issued_at = serializers.SerializerMethodField()
    called_at = serializers.SerializerMethodField()
    counter = serializers.SerializerMethodField()

    def get_issued_at(self, row) -> str:
        return office_local_iso(row["ticket"].issued_at, row["ticket"].office)

    def get_called_at(self, row) -> str | None:
        return office_local_iso(row["ticket"].called_at, row["ticket"].office)

    def get_counter(self, row) -> str | None:
        ticket = row["ticket"]
        if ticket.status in (TicketStatus.CALLED, TicketStatus.SERVING) and ticket.counter:
            return ticket.counter.name
        return None
