"""The Kota Bekasi replay with failures 1 and 3 recorded where they happened: sent away
at the door to book in the app first, and the expired police letter found at the
counter. The chronology states all nine points of the office, these two among them."""

import pytest

from complaints import chronology as assembler
from registry.models import Role, TurnAway
from tests.complaints import kota_bekasi as kb
from tests.factories import card_stock_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def replayed(office_a, make_staff, humas_a):
    card_stock_for(office_a, on_hand=100)
    desk = make_staff(office_a, Role.FRONT_DESK, username="desk-a")
    operator = make_staff(office_a, Role.COUNTER_OPERATOR, username="op-a")
    courier = make_staff(office_a, Role.COURIER, username="kurir-a")
    budi, _siti = kb.residents(office_a)
    turn_away = kb.turned_away_at_the_door(office_a, budi, desk_staff=desk)
    application = kb.open_case(office_a, budi)
    waiting = [kb.booking_lapsed_then_rebooked(office_a, budi, application),
               kb.queue_day(office_a, application, operator=operator),
               kb.police_letter_expired_at_counter(application, operator=operator)]
    kb.counter_done_during_outage(application, operator=operator)
    kb.home_delivery_to_spouse(application, courier=courier)
    complaint = kb.instagram_post_logged(office_a, humas=humas_a)
    return complaint, application, turn_away, waiting


def test_the_turn_away_is_linked_to_the_case_opened_the_next_day(replayed):
    _complaint, application, turn_away, waiting = replayed
    assert waiting == [None, None, None]
    turn_away.refresh_from_db()
    assert (turn_away.application, turn_away.reason, turn_away.note) == (
        application, "no_booking", kb.TURN_AWAY_NOTE)


def test_the_chronology_states_the_nine_points_with_the_door_and_the_letter(replayed):
    complaint, application, turn_away, _waiting = replayed
    points = assembler.assemble(complaint)
    texts = [p["text"] for p in points]
    # Point 1: sent away at the door, first of all, on the record of the turn-away.
    assert "Senin, 30 Mei 2022 pukul 09.30 WIB" in texts[0]
    assert kb.TURN_AWAY_NOTE in texts[0]
    assert points[0]["sources"] == [{"type": "turn_away", "id": turn_away.id,
                                     "label": points[0]["sources"][0]["label"]}]
    # Point 3: the expired police letter at the counter, after C-001 was called at 08.00.
    letter = next(i for i, t in enumerate(texts) if kb.EXPIRED_LETTER in t)
    assert "Jumat, 1 Juli 2022 pukul 08.06 WIB" in texts[letter]
    assert "Surat keterangan kehilangan dari Kepolisian" in texts[letter]
    assert "C-001" in texts[letter]
    called = next(i for i, t in enumerate(texts) if "pukul 08.00 WIB" in t and "C-001" in t)
    assert called < letter
    # The refused change changed nothing: the case is still the signature change.
    assert [application.service.code, *application.extra_services.values_list(
        "code", flat=True)] == ["KTP_TTD_FOTO"]
    # The office's nine points, each stated.
    text = "\n".join(texts)
    for needle in ("30 Mei 2022", "31 Mei 2022 pukul 19.40 WIB, pemohon memesan jadwal",
                   "kedaluwarsa", "29 Juni 2022", "C-001", "B-014", "lajur B",
                   kb.EXPIRED_LETTER,
                   "Pada Jumat, 1 Juli 2022 pukul 09.00 sampai 13.00 WIB, jaringan kantor",
                   "KTP-el dicetak", "diterima oleh istri pemohon",
                   "pemohon mengunggah pengaduan di Instagram"):
        assert needle in text, needle
    # Each record is told once: the turn-away is not told again from the timeline.
    assert sum(kb.TURN_AWAY_NOTE in t for t in texts) == 1
    assert sum(kb.EXPIRED_LETTER in t for t in texts) == 1
    assert TurnAway.objects.count() == 1
