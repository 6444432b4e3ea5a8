"""The board says each new call aloud, in a real headless Chromium: a chime, then
"Nomor antrean C nol nol satu, silakan ke loket lima" by the browser's Indonesian
voice, or clip by clip when it has none; a recall is said again, the backlog found on
loading is not; the call area is a live region that changes with each call.

The browser's speech and audio are replaced by spies (no sound device here): each
records what the page asked for, in order, and ends a little later, as the real ones
end when done; what starts before the sound before it ended is recorded as an
overlap."""

import json

import pytest
from django.db import transaction

from queues.services.calling import ticket_call_next, ticket_recall
from queues.services.counters import counter_create
from registry.models import Role
from tests.queues.conftest import lanes_of, walk_in

# Walk-in tickets are issued in office hours (tests/conftest.py: office_hours).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("office_hours")]

INDONESIAN = {"name": "Google Bahasa Indonesia", "lang": "id-ID"}
ENGLISH = {"name": "Google US English", "lang": "en-US"}

SPIES = """
(() => {
  const voices = %(voices)s;
  const refuse = %(refuse)s;
  window.__log = [];
  // Until someone clicks: Playwright's own evaluate() counts as a user gesture, so
  // navigator.userActivation would not do.
  let clicked = false;
  window.addEventListener("click", () => { clicked = true; }, true);
  // A plain object is no SpeechSynthesisVoice: keep what the page sets as it is.
  Object.defineProperty(SpeechSynthesisUtterance.prototype, "voice", {
    configurable: true,
    get() { return this.__voice || null; },
    set(value) { this.__voice = value; },
  });
  window.speechSynthesis.getVoices = () => voices;
  // What starts while something is still sounding is logged as an overlap.
  let sounding = 0;
  function sound(entry, target, end, ms) {
    window.__log.push(sounding ? {overlap: entry} : entry);
    sounding += 1;
    setTimeout(() => { sounding -= 1; target.dispatchEvent(new Event(end)); }, ms);
  }
  window.speechSynthesis.speak = (utterance) => {
    sound({speak: utterance.text, lang: utterance.lang,
           voice: utterance.voice && utterance.voice.name}, utterance, "end", 150);
  };
  HTMLMediaElement.prototype.play = function () {
    if (refuse && !clicked) {
      return Promise.reject(new DOMException("no gesture yet", "NotAllowedError"));
    }
    sound({play: this.src.split("/").pop().replace(".wav", "")}, this, "ended", 30);
    return Promise.resolve();
  };
  if (%(remembered)s) localStorage.setItem("queues.board.sound", "on");
})();
"""


def spy(page, *, voices, remembered=False, refuse=False):
    page.add_init_script(SPIES % {"voices": json.dumps(voices), "refuse": json.dumps(refuse),
                                  "remembered": json.dumps(remembered)})


def log(page):
    return page.evaluate("window.__log")


def wait_for_log(page, length):
    page.wait_for_function(f"window.__log.length >= {length}", timeout=5000)
    return log(page)


def next_poll(page):
    """Wait until the board drew a fresher answer than the one it shows now."""
    page.wait_for_function(f"document.body.dataset.generated !== "
                           f"{json.dumps(page.evaluate('document.body.dataset.generated'))}",
                           timeout=5000)


@pytest.fixture
def hall(office_a, make_staff):
    """Loket 5 serves lane C, Loket 12 and Loket 21 lane B; B-001 was called at Loket 12
    before the board was opened, C-001, C-002 and B-002 wait."""
    operator = make_staff(office_a, Role.COUNTER_OPERATOR)
    lanes = lanes_of(office_a)
    counters = {number: counter_create(office=office_a, number=number, lanes=[lanes[letter]])
                for number, letter in ((5, "C"), (12, "B"), (21, "B"))}
    walk_in(office_a, "B")
    walk_in(office_a, "C")
    walk_in(office_a, "C")
    walk_in(office_a, "B")
    ticket_call_next(counter=counters[12], by=operator)
    return {"operator": operator, **{f"loket{n}": c for n, c in counters.items()}}


def test_an_indonesian_voice_says_each_new_call_after_a_chime_and_again_on_recall(
        browser_page, hall, settings):
    # Answers that change with every poll: the backlog must stay unsaid across them.
    settings.QUEUES_BOARD_CACHE_SECONDS = 1
    page, url = browser_page
    spy(page, voices=[ENGLISH, INDONESIAN])
    page.goto(f"{url}/queues/board/3275/")
    live = page.locator("#call")
    assert (live.get_attribute("aria-live"), live.get_attribute("aria-atomic")) == (
        "polite", "true")
    assert live.inner_text() == "B-001 ke Loket 12 - Cek biometrik\nNomor berikutnya"
    # Staff turn the sound on: a chime says it works, and the choice is kept.
    assert page.inner_text("#sound") == "Aktifkan suara"
    page.click("#sound")
    assert page.inner_text("#sound") == "Matikan suara"
    assert page.evaluate("localStorage.getItem('queues.board.sound')") == "on"
    assert wait_for_log(page, 1) == [{"play": "chime"}]
    # The backlog (B-001) is not said, not even after the board polled again.
    next_poll(page)
    next_poll(page)
    assert log(page) == [{"play": "chime"}]

    ticket_call_next(counter=hall["loket5"], by=hall["operator"])
    said = {"speak": "Nomor antrean C nol nol satu, silakan ke loket lima", "lang": "id-ID",
            "voice": "Google Bahasa Indonesia"}
    assert wait_for_log(page, 3) == [{"play": "chime"}, {"play": "chime"}, said]
    page.wait_for_function("document.getElementById('call').innerText.startsWith('C-001')")
    assert live.inner_text() == "C-001 ke Loket 5 - Perubahan biodata\nNomor berikutnya"

    # The resident did not come: Loket 5 calls C-001 again, and the board says it again.
    ticket_recall(counter=hall["loket5"], by=hall["operator"])
    assert wait_for_log(page, 5)[3:] == [{"play": "chime"}, said]
    page.wait_for_function("document.getElementById('call').innerText.endsWith('ulang')")
    assert live.inner_text() == "C-001 ke Loket 5 - Perubahan biodata\nPanggilan ulang"
    next_poll(page)
    next_poll(page)
    assert len(log(page)) == 5


def test_without_an_indonesian_voice_the_clips_say_each_call_in_turn(browser_page, hall):
    page, url = browser_page
    spy(page, voices=[ENGLISH], remembered=True)
    page.goto(f"{url}/queues/board/3275/")
    # The choice was kept: the sound is on without a click.
    assert page.inner_text("#sound") == "Matikan suara"
    next_poll(page)

    with transaction.atomic():  # both at once: the board sees them in one answer
        ticket_call_next(counter=hall["loket21"], by=hall["operator"])
        ticket_call_next(counter=hall["loket5"], by=hall["operator"])
    b002 = ["chime", "ticket_number", "letter_b", "nol", "nol", "dua", "go_to_counter",
            "dua", "puluh", "satu"]
    c001 = ["chime", "ticket_number", "letter_c", "nol", "nol", "satu", "go_to_counter",
            "lima"]
    # One call after the other, never over each other, and never by the English voice.
    assert wait_for_log(page, len(b002 + c001)) == [{"play": clip} for clip in b002 + c001]
    # Both calls are in the live region, the latest first.
    assert page.inner_text("#call") == (
        "C-001 ke Loket 5 - Perubahan biodata\nNomor berikutnya\n"
        "B-002 ke Loket 21 - Cek biometrik\nNomor berikutnya")
    # Each clip is served by the board itself, no internet needed.
    for clip in set(b002 + c001):
        url_of_clip = page.evaluate(
            f"JSON.parse(document.getElementById('board-clips').textContent)['{clip}']")
        response = page.request.get(f"{url}{url_of_clip}")
        assert (response.status, response.body()[:4]) == (200, b"RIFF"), clip


def test_when_the_browser_refuses_sound_the_board_asks_for_a_click_again(browser_page,
                                                                         hall):
    """After a reload the browser may refuse to play until someone clicks: the call is
    still shown, and the button asks again."""
    page, url = browser_page
    spy(page, voices=[ENGLISH], remembered=True, refuse=True)
    page.goto(f"{url}/queues/board/3275/")
    assert page.inner_text("#sound") == "Matikan suara"
    next_poll(page)
    ticket_call_next(counter=hall["loket5"], by=hall["operator"])
    page.wait_for_function("document.getElementById('sound').textContent === "
                           "'Aktifkan suara'", timeout=5000)
    assert page.inner_text("#call") == "C-001 ke Loket 5 - Perubahan biodata\nNomor berikutnya"
    assert log(page) == []
    page.click("#sound")
    assert wait_for_log(page, 1) == [{"play": "chime"}]
    assert page.inner_text("#sound") == "Matikan suara"
