"""The results page, /search?q=&category=&level=&max_price=&sort=&page=: reached by Enter,
every result a page at a time, the filters and sort in the URL, and Back returning to the
same place (filters, sort, the pages loaded and the scroll position)."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import check_both_widths, screenshot, wait_live
from tests.factories import make_course

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LEVELS = ("beginner", "intermediate", "advanced")


@pytest.fixture
def machine_learning():
    """Demo-like courses whose titles name machine learning (so the journey passes whether
    or not search also matches category names), more beginner ones than a page holds,
    each with a rating of its own, and a few other courses."""
    courses = []
    for n in range(40):
        # 30 beginner, 5 intermediate, 5 advanced
        level = "beginner" if n % 4 != 3 else LEVELS[1 if n % 8 == 3 else 2]
        courses.append(
            make_course(
                title=f"Machine Learning Workshop {n + 1:02d}",
                slug=f"machine-learning-workshop-{n + 1:02d}",
                summary="Models, features and evaluation, hands-on with real data sets.",
                category="Machine Learning",
                level=level,
                price=f"{10 + n}.00",
                capacity=20 + n if n % 3 == 0 else None,
                rating=Decimal("3.00") + Decimal(n % 20) / 10,
            )
        )
    for title, category in [
        ("Kubernetes in Production", "DevOps"),
        ("Watercolour Landscapes", "Design"),
    ]:
        make_course(title=title, category=category, summary=f"All about {title}.")
    return courses


def ratings(page) -> list[float]:
    texts = page.locator("#results .course-card .rating").all_inner_texts()
    return [float(re.search(r"\d\.\d", text).group()) for text in texts]


def test_a_visitor_searches_filters_sorts_opens_a_course_and_comes_back(new_page, machine_learning):
    page = new_page()
    page.goto("/")
    wait_live(page)
    box = page.locator("#search-input")
    box.press_sequentially("machine learn", delay=60)
    expect(page.locator("#search-listbox [role=option]").first).to_be_visible()
    with page.expect_navigation():
        box.press("Enter")
    assert page.url.endswith("/search?q=machine+learn")
    expect(page).to_have_title("Search: machine learn · Learning Portal")
    expect(page.locator("h1")).to_have_text("Results for “machine learn”")
    expect(page.locator("#results-status")).to_have_text("40 results for “machine learn”")
    cards = page.locator("#results .course-card")
    expect(cards).to_have_count(24)  # one page, more than the drop-down's 8
    expect(page.locator("#results-more")).to_be_visible()
    check_both_widths(page, "search-results")

    # Filter by level: a new history entry, the URL says so.
    page.select_option("#filter-level", "beginner")
    expect(page).to_have_url(re.compile(r"/search\?q=machine\+learn&level=beginner$"))
    expect(page.locator("#results-status")).to_have_text("30 results for “machine learn”")
    expect(cards.locator(".chip.level-beginner")).to_have_count(24)

    # Sort by rating.
    page.select_option("#filter-sort", "rating")
    expect(page).to_have_url(re.compile(r"/search\?q=machine\+learn&level=beginner&sort=rating$"))
    expect(cards).to_have_count(24)
    expect(page.locator("#results")).to_have_attribute("aria-busy", "false")
    shown = ratings(page)
    assert shown == sorted(shown, reverse=True), shown

    # Load more: the second page joins the first, focus moves to its first card.
    page.click("#results-more")
    expect(cards).to_have_count(30)
    expect(page).to_have_url(re.compile(r"&sort=rating&page=2$"))
    focused = page.evaluate("document.activeElement.closest('.course-item') !== null")
    assert focused
    first_new = cards.nth(24).locator(".course-card-title a")
    expect(first_new).to_be_focused()
    expect(page.locator("#results-more")).to_be_hidden()
    all_ratings = ratings(page)
    assert all_ratings == sorted(all_ratings, reverse=True), all_ratings

    # Open a course far down the list, then come Back.
    target = cards.nth(27)
    target.scroll_into_view_if_needed()
    page.mouse.wheel(0, 120)
    page.wait_for_timeout(400)  # the position is saved as scrolling settles
    scroll_before = page.evaluate("window.scrollY")
    assert scroll_before > 300
    url_before = page.url
    title = target.locator(".course-card-title a").inner_text()
    with page.expect_navigation():
        target.locator(".course-card-title a").click()
    expect(page.locator("h1")).to_have_text(title)

    page.go_back()
    assert page.url == url_before
    expect(cards).to_have_count(30)
    expect(page.locator("#filter-level")).to_have_value("beginner")
    expect(page.locator("#filter-sort")).to_have_value("rating")
    expect(page.locator("#search-input")).to_have_value("machine learn")
    expect(page.locator("#results-status")).to_have_text("30 results for “machine learn”")
    page.wait_for_function(f"Math.abs(window.scrollY - {scroll_before}) <= 2")
    expect(cards.nth(27).locator(".course-card-title a")).to_have_text(title)

    # Back again: the unsorted, then the unfiltered results.
    page.go_back()
    expect(page).to_have_url(re.compile(r"/search\?q=machine\+learn&level=beginner$"))
    expect(page.locator("#filter-sort")).to_have_value("relevance")
    expect(cards).to_have_count(24)
    page.go_back()
    expect(page).to_have_url(re.compile(r"/search\?q=machine\+learn$"))
    expect(page.locator("#filter-level")).to_have_value("")
    expect(page.locator("#results-status")).to_have_text("40 results for “machine learn”")


def test_machine_learn_by_category_name(new_page):
    """The demo's shape: a Machine Learning category whose course titles do not say so.
    Whether the category's name matches is the search's business; the page shows either
    the courses or an empty state that offers a way on, and no error."""
    make_course(
        title="Neural Networks from Scratch",
        slug="neural-networks",
        summary="Backpropagation by hand, then with a library.",
        category="Machine Learning",
    )
    page = new_page()
    page.goto("/")
    wait_live(page)
    box = page.locator("#search-input")
    box.press_sequentially("machine learn", delay=60)
    with page.expect_navigation():
        box.press("Enter")
    assert page.url.endswith("/search?q=machine+learn")
    status = page.locator("#results-status")
    expect(status).to_have_text(re.compile(r"(1 result|No results) for “machine learn”"))
    if status.inner_text().startswith("1 result"):
        expect(page.locator("#results .course-card")).to_contain_text("Neural Networks")
    else:
        expect(page.locator("#results-message .empty-state")).to_be_visible()


def test_the_url_is_the_state_reload_and_shared_links_show_the_same(new_page, machine_learning):
    page = new_page()
    page.goto("/search?q=workshop&level=beginner&sort=-price&page=2&utm_source=mail&max_price=x")
    wait_live(page)
    # Unknown and malformed parameters are dropped from the URL; the rest is shown.
    expect(page).to_have_url(re.compile(r"/search\?q=workshop&level=beginner&sort=-price&page=2$"))
    cards = page.locator("#results .course-card")
    expect(cards).to_have_count(30)
    expect(page.locator("#filter-sort")).to_have_value("-price")
    prices = [
        Decimal(re.sub(r"[^\d.]", "", text))
        for text in page.locator("#results .course-card .price").all_inner_texts()
    ]
    assert prices == sorted(prices, reverse=True), prices

    # A page beyond the last shows what there is, and the URL says so.
    page.goto("/search?q=workshop&level=advanced&page=9")
    expect(cards).to_have_count(5)
    expect(page).to_have_url(re.compile(r"/search\?q=workshop&level=advanced$"))
    expect(page.locator("#results-more")).to_be_hidden()

    page.reload()
    expect(cards).to_have_count(5)
    expect(page.locator("#filter-level")).to_have_value("advanced")


def test_no_results_offers_a_way_out_and_the_filters_stay(new_page, machine_learning):
    page = new_page()
    page.goto("/search?q=workshop&category=Machine+Learning")
    wait_live(page)
    expect(page.locator("#results .course-card")).to_have_count(24)
    box = page.locator("#search-input")
    box.fill("qqxzv")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=qqxzv&category=Machine\+Learning$"))
    expect(page.locator("#results-status")).to_have_text("No results for “qqxzv”")
    empty = page.locator("#results-message .empty-state")
    expect(empty).to_contain_text("No courses match “qqxzv” with these filters.")
    # Every category is still listed; the chosen one stays chosen (at 0).
    options = page.locator("#filter-category option")
    expect(options).to_have_count(4)
    expect(page.locator("#filter-category")).to_have_value("Machine Learning")
    check_both_widths(page, "search-no-results")

    empty.get_by_role("button", name="Clear filters").click()
    expect(page).to_have_url(re.compile(r"/search\?q=qqxzv$"))
    expect(page.locator("#filter-category")).to_have_value("")
    expect(options).to_have_count(4)

    box.fill("")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search$"))
    expect(page.locator("h1")).to_have_text("All courses")
    expect(page.locator("#results-status")).to_have_text("42 results")


def test_escape_on_the_results_page_and_focus_after_load_more_on_home(new_page, machine_learning):
    page = new_page()
    page.goto("/search?q=workshop")
    wait_live(page)
    box = page.locator("#search-input")
    box.focus()
    box.press("End")
    box.press_sequentially(" 1", delay=60)
    expect(page.locator("#search-popup")).to_be_visible()
    box.press("Escape")
    expect(page.locator("#search-popup")).to_be_hidden()
    expect(box).to_have_value("workshop 1")
    box.press("Escape")
    expect(box).to_have_value("")
    # The committed search stays until Enter.
    expect(page.locator("#results .course-card")).to_have_count(24)

    page.goto("/")
    wait_live(page)
    grid = page.locator("#course-grid .course-card")
    expect(grid).to_have_count(12)
    page.click("#load-more")
    expect(grid).to_have_count(24)
    expect(grid.nth(12).locator(".course-card-title a")).to_be_focused()
    expect(page).to_have_url(re.compile(r"/\?page=2$"))
    grid.nth(20).scroll_into_view_if_needed()
    page.wait_for_timeout(400)
    scroll_before = page.evaluate("window.scrollY")
    with page.expect_navigation():
        grid.nth(20).locator(".course-card-title a").click()
    page.go_back()
    expect(grid).to_have_count(24)
    page.wait_for_function(f"Math.abs(window.scrollY - {scroll_before}) <= 2")


def test_did_you_mean_and_an_estimated_total(new_page, machine_learning):
    make_course(
        title="Python for Data Analysis",
        slug="python-for-data-analysis",
        summary="Clean, explore and chart data with pandas.",
        category="Data Science",
    )
    page = new_page()
    page.goto("/search?q=pyhton")  # a typo
    wait_live(page)
    cards = page.locator("#results .course-card")
    expect(cards).to_have_count(1)
    suggestion = page.locator("#results-suggestion")
    expect(suggestion).to_have_text("Did you mean python?")
    check_both_widths(page, "search-suggestion")
    page.emulate_media(color_scheme="dark")  # highlights, ratings, seats in dark mode too
    screenshot(page, "search-suggestion-dark")
    assert_accessible(page)
    page.emulate_media(color_scheme="light")
    suggestion.get_by_role("link", name="python").click()
    expect(page).to_have_url(re.compile(r"/search\?q=python$"))
    expect(page.locator("h1")).to_have_text("Results for “python”")
    expect(suggestion).to_be_hidden()
    expect(cards).to_have_count(1)

    # A total counted only up to a cap reads "about N results".
    def estimated(route):
        body = route.fetch().json()
        route.fulfill(json={**body, "total": 12000, "total_is_estimate": True})

    page.route("**/api/search?*", estimated)
    page.goto("/search?q=workshop")
    expect(page.locator("#results-status")).to_have_text("about 12,000 results for “workshop”")
    expect(cards).to_have_count(24)
    expect(page.locator("#results-more")).to_be_visible()
