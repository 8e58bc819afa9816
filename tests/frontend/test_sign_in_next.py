"""`next` on the sign-in and registration pages: the server hands the page only a path on
this site (the page's script checks it again before navigating)."""

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def page_next(path: str) -> str:
    response = Client().get(path)
    assert response.status_code == 200
    found = re.search(r'data-next="([^"]*)"', response.content.decode())
    assert found, "the form carries its checked next"
    return found.group(1)


@pytest.mark.parametrize("page", ["/signin", "/register"])
@pytest.mark.parametrize(
    "raw",
    [
        "/%09/evil.example/phish",  # a tab: browsers drop it, leaving //evil.example
        "/%0a/evil.example",
        "/%0d%0a/evil.example",
        "%09//evil.example",
        "//evil.example/phish",
        "/%5Cevil.example",  # /\evil.example
        "https://evil.example/",
        "javascript:alert(1)",
        "dashboard",
    ],
)
def test_next_off_this_site_becomes_the_dashboard(page, raw):
    assert page_next(f"{page}?next={raw}") == "/dashboard"


@pytest.mark.parametrize("page", ["/signin", "/register"])
def test_next_on_this_site_is_kept(page):
    assert page_next(f"{page}?next=/courses/intro%3Ftab%3Doutline") == "/courses/intro?tab=outline"
    assert page_next(page) == "/dashboard"
