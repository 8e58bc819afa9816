"""Search as you type on the home page: streamed over the socket, highlighted, typo
tolerant, keyboard driven, with the HTTP fallback when the socket is down."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import wait_live
from tests.factories import make_course

# The daphne subprocess serving Chromium reads what the test commits.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def catalog():
    return {
        "python": make_course(
            title="Python for Data Analysis",
            slug="python-for-data-analysis",
            summary="A hands-on course: clean, explore and chart data with pandas.",
            category="Data Science",
            level="beginner",
            price="49.00",
        ),
        "rust": make_course(
            title="Rust Systems Programming",
            slug="rust-systems",
            summary="A hands-on course on ownership, lifetimes and fearless concurrency.",
            category="Programming",
            level="advanced",
            price="79.00",
        ),
        "go": make_course(
            title="Go Microservices",
            slug="go-microservices",
            summary="A hands-on course: small, fast network services in Go.",
            category="Programming",
            level="intermediate",
            price="0.00",
        ),
    }


def type_query(page, text: str) -> None:
    box = page.locator("#search-input")
    box.fill("")
    box.press_sequentially(text, delay=40)


def test_typing_a_prefix_shows_highlighted_results_and_a_typo_still_finds_the_course(
    new_page, catalog
):
    page = new_page()
    page.goto("/")
    wait_live(page)
    sent = page.evaluate_handle("window.portal.socket")
    assert sent is not None

    type_query(page, "pyth")
    combobox = page.locator("#search-input")
    expect(combobox).to_have_attribute("aria-expanded", "true")
    options = page.locator("#search-listbox [role=option]")
    expect(options.first).to_contain_text("Python for Data Analysis")
    expect(options.first.locator(".option-title mark")).to_have_text(re.compile("^pyth", re.I))
    expect(page.locator("#search-status")).to_have_text(re.compile(r"^\d+ results?$"))
    # The answer came over the socket (the detail line names the engine that answered).
    expect(page.locator("#search-detail")).to_contain_text(
        re.compile("postgres|sqlite|meilisearch")
    )

    type_query(page, "pyhton")  # a typo
    expect(options.first).to_contain_text("Python for Data Analysis")
    expect(options).to_have_count(1)
    expect(page.locator("#search-status")).to_have_text("1 result")


def test_keyboard_navigation_opens_a_course_and_escape_clears(new_page, catalog):
    page = new_page()
    page.goto("/")
    wait_live(page)
    combobox = page.locator("#search-input")
    type_query(page, "hands")  # every course's summary
    options = page.locator("#search-listbox [role=option]")
    expect(options.first).to_be_visible()
    expect(options).to_have_count(3)
    count = 3

    combobox.press("ArrowDown")
    first_id = options.nth(0).get_attribute("id")
    expect(combobox).to_have_attribute("aria-activedescendant", first_id)
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    combobox.press("ArrowUp")  # wraps to the last
    expect(combobox).to_have_attribute(
        "aria-activedescendant", options.nth(count - 1).get_attribute("id")
    )
    combobox.press("ArrowDown")  # wraps back to the first
    expect(combobox).to_have_attribute("aria-activedescendant", first_id)

    combobox.press("Escape")
    expect(combobox).to_have_value("")
    expect(combobox).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#search-popup")).to_be_hidden()

    type_query(page, "rust")
    expect(options.first).to_contain_text("Rust Systems Programming")
    combobox.press("ArrowDown")
    with page.expect_navigation():
        combobox.press("Enter")
    assert page.url.endswith("/courses/rust-systems")
    expect(page.locator("h1")).to_have_text("Rust Systems Programming")


def test_a_facet_filter_narrows_the_results(new_page, catalog):
    page = new_page()
    page.goto("/")
    wait_live(page)
    type_query(page, "hands")
    options = page.locator("#search-listbox [role=option]")
    expect(options).to_have_count(3)
    # The level select was rebuilt from the answer's facets, with counts.
    expect(page.locator("#filter-level option[value=advanced]")).to_have_text(
        re.compile(r"Advanced \(\d+\)")
    )
    page.select_option("#filter-level", "advanced")
    page.locator("#search-input").focus()
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("Rust Systems Programming")
    # The course grid below follows the same filter.
    expect(page.locator("#course-grid .course-card")).to_have_count(1)


def test_search_falls_back_to_http_when_the_socket_is_down(new_page, catalog):
    page = new_page()
    page.goto("/")
    wait_live(page)
    page.evaluate("window.portal.socket.close()")
    type_query(page, "micro")
    options = page.locator("#search-listbox [role=option]")
    expect(options.first).to_contain_text("Go Microservices")
    expect(options.first.locator("mark")).to_have_text(re.compile("^micro", re.I))
