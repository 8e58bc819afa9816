"""Search as you type on the home page: streamed over the socket, highlighted, typo
tolerant, keyboard driven (the APG combobox pattern), following the typing, with the HTTP
fallback when the socket is down; the grid below shows the same results while a query is
active, and the filters never get stuck empty."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import check_both_widths, sign_in, wait_live
from tests.factories import PASSWORD, make_course, make_user

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
            capacity=30,
            rating="4.60",
        ),
        "rust": make_course(
            title="Rust Systems Programming",
            slug="rust-systems",
            summary="A hands-on course on ownership, lifetimes and fearless concurrency.",
            category="Programming",
            level="advanced",
            price="79.00",
            capacity=8,
            seats_taken=8,
        ),
        "go": make_course(
            title="Go Microservices",
            slug="go-microservices",
            summary="A hands-on course: small, fast network services in Go.",
            category="Programming",
            level="intermediate",
            price="0.00",
            rating="4.90",
        ),
    }


def type_query(page, text: str, delay: int = 40) -> None:
    box = page.locator("#search-input")
    box.fill("")
    box.press_sequentially(text, delay=delay)


def test_typing_a_prefix_shows_highlighted_results_and_a_typo_still_finds_the_course(
    new_page, catalog
):
    page = new_page()
    page.goto("/")
    wait_live(page)

    type_query(page, "pyth")
    combobox = page.locator("#search-input")
    expect(combobox).to_have_attribute("aria-expanded", "true")
    options = page.locator("#search-listbox [role=option]")
    expect(options.first).to_contain_text("Python for Data Analysis")
    expect(options.first.locator(".option-title mark")).to_have_text(re.compile("^pyth", re.I))
    expect(page.locator("#search-status")).to_have_text(re.compile(r"^\d+ results?$"))
    # The answer came over the socket; which engine answered is not shown to visitors.
    search = page.locator("#search")
    expect(search).to_have_attribute("data-via", "socket")
    expect(search).to_have_attribute("data-engine", re.compile("postgres|sqlite|meilisearch"))
    expect(page.locator("#search-popup")).not_to_contain_text(
        re.compile("postgres|sqlite|meilisearch", re.I)
    )

    # The grid below shows the same results, with a cover, rating and seats.
    grid = page.locator("#course-grid .course-card")
    expect(page.locator("#browse-title")).to_have_text("Results for “pyth”")
    expect(grid).to_have_count(1)
    card = grid.first
    expect(card.locator(".course-card-title mark")).to_have_text(re.compile("^pyth", re.I))
    expect(card.locator("svg.course-cover")).to_be_visible()
    expect(card.locator(".rating")).to_have_text("★Rated 4.6 out of 5")
    expect(card.locator(".seats-left")).to_have_text("30 seats left")
    expect(page.locator("#see-all")).to_have_text("See 1 result")
    expect(page.locator("#see-all")).to_have_attribute("href", "/search?q=pyth")

    type_query(page, "pyhton")  # a typo
    expect(options.first).to_contain_text("Python for Data Analysis")
    expect(options).to_have_count(2)  # the course, then "See 1 result"
    expect(page.locator("#search-status")).to_have_text("1 result")

    # Clearing the box brings the catalog back into the grid.
    combobox.fill("")
    expect(page.locator("#browse-title")).to_have_text("Browse courses")
    expect(grid).to_have_count(3)
    rust = page.locator("#course-grid .course-card", has_text="Rust Systems Programming")
    expect(rust.locator(".seats-left")).to_have_text("Full")
    expect(rust.locator(".rating")).to_have_text("No ratings")


def test_keyboard_navigation_opens_a_course_and_escape_closes_then_clears(new_page, catalog):
    page = new_page()
    page.goto("/")
    wait_live(page)
    combobox = page.locator("#search-input")
    type_query(page, "hands")  # every course's summary
    options = page.locator("#search-listbox [role=option]")
    expect(options.first).to_be_visible()
    expect(options).to_have_count(4)  # three courses and "See all 3 results"
    expect(options.last).to_have_text("See all 3 results →")

    combobox.press("ArrowDown")
    first_id = options.nth(0).get_attribute("id")
    expect(combobox).to_have_attribute("aria-activedescendant", first_id)
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    combobox.press("ArrowUp")  # wraps to the last
    expect(combobox).to_have_attribute("aria-activedescendant", "search-option-all")
    combobox.press("ArrowDown")  # wraps back to the first
    expect(combobox).to_have_attribute("aria-activedescendant", first_id)

    # The first Escape closes the list and keeps the query; the second clears it.
    combobox.press("Escape")
    expect(combobox).to_have_value("hands")
    expect(combobox).to_have_attribute("aria-expanded", "false")
    expect(combobox).not_to_have_attribute("aria-activedescendant", re.compile("."))
    expect(page.locator("#search-popup")).to_be_hidden()
    combobox.press("ArrowDown")  # opens it again
    expect(combobox).to_have_attribute("aria-expanded", "true")
    combobox.press("Escape")
    expect(combobox).to_have_value("hands")
    combobox.press("Escape")
    expect(combobox).to_have_value("")
    expect(combobox).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#browse-title")).to_have_text("Browse courses")

    type_query(page, "rust")
    expect(options.first).to_contain_text("Rust Systems Programming")
    combobox.press("ArrowDown")
    with page.expect_navigation():
        combobox.press("Enter")
    assert page.url.endswith("/courses/rust-systems")
    expect(page.locator("h1")).to_have_text("Rust Systems Programming")


def test_enter_and_see_all_lead_to_the_results_page(new_page, catalog):
    page = new_page()
    page.goto("/")
    wait_live(page)
    combobox = page.locator("#search-input")
    type_query(page, "hands")
    expect(page.locator("#search-listbox [role=option]")).to_have_count(4)
    with page.expect_navigation():
        combobox.press("Enter")
    assert page.url.endswith("/search?q=hands")
    expect(page.locator("#results .course-card")).to_have_count(3)
    expect(page.locator("#results-status")).to_have_text("3 results for “hands”")

    page.go_back()
    expect(page.locator("#search-input")).to_have_value("hands")
    expect(page.locator("#course-grid .course-card")).to_have_count(3)
    combobox.focus()
    page.select_option("#filter-level", "advanced")
    combobox.focus()
    option = page.locator("#search-option-all")
    expect(option).to_have_text("See 1 result →")
    with page.expect_navigation():
        option.click()
    assert page.url.endswith("/search?q=hands&level=advanced")
    expect(page.locator("#results .course-card")).to_have_count(1)
    expect(page.locator("#filter-level")).to_have_value("advanced")


def test_a_facet_filter_narrows_the_results(new_page, catalog):
    page = new_page()
    page.goto("/")
    wait_live(page)
    type_query(page, "hands")
    options = page.locator("#search-listbox [role=option]")
    expect(options).to_have_count(4)
    # The level select was rebuilt from the answer's facets, with counts.
    expect(page.locator("#filter-level option[value=advanced]")).to_have_text(
        re.compile(r"Advanced \(\d+\)")
    )
    page.select_option("#filter-level", "advanced")
    page.locator("#search-input").focus()
    expect(options).to_have_count(2)
    expect(options.first).to_contain_text("Rust Systems Programming")
    # The course grid below follows the same filter, and the URL keeps it all.
    expect(page.locator("#course-grid .course-card")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"/\?q=hands&level=advanced$"))


def test_filters_come_back_after_a_search_without_results(new_page, catalog):
    page = new_page()
    page.goto("/")
    wait_live(page)
    category = page.locator("#filter-category option")
    expect(category).to_have_text(
        ["All categories", re.compile(r"Programming \(2\)"), re.compile(r"Data Science \(1\)")]
    )
    page.select_option("#filter-category", "Programming")
    expect(page.locator("#course-grid .course-card")).to_have_count(2)

    type_query(page, "zzqxv")
    expect(page.locator("#search-status")).to_have_text("No results")
    # Said once, below, with its ways out (the box's own message stays hidden here).
    expect(page.locator("#course-grid-message")).to_contain_text(
        "No courses match “zzqxv” with these filters."
    )
    expect(page.get_by_text(re.compile("No courses match"))).to_have_count(1)
    expect(page.locator("#search-empty")).to_be_hidden()
    # Every category and level is still offered (at 0), the chosen one still chosen.
    expect(category).to_have_count(3)
    expect(page.locator("#filter-category")).to_have_value("Programming")
    expect(page.locator("#filter-level option")).to_have_count(4)
    check_both_widths(page, "home-no-results")

    page.click("#clear-filters")
    expect(page.locator("#filter-category")).to_have_value("")
    expect(category).to_have_count(3)
    page.locator("#search-input").fill("")
    expect(category).to_have_text(
        ["All categories", re.compile(r"Programming \(2\)"), re.compile(r"Data Science \(1\)")]
    )
    expect(page.locator("#course-grid .course-card")).to_have_count(3)


def test_results_follow_the_typing(new_page, catalog):
    """At an ordinary typing speed (one key every 150 ms) the drop-down shows answers while
    the text is still being typed, not only after a pause. No time limit is asserted (a
    shared machine is noisy); the latency measured is in the issue's note."""
    page = new_page()
    page.goto("/")
    wait_live(page)
    page.evaluate(
        """() => {
          window.__keys = [];
          window.__renders = [];
          const box = document.getElementById("search-input");
          box.addEventListener("input", () => window.__keys.push(performance.now()));
          new MutationObserver(() => window.__renders.push(performance.now()))
            .observe(document.getElementById("search-listbox"), { childList: true });
        }"""
    )
    type_query(page, "microservices", delay=150)
    expect(page.locator("#search-listbox [role=option]").first).to_contain_text("Go Microservices")
    keys = page.evaluate("window.__keys")[-len("microservices") :]
    renders = page.evaluate("window.__renders")
    # Answers arrived before the last key was typed: results follow the typing.
    assert any(keys[0] < at < keys[-1] for at in renders), (keys, renders)


def test_search_falls_back_to_http_when_the_socket_is_down(new_page, catalog):
    page = new_page()
    page.goto("/")
    wait_live(page)
    page.evaluate("window.portal.socket.close()")
    type_query(page, "micro")
    options = page.locator("#search-listbox [role=option]")
    expect(options.first).to_contain_text("Go Microservices")
    expect(options.first.locator("mark")).to_have_text(re.compile("^micro", re.I))
    expect(page.locator("#search")).to_have_attribute("data-via", "http")


# A signed-in student enrolls through the HTTP API from their own page.
ENROLL = """async (course) => {
  const csrf = document.cookie.match(/csrftoken=([^;]+)/)[1];
  const answer = await fetch("/api/enrollments", {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
    body: JSON.stringify({ course }),
  });
  return answer.status;
}"""


def test_seats_on_cards_follow_enrollments_live(new_page, catalog):
    make_course(
        title="Go Concurrency Workshop",
        slug="go-concurrency-workshop",
        summary="Goroutines and channels, one evening.",
        category="Programming",
        price="0.00",
        capacity=2,
    )
    make_user(email="ada@example.com", name="Ada Lovelace")
    home = new_page()
    home.goto("/")
    wait_live(home)
    workshop = home.locator('#course-grid [data-slug="go-concurrency-workshop"] .seats-left')
    expect(workshop).to_have_text("2 seats left")
    # Results changing at every key do not spend the socket's frame budget on watches.
    type_query(home, "programming concurrency systems go", delay=30)
    expect(home.locator("#browse-title")).to_have_text(re.compile("^Results for"))
    home.locator("#search-input").fill("")
    expect(workshop).to_have_text("2 seats left")
    expect(home.get_by_text("Slow down a little")).to_have_count(0)
    results = new_page()
    results.goto("/search?q=go")
    wait_live(results)
    found = results.locator('#results [data-slug="go-concurrency-workshop"] .seats-left')
    expect(found).to_have_text("2 seats left")

    student = new_page()
    sign_in(student, "ada@example.com", PASSWORD)
    assert student.evaluate(ENROLL, "go-concurrency-workshop") == 201

    # Both lists moved without a reload; the other cards did not.
    expect(workshop).to_have_text("1 seat left")
    expect(workshop).to_have_class(re.compile(r"\bseats-few\b"))
    expect(found).to_have_text("1 seat left")
    expect(home.locator('[data-slug="rust-systems"] .seats-left')).to_have_text("Full")
