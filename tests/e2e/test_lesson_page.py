"""The lesson page a student learns from, in Chromium against the real API and media: a
video lesson with captions, transcript, speed and resume that completes itself at 90 %; a
text lesson with highlighted code and "Mark as complete"; a preview lesson anyone reads
from the course page; axe-core finds nothing at desktop and phone widths (screenshots in
test-artifacts/screenshots/)."""

import pytest
from playwright.sync_api import expect

from catalog.models import Lesson
from catalog.services import lesson_save
from enrollment.models import Certificate, LessonProgress
from tests.catalog.media import give_resource, give_video
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import (
    check_both_widths,
    csp_violations,
    screenshot,
    sign_in,
    wait_live,
)
from tests.e2e.data import enroll, record_progress
from tests.factories import PASSWORD, make_course, make_instructor, make_user

# The daphne subprocess serving Chromium reads what the test commits.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TEXT_BODY = """Python reads like plain English, which makes it a good first language.

## Loops

A `for` loop walks over any sequence:

```python
def total(prices):
    result = 0
    for price in prices:
        result += price
    return result

print(total([19.99, 5.00, 12.50, 3.25, 8.75, 42.00, 7.10, 1.99]))  # wider than a phone
```

- lists keep their order
- tuples cannot change
- dictionaries map keys to values

> Read the code aloud: if it sounds wrong, it probably is.
"""


@pytest.fixture
def course_with_content():
    instructor = make_instructor(email="grace@example.com", name="Grace Hopper")
    course = make_course(
        title="Python from Scratch",
        slug="python-from-scratch",
        price="0.00",
        instructor=instructor,
        modules=1,
        lessons_per_module=3,
    )
    text, video, preview = Lesson.objects.filter(module__course=course).order_by("position")
    text.title, text.body, text.duration_seconds = "Loops and lists", TEXT_BODY, 300
    lesson_save(lesson=text)
    video.title, video.duration_seconds = "Watch: the Python shell", 12
    lesson_save(lesson=video)
    give_video(video)
    give_resource(video, title="Python cheat sheet")
    preview.title, preview.preview = "Why Python?", True
    preview.body = (
        "Free for everyone: **why** Python is worth learning.\n\n```python\nprint('hi')\n```\n"
    )
    lesson_save(lesson=preview)
    student = make_user(email="sam@example.com", name="Sam Student")
    enrollment = enroll(student, course)
    return {
        "course": course,
        "enrollment": enrollment,
        "text": text,
        "video": video,
        "preview": preview,
    }


def open_lesson(page, enrollment, lesson) -> None:
    page.goto(f"/learn/{enrollment.pk}/{lesson.pk}")
    wait_live(page)
    expect(page.locator("#lesson-title")).to_have_text(lesson.title)
    expect(page.locator(".lesson-main")).to_have_attribute("aria-busy", "false")


def wait_for_metadata(page) -> None:
    page.wait_for_function("() => document.getElementById('video').readyState >= 1")


def video_time(page) -> float:
    return page.evaluate("document.getElementById('video').currentTime")


def seek(page, seconds: float) -> None:
    page.evaluate(
        """(t) => new Promise((resolve) => {
          const video = document.getElementById("video");
          video.addEventListener("seeked", () => resolve(), { once: true });
          video.currentTime = t;
        })""",
        seconds,
    )


def progress_of(enrollment, lesson) -> tuple[bool, int]:
    row = LessonProgress.objects.filter(enrollment=enrollment, lesson=lesson).first()
    return (row.completed, row.position_seconds) if row else (False, 0)


def test_a_video_lesson_shows_captions_and_a_transcript_resumes_and_completes_at_90_percent(
    new_page, course_with_content
):
    enrollment, video = course_with_content["enrollment"], course_with_content["video"]
    page = new_page()
    sign_in(page, "sam@example.com", PASSWORD)
    open_lesson(page, enrollment, video)
    wait_for_metadata(page)
    assert page.evaluate("document.getElementById('video').duration") == pytest.approx(12, abs=0.1)
    assert (
        page.locator("#video")
        .get_attribute("src")
        .startswith(f"{page.url.split('/learn/')[0]}/media/")
    )

    # Captions: one <track>, shown by default, its cues loaded by the browser.
    track = page.locator("#video track")
    expect(track).to_have_count(1)
    assert track.get_attribute("kind") == "captions" and track.get_attribute("srclang") == "en"
    page.wait_for_function(
        "() => document.getElementById('video').textTracks[0].cues?.length === 4"
    )
    assert page.evaluate("document.getElementById('video').textTracks[0].mode") == "showing"

    # The transcript, built from the same WebVTT: a line per cue; choosing one seeks there.
    lines = page.locator("#transcript li")
    expect(lines).to_have_count(4)
    expect(lines.nth(1)).to_contain_text("0:03")
    expect(lines.nth(1)).to_contain_text("Use the player's controls")
    lines.nth(2).get_by_role("button").click()
    page.evaluate("document.getElementById('video').pause()")
    assert 6 <= video_time(page) < 9
    expect(lines.nth(2)).to_have_attribute("aria-current", "true")
    expect(lines.nth(1)).not_to_have_attribute("aria-current", "true")
    active = page.evaluate(
        "[...document.getElementById('video').textTracks[0].activeCues].map((c) => c.text)"
    )
    assert active == ["These captions come from a WebVTT file stored beside the video."]

    # Seeking elsewhere moves the highlight; the position is saved.
    seek(page, 4.5)
    expect(lines.nth(1)).to_have_attribute("aria-current", "true")
    expect(page.locator("#save-status")).to_have_text("Saved")
    assert progress_of(enrollment, video) == (False, 4)

    # Speed, remembered in this browser.
    page.select_option("#speed", "1.5")
    assert page.evaluate("document.getElementById('video').playbackRate") == 1.5

    # Back later: the video resumes where it was, at the speed chosen.
    open_lesson(page, enrollment, video)
    wait_for_metadata(page)
    page.wait_for_function("() => document.getElementById('video').currentTime >= 4")
    assert video_time(page) == pytest.approx(4, abs=0.5)
    expect(page.locator("#resume-note")).to_contain_text("0:04")
    expect(page.locator("#speed")).to_have_value("1.5")

    # 90 % watched (10.8 s of 12): the lesson completes itself.
    expect(page.locator("#complete")).to_have_attribute("aria-pressed", "false")
    seek(page, 10.9)
    expect(page.locator("#complete")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#save-status")).to_have_text("Saved")
    expect(page.locator(f'#lesson-list [data-lesson="{video.pk}"]')).to_have_class("done")
    assert progress_of(enrollment, video)[0] is True
    expect(page.locator("#course-progress-label")).to_have_text("1 of 3 lessons · 33%")

    # Resources: downloads with their sizes.
    resource = page.get_by_role("link", name="Python cheat sheet")
    expect(resource).to_have_attribute("download", "")
    assert "/media/" in resource.get_attribute("href")
    expect(page.locator("#resource-list li")).to_contain_text("B")
    assert csp_violations(page) == []

    # The service worker kept the lesson for offline reading, but no media: their links
    # are signed and expire.
    kept: list[str] = []
    for _ in range(50):
        kept = page.evaluate(
            """async () => {
              const urls = [];
              for (const name of await caches.keys()) {
                for (const request of await (await caches.open(name)).keys()) urls.push(request.url);
              }
              return urls;
            }"""
        )
        if any(f"/api/lessons/{video.pk}" in url for url in kept):
            break
        page.wait_for_timeout(100)
    assert any(f"/api/lessons/{video.pk}" in url for url in kept), kept
    assert not [url for url in kept if "/media/" in url or url.endswith((".mp4", ".vtt"))]


def test_a_text_lesson_renders_highlighted_code_and_completes_by_hand(
    new_page, course_with_content
):
    enrollment, text = course_with_content["enrollment"], course_with_content["text"]
    # Every other lesson is done: this one finishes the course.
    for other in (course_with_content["video"], course_with_content["preview"]):
        record_progress(enrollment, other.pk, completed=True)
    page = new_page()
    sign_in(page, "sam@example.com", PASSWORD)
    open_lesson(page, enrollment, text)
    body = page.locator("#lesson-body")
    expect(body.locator("h2")).to_have_text("Loops")
    expect(body.locator("li")).to_have_count(3)
    keyword = body.locator("pre.highlight code span.k").first
    expect(keyword).to_have_text("def")
    # Coloured by the highlight stylesheet, not the body text's colour.
    colours = keyword.evaluate(
        "(k) => [getComputedStyle(k).color, getComputedStyle(k.closest('.lesson-body')).color]"
    )
    assert colours[0] != colours[1], colours
    expect(page.locator("#video-lesson")).to_be_hidden()
    expect(page.locator("#prev-lesson")).to_have_attribute("aria-disabled", "true")
    expect(page.locator("#next-lesson")).to_have_attribute(
        "href", f"/learn/{enrollment.pk}/{course_with_content['video'].pk}"
    )

    page.get_by_role("button", name="Mark as complete").click()
    expect(page.locator("#complete")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#complete")).to_have_text("✓ Completed")
    expect(page.locator("#save-status")).to_have_text("Saved")
    assert progress_of(enrollment, text)[0] is True
    # enrollment.completed, live: the certificate is one link away.
    code = Certificate.objects.get(enrollment=enrollment).code
    expect(page.locator("#lesson-notice")).to_contain_text("You have completed this course.")
    expect(page.get_by_role("link", name="See your certificate")).to_have_attribute(
        "href", f"/certificates/{code}"
    )
    expect(page.locator("#course-progress-label")).to_have_text("3 of 3 lessons · 100%")

    page.locator("#next-lesson").click()
    expect(page.locator("#lesson-title")).to_have_text(course_with_content["video"].title)


def test_a_preview_lesson_is_readable_by_anyone_from_the_course_page(
    new_page, console, course_with_content
):
    console.allow("status of 401")  # the lesson that is not a preview, asked for below
    preview = course_with_content["preview"]
    page = new_page()
    page.goto("/courses/python-from-scratch")
    wait_live(page)
    link = page.get_by_role("link", name="Why Python?")
    expect(link).to_have_attribute("href", f"/lessons/{preview.pk}")
    link.click()
    expect(page.locator("#lesson-title")).to_have_text("Why Python?")
    expect(page.locator("#lesson-body strong")).to_have_text("why")
    expect(page.locator("#lesson-module")).to_contain_text("Free preview")
    # Other lessons are listed but locked; nothing is recorded.
    expect(page.locator("#lesson-list li.locked")).to_have_count(2)
    expect(page.locator("#complete")).to_have_count(0)
    expect(page.get_by_role("link", name="Enroll to continue")).to_have_attribute(
        "href", "/courses/python-from-scratch"
    )
    screenshot(page, "lesson-preview")
    assert_accessible(page)

    # A lesson that is not a preview asks a visitor to sign in.
    page.goto(f"/lessons/{course_with_content['text'].pk}")
    expect(page.locator("#lesson-title")).to_have_text("Sign in to open this lesson")


def test_the_lesson_page_is_accessible_and_fits_at_desktop_and_phone_widths(
    new_page, course_with_content
):
    enrollment = course_with_content["enrollment"]
    page = new_page()
    sign_in(page, "sam@example.com", PASSWORD)
    for name, lesson in [
        ("text", course_with_content["text"]),
        ("video", course_with_content["video"]),
    ]:
        open_lesson(page, enrollment, lesson)
        if name == "video":
            wait_for_metadata(page)
            expect(page.locator("#transcript li")).to_have_count(4)
            seek(page, 3.5)
            expect(page.locator("#transcript li").nth(1)).to_have_attribute("aria-current", "true")
        check_both_widths(page, f"lesson-{name}")
        # Keyboard: the skip link leads to the content; controls have names.
        page.keyboard.press("Tab")
        expect(page.locator(".skip-link")).to_be_focused()


def test_the_course_outline_opens_every_lesson_once_the_student_may_learn(
    new_page, course_with_content
):
    course, lessons = course_with_content["course"], ["text", "video", "preview"]
    page = new_page()
    make_user(email="newcomer@example.com", name="New Comer")
    sign_in(page, "newcomer@example.com", PASSWORD)
    page.goto("/courses/python-from-scratch")
    wait_live(page)
    # Before enrolling: only the preview opens (in the preview page).
    expect(page.locator("#curriculum a")).to_have_count(1)
    expect(page.get_by_role("link", name="Why Python?")).to_have_attribute(
        "href", f"/lessons/{course_with_content['preview'].pk}"
    )

    page.click("#enroll-submit")
    expect(page.get_by_role("link", name="Start learning")).to_be_visible()
    enrollment = course.enrollments.get(student__email="newcomer@example.com")
    for name in lessons:
        lesson = course_with_content[name]
        expect(page.get_by_role("link", name=lesson.title)).to_have_attribute(
            "href", f"/learn/{enrollment.pk}/{lesson.pk}"
        )

    # A later visit: the same links, and they open the lesson page.
    page.reload()
    wait_live(page)
    expect(page.locator("#curriculum a")).to_have_count(len(lessons))
    page.get_by_role("link", name=course_with_content["text"].title).click()
    expect(page.locator("#lesson-title")).to_have_text(course_with_content["text"].title)
    expect(page.locator("#lesson-body h2")).to_have_text("Loops")
