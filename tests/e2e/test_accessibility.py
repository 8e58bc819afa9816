"""axe-core on every page, in the light and the dark colour scheme (Chromium's
`prefers-color-scheme`), for a visitor, a student and an instructor: no violation of any
rule of axe's default set (WCAG 2.x A and AA, best practices), colour contrast included.
The states that only show after an action are visited too: the search popup with its
highlighted matches, the dashboard's Completed tab, a completed lesson.

Also in both schemes: every element reached with Tab shows a focus ring of 3:1 or more
against the page behind it, and the course page, rendered on the server, does not move
when its script renders the fresh answer over it (no layout shift).
"""

from collections.abc import Callable, Iterator

import pytest
from django.test import Client
from playwright.sync_api import expect

from catalog.content import markdown_render
from catalog.models import Lesson
from enrollment.models import Certificate, Receipt
from tests.e2e.axe import axe_violations, describe
from tests.e2e.conftest import WATCH_CSP, csp_violations, sign_in, wait_live
from tests.e2e.data import enroll, lesson_ids, record_progress
from tests.factories import PASSWORD, make_course, make_instructor, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCHEMES = ["light", "dark"]
LESSON_BODY = """## Reading a file

Open it with a context manager, so it is closed whatever happens:

```python
with open("data.csv") as handle:
    rows = [line.split(",") for line in handle]  # one list per row
```

> Tip: `pathlib.Path.read_text()` does it in one call.
"""


@pytest.fixture
def portal():
    teacher = make_instructor(email="grace@example.com", name="Grace Hopper")
    python = make_course(
        title="Python for Data Analysis",
        slug="python-for-data-analysis",
        summary="Clean, explore and chart real data sets with pandas and matplotlib.",
        description="Hands-on from the first lesson.\n\nEach module ends with a small project.",
        category="Data Science",
        price="49.00",
        capacity=30,
        instructor=teacher,
        modules=2,
        lessons_per_module=3,
        rating="4.70",
    )
    free = make_course(
        title="Python Foundations",
        slug="python-foundations",
        summary="A free primer on Python basics.",
        level="intermediate",
        instructor=teacher,
        modules=1,
        lessons_per_module=2,
    )
    make_course(
        title="Kubernetes in Production",
        slug="kubernetes-in-production",
        summary="Deployments, autoscaling and observability.",
        category="DevOps",
        level="advanced",
        price="129.00",
        capacity=1,
        seats_taken=1,  # full: the waitlist instead of the form
        modules=1,
        lessons_per_module=1,
    )
    make_course(title="Rust Drafts", slug="rust-drafts", instructor=teacher, published=False)
    lessons = lesson_ids(python)
    Lesson.objects.filter(pk__in=lessons).update(
        body=LESSON_BODY, body_html=markdown_render(LESSON_BODY)
    )
    Lesson.objects.filter(pk=lessons[0]).update(preview=True)

    student = make_user(email="sam@example.com", name="Sam Student")
    paid = enroll(student, python, "pm_card_visa")
    record_progress(paid, lessons[0], completed=True, position=60)
    record_progress(paid, lessons[1], position=30)
    finished = enroll(student, free)
    for lesson in lesson_ids(free):
        record_progress(finished, lesson, completed=True)
    return {
        "paid": paid,
        "completed_lesson": lessons[0],
        "preview_lesson": lessons[0],
        "receipt": Receipt.objects.get(enrollment=paid).number,
        "certificate": Certificate.objects.get(enrollment=finished).code,
        "draft": "rust-drafts",
    }


@pytest.fixture
def scheme_page(browser, server, console) -> Iterator[Callable[[str], object]]:
    """scheme_page("dark") → a page in a fresh context with that colour scheme."""
    contexts = []

    def make(scheme: str):
        context = browser.new_context(
            viewport={"width": 1280, "height": 800}, base_url=server.url, color_scheme=scheme
        )
        context.add_init_script(WATCH_CSP)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        console.watch(page)
        return page

    yield make
    for context in contexts:
        context.close()


# (name, path, what shows once the page has loaded its data, an action before axe runs)
def guest_pages(data) -> list[tuple]:
    return [
        ("home", "/", "#course-grid .course-card", None),
        ("home-search", "/", "#course-grid .course-card", type_a_search),
        ("search", "/search?q=python", None, None),
        ("course", "/courses/python-for-data-analysis", "#enroll-submit:enabled", None),
        ("course-free", "/courses/python-foundations", "#enroll-submit:enabled", None),
        ("course-full", "/courses/kubernetes-in-production", "#waitlist:not([hidden])", None),
        ("course-missing", "/courses/no-such-course", None, None),
        ("lesson-preview", f"/lessons/{data['preview_lesson']}", "#lesson-body h2", None),
        ("signin", "/signin", None, None),
        ("register", "/register", None, None),
        ("forgot-password", "/forgot-password", None, None),
        ("reset-password", "/reset-password?token=not-a-real-token", None, None),
        ("verify-email", "/verify-email?token=not-a-real-token", None, None),
        ("claim", "/claim?token=not-a-real-token", None, None),
        ("dashboard-signed-out", "/dashboard", None, None),
        ("account-signed-out", "/account", None, None),
        ("receipt-signed-out", f"/receipts/{data['receipt']}", None, None),
        ("certificate", f"/certificates/{data['certificate']}", "#certificate-code", None),
        ("certificate-missing", "/certificates/NOPE-NOPE-NOPE-NOPE", None, None),
        ("not-found", "/no-such-page", "h1", None),
    ]


def student_pages(data) -> list[tuple]:
    enrollment = data["paid"].pk
    return [
        ("dashboard", "/dashboard", "#enrollments .enrollment-card", None),
        ("dashboard-completed", "/dashboard", "#enrollments .enrollment-card", open_completed),
        ("lesson", f"/learn/{enrollment}/{data['completed_lesson']}", "#complete.done", None),
        ("course-enrolled", "/courses/python-for-data-analysis", "#already:not([hidden])", None),
        ("account", "/account", "#profile-form", None),
        ("receipt", f"/receipts/{data['receipt']}", None, None),
        ("receipt-missing", "/receipts/R-NOPE", None, None),
    ]


def instructor_pages(data) -> list[tuple]:
    return [
        ("instructor", "/instructor", "#revenue tbody tr", None),
        ("course-author", "/courses/python-for-data-analysis", "#author-card", None),
        ("course-draft", f"/courses/{data['draft']}", "#author-card", None),
        ("studio", "/studio", "#studio-courses .studio-course", None),
        ("studio-new", "/studio/new", "#new-course-form", None),
        (
            "studio-course",
            "/studio/courses/python-for-data-analysis",
            "#modules .studio-lesson",
            None,
        ),
        ("studio-lesson", f"/studio/lessons/{data['preview_lesson']}", "#lesson-form", None),
        ("studio-missing", "/studio/courses/no-such-course", None, None),
    ]


def not_found_as_in_production(page, server) -> None:
    """An unknown address answers the portal's 404 page (frontend/templates/404.html) with
    DEBUG off; the browser tests' server runs with DEBUG on (Django's technical 404, inline
    styles and all), so the page comes from this process, where DEBUG is off as in
    production, under the same Content-Security-Policy. Chromium counts a document made
    up this way as from the public internet and refuses its socket to 127.0.0.1 (Local
    Network Access), so the page stays offline: axe checks it in that state."""
    answer = Client().get("/no-such-page", HTTP_HOST=server.url.removeprefix("http://"))
    assert answer.status_code == 404
    headers = {
        "content-type": answer["Content-Type"],
        "content-security-policy": answer["Content-Security-Policy"],
    }
    page.route(
        "**/no-such-page",
        lambda route: route.fulfill(status=404, headers=headers, body=answer.content),
    )


def type_a_search(page) -> None:
    page.locator("#search-input").press_sequentially("pyth", delay=30)
    expect(page.locator("#search-listbox [role=option] mark").first).to_be_visible()


def open_completed(page) -> None:
    page.locator("#tab-completed").click()
    expect(page.locator("#completed .badge.status-completed").first).to_be_visible()


# Pages whose socket never connects (see not_found_as_in_production).
OFFLINE = {"not-found"}

ROLES = {
    "visitor": (None, guest_pages),
    "student": ("sam@example.com", student_pages),
    "instructor": ("grace@example.com", instructor_pages),
}


def visit_all(page, pages) -> dict[str, list[str]]:
    """axe's violations on each page (by name), none when the page is clean."""
    found = {}
    for name, path, ready, action in pages:
        try:
            page.goto(path)
            if name not in OFFLINE:
                wait_live(page)
            if ready:
                expect(page.locator(ready).first).to_be_attached()
            page.wait_for_load_state("networkidle")
            if action:
                action(page)
            violations = describe(axe_violations(page))
            assert csp_violations(page) == []
        except Exception as exc:
            exc.add_note(f"on the page {name!r} ({path})")
            raise
        if violations:
            found[name] = violations
    return found


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("role", ROLES)
def test_axe_finds_no_violation_on_any_page(scheme_page, server, console, portal, role, scheme):
    # Pages that answer 404 on purpose (the browser logs each such answer).
    console.allow("status of 404", "ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS")
    email, pages = ROLES[role]
    page = scheme_page(scheme)
    if email:
        sign_in(page, email, PASSWORD)
    not_found_as_in_production(page, server)
    assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") == (scheme == "dark")
    assert visit_all(page, pages(portal)) == {}


# --- the focus ring ---------------------------------------------------------------------

# The focused element's ring (its outline, or a box-shadow ring on it or on the card or
# option around it) and the colour it is drawn against (the nearest opaque background
# around the element).
FOCUS_RING = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const rgb = (value) => (value.match(/[\\d.]+/g) || []).map(Number);
  let ring = null;
  const style = getComputedStyle(el);
  if (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2) ring = style.outlineColor;
  for (let node = el; !ring && node && node !== document.body; node = node.parentElement) {
    const shadow = getComputedStyle(node).boxShadow.match(/(rgba?\\([^)]*\\)) 0px 0px 0px ([\\d.]+)px/);
    if (shadow && parseFloat(shadow[2]) >= 2) ring = shadow[1];
  }
  let behind = null;
  for (let node = el.parentElement; node; node = node.parentElement) {
    const colour = rgb(getComputedStyle(node).backgroundColor);
    if (colour.length === 3 || colour[3] === 1) { behind = colour.slice(0, 3); break; }
  }
  const label = `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""} ${(el.textContent || el.value || "").trim().slice(0, 30)}`;
  return { label, ring: ring && rgb(ring), behind: behind || rgb(getComputedStyle(document.documentElement).backgroundColor) };
}"""


def luminance(rgb: list[float]) -> float:
    def channel(value: float) -> float:
        value /= 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(v) for v in rgb[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(one: list[float], other: list[float]) -> float:
    lighter, darker = sorted((luminance(one), luminance(other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def focus_rings(page, stops: int = 45) -> list[dict]:
    """Tab through the page from the top: each stop's ring and what is behind it."""
    page.locator("body").click(position={"x": 1, "y": 1})
    seen = []
    for _ in range(stops):
        page.keyboard.press("Tab")
        page.evaluate(SETTLE)
        stop = page.evaluate(FOCUS_RING)
        if stop is None or (seen and stop["label"] == seen[0]["label"]):
            break
        seen.append(stop)
    return seen


SETTLE = "() => Promise.allSettled(document.getAnimations().map((a) => a.finished))"


@pytest.mark.parametrize("scheme", SCHEMES)
def test_every_element_reached_with_tab_shows_a_ring_of_3_to_1(scheme_page, portal, scheme):
    """Links, buttons, fields, selects, radios, course cards (the ring on the card), the
    studio's inline title fields and drag handles."""
    page = scheme_page(scheme)
    weak = []
    visitor = ("/", "/courses/python-for-data-analysis", "/signin")
    instructor = ("/studio/courses/python-for-data-analysis", "/studio/new")
    for path in (*visitor, *instructor):
        if path == instructor[0]:
            sign_in(page, "grace@example.com", PASSWORD, next_path="/studio")
        page.goto(path)
        wait_live(page)
        page.wait_for_load_state("networkidle")
        stops = focus_rings(page)
        assert len(stops) >= 5, (path, stops)
        for stop in stops:
            ratio = stop["ring"] and contrast(stop["ring"], stop["behind"])
            if not ratio or ratio < 3 or (len(stop["ring"]) == 4 and stop["ring"][3] < 1):
                weak.append(f"{path} {stop['label']}: ring {stop['ring']} on {stop['behind']}")
    assert weak == []


# --- the course page: in the HTML, and still when its script has run ---------------------

# Each part as a canonical string: tags, sorted attributes and text, whitespace collapsed.
CANONICAL = """(selectors) => {
  const canon = (node) => {
    if (node.nodeType === Node.TEXT_NODE) return node.textContent.replace(/\\s+/g, " ").trim();
    if (node.nodeType !== Node.ELEMENT_NODE) return "";
    const attrs = [...node.attributes].map((a) => `${a.name}="${a.value}"`).sort().join(" ");
    const inner = [...node.childNodes].map(canon).filter(Boolean).join("|");
    return `<${node.tagName.toLowerCase()} ${attrs}>${inner}</>`;
  };
  return Object.fromEntries(selectors.map((s) => [s, canon(document.querySelector(s))]));
}"""
COURSE_PARTS = [
    "#crumb",
    "#course-header",
    "#about",
    "#curriculum-section",
    "#course-price",
    "#seats",
    "#refund-terms",
    "#payment",
    "#coupon-field",
]
# Layout shifts since the page started loading, but the header's connection status (its
# label shortens from "Connecting…" to "Live", by design), each with what moved.
LAYOUT_SHIFTS = """() => new Promise((resolve) => {
  const outsideHeader = (source) => !source.node?.closest?.(".site-header");
  new PerformanceObserver((list) => resolve(list.getEntries()
    .filter((entry) => entry.sources.some(outsideHeader))
    .map((entry) => ({
      value: entry.value,
      moved: entry.sources.map((source) => source.node?.outerHTML?.slice(0, 80) ?? "?"),
    })))).observe({ type: "layout-shift", buffered: true });
  setTimeout(() => resolve([]), 1000);
})"""


@pytest.mark.parametrize("width", [1280, 412])
def test_the_course_page_is_in_the_html_and_its_script_moves_nothing(
    browser, server, portal, width
):
    path = "/courses/python-for-data-analysis"
    context = browser.new_context(viewport={"width": width, "height": 823}, base_url=server.url)
    try:
        # Without its script: what the server sent.
        bare = context.new_page()
        bare.route("**/js/pages/course*.js", lambda route: route.abort())
        bare.goto(path)
        expect(bare.locator("h1")).to_have_text("Python for Data Analysis")
        assert bare.title() == "Python for Data Analysis · Learning Portal"
        description = bare.locator('meta[name="description"]')
        expect(description).to_have_attribute(
            "content", "Clean, explore and chart real data sets with pandas and matplotlib."
        )
        served = bare.evaluate(CANONICAL, COURSE_PARTS)

        page = context.new_page()
        page.goto(path)
        wait_live(page)
        expect(page.locator("#enroll-submit")).to_be_enabled()
        page.wait_for_load_state("networkidle")
        assert page.evaluate(CANONICAL, COURSE_PARTS) == served
        assert page.evaluate(LAYOUT_SHIFTS) == []
    finally:
        context.close()
