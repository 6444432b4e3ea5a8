"""The chronology assembled from the records of the apps that exist: the case file,
the central link (outage, transmissions, printing) and the hand-over and delivery."""

import pytest

from complaints import chronology as assembler
from registry.models import Role
from tests.complaints import kota_bekasi as kb
from tests.factories import card_stock_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(office_a, make_staff, humas_a):
    card_stock_for(office_a, on_hand=100)
    operator = make_staff(office_a, Role.COUNTER_OPERATOR, username="op-a")
    courier = make_staff(office_a, Role.COURIER, username="kurir-a")
    budi, _siti = kb.residents(office_a)
    application = kb.open_case(office_a, budi)
    kb.counter_done_during_outage(application, operator=operator)
    kb.home_delivery_to_spouse(application, courier=courier)
    return kb.instagram_post_logged(office_a, humas=humas_a)


def test_the_chronology_states_the_outage_the_printing_and_the_delivery(case):
    points = assembler.assemble(case)
    texts = [p["text"] for p in points]
    print("\n".join(f"{p['n']}. {p['text']}" for p in points))
    assert texts == []
