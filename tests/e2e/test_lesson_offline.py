"""The lesson page without a connection: progress written offline is kept in the browser and
saved once when the connection is back (each write exactly once on the server); a lesson
opened once is readable offline through the service worker, which keeps no media and
forgets everything on sign-out."""

import json

import pytest
from playwright.sync_api import expect

from catalog.models import Lesson
from catalog.services import lesson_save
from enrollment.models import LessonProgress
from portal.events.models import UserEvent
from portal.idempotency.models import IdempotencyKey
from tests.e2e.conftest import sign_in, wait_live
from tests.e2e.data import enroll, lesson_ids
from tests.factories import PASSWORD, make_course, make_user

# The daphne subprocess serving Chromium reads what the test commits.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

OFFLINE = "Offline — will save when you are back online"
USER_CACHE = "portal-user-data"


@pytest.fixture
def learner():
    student = make_user(email="olive@example.com", name="Olive Offline")
    course = make_course(
        title="Networks for Beginners",
        slug="networks-for-beginners",
        price="0.00",
        modules=1,
        lessons_per_module=3,
    )
    first = Lesson.objects.filter(module__course=course).order_by("position").first()
    first.body = (
        "## Packets\n\nEvery packet carries **headers** and a payload:\n\n- source\n- target\n"
    )
    lesson_save(lesson=first)
    return {
        "student": student,
        "enrollment": enroll(student, course),
        "lessons": lesson_ids(course),
    }


def progress_writes(student) -> list[dict]:
    return [
        event.payload
        for event in UserEvent.objects.filter(user=student, type="progress.updated").order_by("seq")
    ]


def cached_paths(page, cache: str = USER_CACHE) -> list[str]:
    return page.evaluate(
        """async (name) => {
          if (!(await caches.has(name))) return [];
          const keys = await (await caches.open(name)).keys();
          return keys.map((request) => new URL(request.url).pathname);
        }""",
        cache,
    )


def wait_cached(page, paths: list[str]) -> None:
    """Until every path is in the user's cache (the worker keeps answers after it hands
    them to the page)."""
    for _ in range(100):
        if set(paths) <= set(cached_paths(page)):
            return
        page.wait_for_timeout(100)
    assert set(paths) <= set(cached_paths(page)), cached_paths(page)


def wait_for_worker(page) -> None:
    page.wait_for_function("async () => Boolean((await navigator.serviceWorker.ready).active)")


def test_progress_written_offline_is_saved_exactly_once_when_back_online(
    new_page, console, learner
):
    # Offline, the socket's reconnects fail; that is the point.
    console.allow("WebSocket connection to", "ERR_INTERNET_DISCONNECTED")
    enrollment, (first, second, _) = learner["enrollment"], learner["lessons"]
    page = new_page()
    sign_in(page, "olive@example.com", PASSWORD)
    page.goto(f"/learn/{enrollment.pk}/{first}")
    wait_live(page)
    expect(page.locator("#lesson-title")).to_have_text("Lesson 1")
    status = page.locator("#save-status")

    page.context.set_offline(True)
    # Done, undone, done again: three writes, kept in order.
    page.click("#complete")
    expect(page.locator("#complete")).to_have_attribute("aria-pressed", "true")
    expect(status).to_have_text(OFFLINE)
    expect(status).to_have_attribute("data-state", "offline")
    page.click("#complete")
    expect(page.locator("#complete")).to_have_attribute("aria-pressed", "false")
    page.click("#complete")
    expect(status).to_have_text(f"{OFFLINE} (3 changes waiting)")
    expect(page.locator("#course-progress-label")).to_have_text("1 of 3 lessons · 33%")
    queued = page.evaluate(
        f"JSON.parse(localStorage.getItem('portal.progress-queue.{learner['student'].pk}'))"
    )
    assert [entry["body"] for entry in queued] == [
        {"lesson": first, "completed": True},
        {"lesson": first, "completed": False},
        {"lesson": first, "completed": True},
    ]
    assert len({entry["key"] for entry in queued}) == 3
    # Nothing reached the server while offline.
    assert progress_writes(learner["student"]) == []
    assert not LessonProgress.objects.filter(enrollment=enrollment, completed=True).exists()

    with page.expect_response(lambda r: r.url.endswith("/progress") and r.request.method == "POST"):
        page.context.set_offline(False)
    expect(status).to_have_text("Saved")
    expect(status).to_have_attribute("data-state", "saved")

    row = LessonProgress.objects.get(enrollment=enrollment, lesson_id=first)
    assert row.completed is True
    writes = progress_writes(learner["student"])
    assert [(w["lesson"], w["completed"]) for w in writes] == [
        (first, True),
        (first, False),
        (first, True),
    ]
    keys = IdempotencyKey.objects.filter(scope=f"user:{learner['student'].pk}")
    assert sorted(keys.values_list("key", flat=True)) == sorted(e["key"] for e in queued)
    assert set(keys.values_list("state", flat=True)) == {"completed"}
    assert (
        page.evaluate(f"localStorage.getItem('portal.progress-queue.{learner['student'].pk}')")
        is None
    )

    # A write whose answer was lost is sent again by the next page: the server answers it
    # from its record and applies nothing twice.
    page.evaluate(
        "([key, entries]) => localStorage.setItem(key, JSON.stringify(entries))",
        [f"portal.progress-queue.{learner['student'].pk}", queued[:1]],
    )
    with page.expect_response(
        lambda r: r.url.endswith("/progress") and r.request.method == "POST"
    ) as replay:
        page.goto(f"/learn/{enrollment.pk}/{second}")
    assert replay.value.headers.get("idempotent-replayed") == "true"
    assert replay.value.request.headers["idempotency-key"] == queued[0]["key"]
    expect(page.locator("#save-status")).to_have_text("Saved")
    assert len(progress_writes(learner["student"])) == 3
    row.refresh_from_db()
    assert row.completed is True


def test_an_opened_lesson_reads_offline_and_sign_out_forgets_it(new_page, console, learner):
    # Offline, the socket's reconnects fail and the never-opened lesson answers 503.
    console.allow("WebSocket connection to", "ERR_INTERNET_DISCONNECTED", "status of 503")
    enrollment, (first, second, third) = learner["enrollment"], learner["lessons"]
    page = new_page()
    sign_in(page, "olive@example.com", PASSWORD)
    # A first visit: the lesson page is not served by a worker (the one the sign-in pages
    # registered is gone), registers it and hands it what it read.
    page.evaluate(
        "async () => { for (const r of await navigator.serviceWorker.getRegistrations()) await r.unregister(); }"
    )
    page.goto(f"/learn/{enrollment.pk}/{first}")
    wait_live(page)
    wait_for_worker(page)
    assert page.evaluate("performance.getEntriesByType('navigation')[0].workerStart") == 0
    lesson_page = f"/learn/{enrollment.pk}/{first}"
    reads = [
        f"/api/enrollments/{enrollment.pk}",
        "/api/courses/networks-for-beginners",
        f"/api/enrollments/{enrollment.pk}/progress",
    ]
    wait_cached(page, [lesson_page, f"/api/lessons/{first}", *reads])
    page.goto(f"/learn/{enrollment.pk}/{second}")  # through the worker this time
    wait_live(page)
    expect(page.locator("#lesson-title")).to_have_text("Lesson 2")
    assert page.evaluate("performance.getEntriesByType('navigation')[0].workerStart") > 0
    wait_cached(page, [f"/learn/{enrollment.pk}/{second}", f"/api/lessons/{second}"])
    kept = cached_paths(page)
    assert not [path for path in kept if not path.startswith(("/learn/", "/api/"))]
    shell = page.evaluate("caches.keys()")
    assert [name for name in shell if name.startswith("portal-shell-")], shell
    assert "/static/js/lesson.js" in cached_paths(
        page, next(n for n in shell if n.startswith("portal-shell-"))
    )

    page.context.set_offline(True)
    page.goto(lesson_page)
    expect(page.locator("#lesson-title")).to_have_text("Lesson 1")
    # The lesson's text itself, not only the page around it, reads offline.
    expect(page.locator("#lesson-body h2")).to_have_text("Packets")
    expect(page.locator("#lesson-body strong")).to_have_text("headers")
    expect(page.locator("#lesson-body li")).to_have_count(2)
    expect(page.locator("#lesson-list li[data-lesson]")).to_have_count(3)
    expect(page.locator("#connection")).to_have_attribute("data-state", "offline")
    # A lesson never opened here says so rather than showing the browser's error.
    never = page.goto(f"/learn/{enrollment.pk}/{third}")
    assert never.status == 503
    expect(page.locator("h1")).to_have_text("You are offline")
    page.context.set_offline(False)

    page.goto("/dashboard")
    wait_live(page)
    with page.expect_navigation():
        page.click("#sign-out")
    wait_live(page)
    assert page.evaluate(f"caches.has({json.dumps(USER_CACHE)})") is False
    assert page.evaluate("localStorage.getItem('portal.offline-owner')") is None
