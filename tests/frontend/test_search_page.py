"""The results page's view (/search): its state read from the URL like the script reads it,
a useful page (heading, title, description, a form that works without scripts) for any
query string, never an error and never a redirect."""

import html
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.http import QueryDict
from django.test import Client

from catalog.shapes import SearchSort
from frontend.search_state import MAX_PAGE, SearchState, price_options, search_state

pytestmark = pytest.mark.django_db


def state_of(query: str) -> SearchState:
    return search_state(QueryDict(query))


def test_every_field_is_read_from_the_url():
    assert state_of(
        "q=machine+learn&category=Data+Science&level=beginner&max_price=50&sort=rating&page=3"
    ) == SearchState(
        q="machine learn",
        category="Data Science",
        level="beginner",
        max_price="50",
        sort="rating",
        page=3,
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", SearchState()),
        ("q=%20%20python%00%20", SearchState(q="python")),
        ("level=guru&sort=cheapest&page=-1&max_price=abc", SearchState()),
        ("page=0", SearchState()),
        ("page=2.5", SearchState()),
        ("page=99999", SearchState()),
        ("page=9999", SearchState(page=MAX_PAGE)),
        ("page=%D9%A3", SearchState()),  # an Arabic-Indic digit is not a page number
        ("max_price=025.00", SearchState(max_price="25")),
        ("max_price=25.50", SearchState(max_price="25.50")),
        ("max_price=1e3", SearchState()),
        ("q=a&q=b", SearchState(q="a")),  # the first of a repeated name, as the script
        ("utm_source=mail&fbclid=x", SearchState()),
    ],
)
def test_unknown_and_malformed_parameters_fall_back_to_defaults(query, expected):
    assert state_of(query) == expected


def test_long_values_are_cut_to_what_the_api_takes():
    state = state_of(f"q={'x' * 500}&category={'c' * 100}")
    assert len(state.q) == 200 and len(state.category) == 80


def test_the_sort_options_are_the_apis():
    assert [value for value, _ in SearchSort.choices] == [
        "relevance",
        "popular",
        "rating",
        "price",
        "-price",
        "newest",
    ]
    for value in SearchSort.values:
        assert state_of(f"sort={value}").sort == value


def test_a_price_from_the_url_joins_the_steps():
    assert price_options(SearchState()) == [
        ("0", "Free"),
        ("25", "Up to $25"),
        ("50", "Up to $50"),
        ("100", "Up to $100"),
    ]
    assert ("30", "Up to $30") in price_options(SearchState(max_price="30"))


def test_the_page_renders_the_state_title_description_and_form():
    response = Client().get(
        "/search?q=machine+learn&category=Data+Science&level=beginner&max_price=30&sort=rating"
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "<title>Search: machine learn · Learning Portal</title>" in body
    description = re.search(r'<meta name="description" content="([^"]*)">', body).group(1)
    assert "machine learn" in html.unescape(description)
    assert body.count('<meta name="description"') == 1
    assert "Results for “machine learn”" in body
    assert 'name="q"' in body and 'value="machine learn"' in body
    assert '<option value="Data Science" selected>Data Science</option>' in body
    assert '<option value="beginner" selected>Beginner</option>' in body
    assert '<option value="30" selected>Up to $30</option>' in body
    assert '<option value="rating" selected>Highest rated</option>' in body
    assert 'action="/search" method="get" role="search"' in body
    assert 'src="/static/js/pages/search.js"' in body
    assert response.cookies.get("csrftoken") is not None


def test_without_a_query_it_lists_every_course():
    body = Client().get("/search").content.decode()
    assert "<title>Search courses · Learning Portal</title>" in body
    assert "All courses" in body


@pytest.mark.parametrize(
    "query",
    [
        "q=%3Cscript%3Ealert(1)%3C/script%3E",
        'q="><img src=x onerror=alert(1)>',
        "category=%22%3E%3Cb%3E",
        "q=%00%01%02",
        "q=%FF%FE",
        "next=//evil.example&url=https://evil.example",
        "page=1e309&max_price=NaN&level[]=x",
    ],
)
def test_hostile_parameters_are_escaped_ignored_and_never_fail(query):
    response = Client().get(f"/search?{query}")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<script>alert" not in body
    assert "<img src=x" not in body
    assert "<b>" not in body
    # Only inside the sign-in link's encoded `next` (which the sign-in page checks).
    assert not re.search(r'(href|action|src)="(https?:)?//evil', body)
    assert "Location" not in response.headers


def test_home_keeps_its_filters_from_the_url():
    body = Client().get("/?q=rust&level=advanced&max_price=0&sort=rating").content.decode()
    assert 'value="rust"' in body
    assert '<option value="advanced" selected>Advanced</option>' in body
    assert '<option value="0" selected>Free</option>' in body
    assert 'id="filter-sort"' not in body  # the home grid has no sort


def _page_size(module: str, name: str) -> int:
    source = (Path(settings.BASE_DIR) / "frontend/static/js" / module).read_text()
    return int(re.search(rf"const {name} = (\d+);", source).group(1))


@pytest.mark.parametrize(
    ("path", "grid", "module", "name"),
    [
        ("/", "course-grid", "pages/home.js", "GRID_SIZE"),
        ("/search?q=python", "results", "searchstate.js", "PAGE_SIZE"),
    ],
)
def test_the_first_page_of_cards_has_its_place_before_scripts_run(path, grid, module, name):
    """As many placeholder cards as the script's first page, in the HTML: the cards that
    replace them move nothing below (no layout shift while the grid loads)."""
    body = Client().get(path).content.decode()
    listing = re.search(rf'<ol id="{grid}"[^>]*>(.*?)</ol>', body, re.S).group(1)
    placeholders = re.findall(r'<li class="course-item" aria-hidden="true">', listing)
    assert len(placeholders) == _page_size(module, name)
    assert listing.count("course-card skeleton") == len(placeholders)
