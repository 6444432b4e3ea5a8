"""Pages are in Indonesian unless their user chose English with the language switch
(registry/language_switch.html); the browser's Accept-Language does not count."""

from django.conf import settings
from django.urls import reverse


def choose_language(client, language: str) -> None:
    """Chooses the pages' language as a user does, with the switch; the test client keeps
    the cookie it sets for the requests that follow."""
    response = client.post(reverse("set_language"), {"language": language, "next": "/"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == language
