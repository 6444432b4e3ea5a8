"""Pages are in Indonesian whatever the browser's Accept-Language says, and in English
for a user who chose it with the switch on every page (kept in the language cookie); the
API keeps its contract: Indonesian, English with Accept-Language: en (API.md)."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from queues.services.counters import counter_create
from registry.models import Lane, Role
from tests.language import choose_language

COOKIE = settings.LANGUAGE_COOKIE_NAME
ENGLISH_BROWSER = {"Accept-Language": "en-US,en;q=0.9"}
SWITCH = f'<form class="language-switch" method="post" action="{reverse("set_language")}"'


@pytest.fixture
def operator(office_a, make_staff):
    return make_staff(office_a, Role.COUNTER_OPERATOR)


@pytest.fixture
def counter(office_a):
    lanes = Lane.objects.filter(office=office_a, letter__in=["A", "B"]).order_by("letter")
    return counter_create(office=office_a, number=2, lanes=list(lanes))


@pytest.fixture
def pages(client, office_a, make_staff, counter):
    """Signed in as a member of office_a who works the counter and the front desk: each
    page with a text it shows in Indonesian and in English."""
    user = make_staff(office_a, Role.COUNTER_OPERATOR)
    make_staff(office_a, Role.FRONT_DESK, username=user.username)
    client.force_login(user)
    return {
        reverse("registry:staff-home"): ("Halaman petugas", "Staff pages"),
        reverse("queues:counter", args=[counter.pk]): ("Layar antrean", "Display board"),
        f"{reverse('queues:kiosk')}?office=3275": ("Ambil nomor antrean",
                                                   "Take a queue number"),
        reverse("admin:index"): ("Keluar", "Log out"),
        "/": ("Halaman petugas", "Staff pages"),
    }


def test_an_english_browser_gets_indonesian_pages(client, pages):
    for url, (indonesian, english) in pages.items():
        response = client.get(url, headers=ENGLISH_BROWSER)
        body = response.content.decode()
        assert (url, response.status_code, response["Content-Language"]) == (url, 200, "id")
        assert indonesian in body, url
        assert english not in body, url
        assert '<html lang="id"' in body, url
        # The page depends on the cookie, not on the header it ignored.
        assert "Cookie" in response["Vary"]
        assert "Accept-Language" not in response["Vary"]


def test_the_admin_sign_in_page_is_indonesian_for_an_english_browser(client, db):
    body = client.get(reverse("admin:login"), headers=ENGLISH_BROWSER).content.decode()
    assert 'value="Masuk"' in body
    assert 'value="Log in"' not in body
    assert SWITCH in body


def test_english_chosen_with_the_switch_stays_until_changed(client, pages):
    counter_url = list(pages)[1]
    chosen = client.post(reverse("set_language"), {"language": "en", "next": counter_url},
                         headers=ENGLISH_BROWSER)
    # Back to the same page, with the choice kept for a year.
    assert (chosen.status_code, chosen["Location"]) == (302, counter_url)
    cookie = chosen.cookies[COOKIE]
    assert (cookie.value, cookie["max-age"], cookie["path"]) == ("en", 365 * 24 * 3600, "/")
    assert (cookie["httponly"], cookie["samesite"]) == (True, "Lax")
    for _ in range(2):  # and on the request after that
        for url, (indonesian, english) in pages.items():
            response = client.get(url)
            body = response.content.decode()
            assert (url, response["Content-Language"]) == (url, "en")
            assert english in body, url
            assert indonesian not in body, url
    # Even an Indonesian browser gets the English chosen.
    assert client.get(counter_url, headers={"Accept-Language": "id"})[
        "Content-Language"] == "en"
    # And back: Indonesian again.
    choose_language(client, "id")
    for url, (indonesian, _english) in pages.items():
        assert indonesian in client.get(url, headers=ENGLISH_BROWSER).content.decode(), url


def test_the_switch_is_on_every_page_and_comes_back_to_it(client, pages):
    for url in pages:
        body = client.get(url).content.decode()
        assert SWITCH in body, url
        assert f'<input type="hidden" name="next" value="{escape(url)}">' in body, url
        assert ('<button type="submit" name="language" value="id" lang="id" '
                'aria-pressed="true">Bahasa Indonesia</button>') in body, url
        assert ('<button type="submit" name="language" value="en" lang="en" '
                'aria-pressed="false">English</button>') in body, url


def test_the_switch_needs_the_csrf_token_of_the_page(office_a, operator):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(operator)
    refused = browser.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert refused.status_code == 403
    assert COOKIE not in refused.cookies
    token = browser.get(reverse("registry:staff-home")).context["csrf_token"]
    chosen = browser.post(reverse("set_language"), {"language": "en", "next": "/",
                                                    "csrfmiddlewaretoken": str(token)})
    assert (chosen.status_code, chosen.cookies[COOKIE].value) == (302, "en")


@pytest.mark.parametrize("language", ["fr", "de", "xx", "", "en-us-" * 50, "id\x00"])
def test_the_switch_refuses_a_language_the_pages_do_not_have(client, db, language):
    # French and German: Django itself has catalogues for them, so its set_language alone
    # would keep them.
    response = client.post(reverse("set_language"), {"language": language, "next": "/"},
                           headers=ENGLISH_BROWSER)
    assert response.status_code == 400
    assert COOKIE not in response.cookies
    assert "Permintaan tidak dapat dipahami." in response.content.decode()
    assert client.post(reverse("set_language"), {"next": "/"}).status_code == 400


def test_the_switch_goes_back_only_to_this_site(client, db):
    response = client.post(reverse("set_language"),
                           {"language": "en", "next": "https://elsewhere.example/"})
    assert (response.status_code, response["Location"]) == (302, "/")
    assert response.cookies[COOKIE].value == "en"
    # A GET changes nothing (Django's set_language).
    response = client.get(reverse("set_language"), {"language": "en", "next": "/staff/"})
    assert (response.status_code, response["Location"]) == (302, "/staff/")
    assert COOKIE not in response.cookies


def test_a_cookie_of_another_language_is_ignored(client, operator):
    client.force_login(operator)
    url = reverse("registry:staff-home")
    client.cookies[COOKIE] = "fr"
    assert client.get(url, headers=ENGLISH_BROWSER)["Content-Language"] == "id"
    client.cookies[COOKIE] = "en-gb"  # a regional variant is its language
    assert client.get(url)["Content-Language"] == "en"


def test_error_pages_follow_the_choice_not_the_browser(client, db):
    page = client.get("/no-such-page/", headers=ENGLISH_BROWSER)
    assert page.status_code == 404
    assert "Tidak ditemukan." in page.content.decode()
    assert SWITCH in page.content.decode()
    choose_language(client, "en")
    assert "Not found." in client.get("/no-such-page/").content.decode()


INDONESIAN_404 = "Tidak ada kantor dengan kode wilayah 9999."
ENGLISH_404 = "No office has region code 9999."


def test_the_api_follows_accept_language_only(client, office_a):
    url = "/api/v1/offices/9999/"
    default = client.get(url)
    assert (default.status_code, default.json()["detail"]) == (404, INDONESIAN_404)
    english = client.get(url, headers={"Accept-Language": "en"})
    assert (english.json()["detail"], english["Content-Language"]) == (ENGLISH_404, "en")
    assert "Accept-Language" in english["Vary"]
    # A browser that chose English for the pages still gets the API's default...
    choose_language(client, "en")
    assert client.get(url).json()["detail"] == INDONESIAN_404
    # ...and one that chose Indonesian gets English when it asks.
    choose_language(client, "id")
    assert client.get(url, headers={"Accept-Language": "en"}).json()["detail"] == ENGLISH_404
    # The middleware's own refusals too.
    refused = client.get("/api/v1/offices/%00/", headers={"Accept-Language": "en"})
    assert refused.json() == {"detail": "The address contains a NUL character.",
                              "code": "null_character"}


def test_the_display_board_keeps_its_own_language(client, office_a):
    """The board (a screen in the waiting room) is Indonesian unless its address says
    ?lang=en; the browser's language does not count there either."""
    board = reverse("queues:board", args=[office_a.code])
    assert "Sedang dilayani" in client.get(board, headers=ENGLISH_BROWSER).content.decode()
    assert "Now serving" in client.get(board, {"lang": "en"}).content.decode()
