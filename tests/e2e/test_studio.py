"""The instructor studio in Chromium against the real authoring API: a draft built from
nothing (modules, lessons, Markdown with its live preview, a video uploaded with a progress
bar), reordered with the keyboard, published and found by search, a student's enrollment
toasted on the builder page; two tabs editing one
lesson meet the conflict dialog; another instructor finds nothing; every studio page is
accessible at desktop and phone widths."""

import re
import time

import pytest
from playwright.sync_api import expect

from catalog.models import Course, Lesson, Module
from tests.catalog.media import CAPTIONS_BYTES, CHEATSHEET_BYTES, VIDEO_BYTES, give_video
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import check_both_widths, csp_violations, screenshot, sign_in
from tests.e2e.data import enroll
from tests.factories import PASSWORD, make_course, make_instructor, make_user

# The daphne subprocess serving Chromium reads what the test commits.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MARKDOWN = "## Why Markdown\n\nPlain text with **bold words** and `code`.\n\n- one\n- two\n"
# The upload is slowed down (DevTools network emulation) so its progress can be watched:
# ~500 KB at 100 KB/s takes seconds, whatever the machine's speed.
SLOW_UPLOAD = {
    "offline": False,
    "latency": 20,
    "downloadThroughput": -1,
    "uploadThroughput": 100_000,
}


@pytest.fixture
def ivy():
    return make_instructor(email="ivy@example.com", name="Ivy Instructor")


def add_module(page, title: str) -> None:
    page.fill("#new-module-title", title)
    page.click("#add-module button[type=submit]")
    expect(
        page.locator(".studio-module").filter(has=page.locator(f'input[value="{title}"]'))
    ).to_have_count(1)


def module_item(page, index: int):
    return page.locator("#modules > .studio-module").nth(index)


def add_lesson(page, module_index: int, title: str, kind: str) -> None:
    module = module_item(page, module_index)
    module.locator(".studio-add input").fill(title)
    module.locator(".studio-add select").select_option(kind)
    module.locator(".studio-add button[type=submit]").click()
    expect(module.locator(f'.studio-lesson input[value="{title}"]')).to_have_count(1)


def lesson_titles(page, module_index: int) -> list[str]:
    inputs = module_item(page, module_index).locator(".studio-lesson .studio-title-input")
    return [inputs.nth(i).input_value() for i in range(inputs.count())]


def wait_for(condition, seconds: float = 10) -> None:
    """The server's side of a change the page already shows (its request may be in flight)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not stored in time"
        time.sleep(0.1)


def stored_titles(module: Module) -> list[str]:
    return list(module.lessons.order_by("position").values_list("title", flat=True))


def test_an_instructor_builds_a_course_reorders_it_publishes_it_and_search_finds_it(
    new_page, ivy, console
):
    page = new_page()
    sign_in(page, "ivy@example.com", PASSWORD, next_path="/studio")
    expect(page).to_have_url(re.compile(r"/studio$"))
    expect(page.get_by_role("link", name="Studio")).to_have_attribute("aria-current", "page")
    expect(page.locator("#studio-courses")).to_contain_text("No courses yet")

    # A new course: a draft, then its builder.
    page.click("#new-course")
    expect(page).to_have_url(re.compile(r"/studio/new$"))
    page.fill("#title", "Kubernetes Without Tears")
    page.fill("#summary", "Deploy, scale and debug containers on a real cluster.")
    page.fill("#category", "DevOps")
    page.select_option("#level", "intermediate")
    page.fill("#price", "19.00")
    page.click("#new-course-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/studio/courses/kubernetes-without-tears$"))
    course = Course.objects.get(slug="kubernetes-without-tears")
    assert course.published_at is None and course.level == "intermediate"
    expect(page.locator("#course-state")).to_have_text("Draft")

    # Course fields autosave and say so.
    page.fill("#refund_policy", "Full refund within 14 days.")
    expect(page.locator("#refund_days")).to_have_value("30")  # the defaults, shown
    page.fill("#refund_days", "14")
    page.fill("#refund_max_percent", "20")
    expect(page.locator("#course-save")).to_have_text("Saved")
    course.refresh_from_db()
    assert course.refund_policy == "Full refund within 14 days."
    assert (course.refund_days, course.refund_max_percent) == (14, 20)
    # A window beyond a year is explained at the field (the refused save: a 400).
    console.allow("status of 400")
    page.fill("#refund_days", "400")
    expect(page.locator("#error-refund_days")).to_be_visible()
    page.fill("#refund_days", "14")
    expect(page.locator("#course-save")).to_have_text("Saved")

    # Two modules, three lessons.
    add_module(page, "Getting started")
    add_module(page, "Going further")
    add_lesson(page, 0, "Reading: the kubectl basics", "text")
    add_lesson(page, 0, "Watch: a first deployment", "video")
    add_lesson(page, 1, "Scaling out", "text")
    expect(page.locator("#curriculum-count")).to_have_text("2 modules · 3 lessons")
    first_module = Module.objects.get(course=course, position=1)
    assert stored_titles(first_module) == [
        "Reading: the kubectl basics",
        "Watch: a first deployment",
    ]

    # Reorder with the keyboard: the video lesson's handle, ArrowUp.
    handle = module_item(page, 0).locator(".studio-lesson").nth(1).locator("[data-reorder-handle]")
    handle.focus()
    page.keyboard.press("ArrowUp")
    expect(page.locator("#announcer")).to_have_text(
        "Moved Watch: a first deployment to position 1 of 2"
    )
    assert lesson_titles(page, 0) == ["Watch: a first deployment", "Reading: the kubectl basics"]
    # Focus stays on the moved lesson's handle: another press would move it on.
    expect(
        module_item(page, 0).locator(".studio-lesson").nth(0).locator("[data-reorder-handle]")
    ).to_be_focused()
    wait_for(
        lambda: (
            stored_titles(first_module)
            == ["Watch: a first deployment", "Reading: the kubectl basics"]
        )
    )
    # …and after a reload the order is the stored one.
    page.reload()
    expect(module_item(page, 0).locator(".studio-lesson")).to_have_count(2)
    assert lesson_titles(page, 0) == ["Watch: a first deployment", "Reading: the kubectl basics"]
    screenshot(page, "studio-builder")

    # The text lesson: Markdown with its live preview, autosaved.
    text = Lesson.objects.get(module__course=course, title="Reading: the kubectl basics")
    page.get_by_role("link", name="Edit lesson Reading: the kubectl basics").click()
    expect(page).to_have_url(re.compile(rf"/studio/lessons/{text.pk}$"))
    page.fill("#body", MARKDOWN)
    preview = page.locator("#body-preview")
    expect(preview.locator("h2")).to_have_text("Why Markdown")
    expect(preview.locator("strong")).to_have_text("bold words")
    expect(preview.locator("li")).to_have_count(2)
    page.fill("#duration_seconds", "240")
    expect(page.locator("#lesson-save")).to_have_text("Saved")
    text.refresh_from_db()
    assert text.body == MARKDOWN and text.duration_seconds == 240
    screenshot(page, "studio-lesson-text")

    # The video lesson: a slowed upload shows its progress; Cancel, then Retry.
    video = Lesson.objects.get(module__course=course, title="Watch: a first deployment")
    page.goto(f"/studio/lessons/{video.pk}")
    expect(page.locator("#lesson-heading")).to_have_text("Watch: a first deployment")
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_UPLOAD)
    page.set_input_files(
        "#video-file",
        files=[{"name": "deploy.mp4", "mimeType": "video/mp4", "buffer": VIDEO_BYTES}],
    )
    page.click("#video-upload")
    expect(page.locator("#video-progress")).to_be_visible()
    page.wait_for_function(
        "() => { const bar = document.getElementById('video-bar'); return bar.value > 0 && bar.value < 100; }"
    )
    expect(page.locator("#video-speed")).to_contain_text(re.compile(r"KB of 490 KB · [\d.]+ KB/s"))
    expect(page.locator("#video-percent")).to_have_text(re.compile(r"^\d{1,2}%$"))
    screenshot(page, "studio-upload-progress")
    page.click("#video-cancel")
    expect(page.locator("#video-message")).to_have_text(
        "Upload cancelled. Retry to send the file again."
    )
    expect(page.locator("#video-retry")).to_be_visible()
    video.refresh_from_db()
    assert not video.media
    page.click("#video-retry")
    expect(page.locator("#video-cancel")).to_be_visible()
    cdp.send("Network.emulateNetworkConditions", {**SLOW_UPLOAD, "uploadThroughput": -1})
    expect(page.locator("#video-message")).to_have_text("Video uploaded.", timeout=30_000)
    expect(page.locator("#video-bar")).to_have_js_property("value", 100)
    expect(page.locator("#video-current video")).to_have_count(1)
    video.refresh_from_db()
    assert video.media and video.media_content_type == "video/mp4"
    # Its length (0:12) becomes the lesson's duration, autosaved: none was given.
    expect(page.locator("#duration_seconds")).to_have_value("12")
    expect(page.locator("#lesson-save")).to_have_text("Saved")
    wait_for(lambda: Lesson.objects.get(pk=video.pk).duration_seconds == 12)

    # Publish, then search finds it within seconds.
    page.goto(f"/studio/courses/{course.slug}")
    page.click("#publish")
    expect(page.locator("#course-state")).to_have_text("Published")
    deadline = time.monotonic() + 10
    while True:
        answer = page.request.get("/api/search?q=kubernetes+tears").json()
        if any(hit["slug"] == course.slug for hit in answer["hits"]):
            break
        assert time.monotonic() < deadline, answer
        time.sleep(0.25)

    # A student enrolls: the builder page, still open, toasts it live.
    enroll(make_user(name="Sam Student"), course, "pm_card_visa")
    toast = page.locator(".toast", has_text="Sam Student enrolled in Kubernetes Without Tears.")
    expect(toast).to_be_visible()
    expect(toast.get_by_role("link")).to_have_count(0)  # "Open in studio": it is open
    screenshot(page, "studio-builder-enrollment-toast")
    # The studio home lists it, published, with its counts.
    page.goto("/studio")
    card = page.locator(f'[data-slug="{course.slug}"]')
    expect(card.locator(".studio-state")).to_have_text("Published")
    expect(card.locator(".studio-counts")).to_contain_text("2 modules · 3 lessons")
    screenshot(page, "studio-home")
    assert csp_violations(page) == []

    # Unpublish: a draft again, out of the catalog.
    card.get_by_role("link", name="Kubernetes Without Tears").click()
    page.click("#unpublish")
    expect(page.locator("#course-state")).to_have_text("Draft")
    expect(page.locator("#publish")).to_be_focused()
    course.refresh_from_db()
    assert course.published_at is None


def test_two_tabs_editing_one_lesson_meet_the_conflict_dialog_and_nothing_is_overwritten(
    new_page, ivy, console
):
    console.allow("409")
    course = make_course(
        title="Conflicts 101", instructor=ivy, published=False, modules=1, lessons_per_module=1
    )
    lesson = Lesson.objects.get(module__course=course)
    first = new_page()
    sign_in(first, "ivy@example.com", PASSWORD)
    second = new_page(context=first.context)
    for tab in (first, second):
        tab.goto(f"/studio/lessons/{lesson.pk}")
        expect(tab.locator("#title")).to_have_value("Lesson 1")

    first.fill("#title", "Title from the first tab")
    expect(first.locator("#lesson-save")).to_have_text("Saved")
    second.fill("#title", "Title from the second tab")
    dialog = second.locator("#conflict-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("changed in another tab or by someone else")
    expect(dialog.locator(".conflict-row")).to_contain_text("Yours: Title from the second tab")
    expect(dialog.locator(".conflict-row")).to_contain_text("Theirs: Title from the first tab")
    expect(second.locator("#lesson-save")).to_have_text("Not saved: changed elsewhere")
    lesson.refresh_from_db()
    assert lesson.title == "Title from the first tab"  # nothing silently overwritten
    screenshot(second, "studio-conflict")
    assert_accessible(second)

    # Load theirs: the form shows the stored title; the next edit saves over it.
    dialog.get_by_role("button", name="Load their version").click()
    expect(dialog).to_be_hidden()
    expect(second.locator("#title")).to_have_value("Title from the first tab")
    second.fill("#body", "Written in the second tab.")
    expect(second.locator("#lesson-save")).to_have_text("Saved")
    lesson.refresh_from_db()
    assert (lesson.title, lesson.body) == ("Title from the first tab", "Written in the second tab.")

    # The first tab is now behind: its edit meets the dialog; Keep mine overwrites.
    first.fill("#duration_seconds", "90")
    expect(first.locator("#conflict-dialog")).to_be_visible()
    lesson.refresh_from_db()
    assert lesson.duration_seconds != 90
    first.locator("#conflict-dialog").get_by_role("button", name="Keep mine (overwrite)").click()
    expect(first.locator("#lesson-save")).to_have_text("Saved")
    lesson.refresh_from_db()
    assert lesson.duration_seconds == 90
    assert lesson.body == "Written in the second tab."  # only the edited field was sent


def test_another_instructor_finds_no_such_builder(new_page, ivy, console):
    console.allow("404")
    course = make_course(
        title="Private Draft", instructor=ivy, published=False, modules=1, lessons_per_module=1
    )
    lesson = Lesson.objects.get(module__course=course)
    make_instructor(email="oscar@example.com", name="Oscar Other")
    page = new_page()
    sign_in(page, "oscar@example.com", PASSWORD)
    assert page.goto(f"/studio/courses/{course.slug}").status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    assert csp_violations(page) == []
    assert page.goto(f"/studio/lessons/{lesson.pk}").status == 404
    assert page.request.get(f"/api/studio/courses/{course.slug}").status == 404
    page.goto("/studio")
    expect(page.locator("#studio-courses")).to_contain_text("No courses yet")


def test_every_studio_page_is_accessible_at_desktop_and_phone_widths(new_page, ivy):
    course = make_course(
        title="Accessible Authoring",
        instructor=ivy,
        published=False,
        modules=2,
        lessons_per_module=2,
    )
    lesson = (
        Lesson.objects.filter(module__course=course)
        .order_by("module__position", "position")
        .first()
    )
    give_video(lesson)
    page = new_page()
    sign_in(page, "ivy@example.com", PASSWORD, next_path="/studio")
    pages = [
        ("studio-home", "/studio", "#studio-courses .studio-course"),
        ("studio-new", "/studio/new", "#new-course-form"),
        ("studio-course", f"/studio/courses/{course.slug}", "#modules .studio-lesson"),
        ("studio-lesson", f"/studio/lessons/{lesson.pk}", "#video-current video"),
    ]
    for name, path, ready in pages:
        page.goto(path)
        expect(page.locator(ready).first).to_be_visible()
        check_both_widths(page, f"a11y-{name}")
    # The delete confirmation is accessible too.
    page.goto(f"/studio/courses/{course.slug}")
    module_item(page, 0).locator('[data-delete="module"]').first.click()
    expect(page.locator("#confirm-dialog")).to_be_visible()
    expect(page.locator("#confirm-no")).to_be_focused()
    assert_accessible(page)
    page.keyboard.press("Escape")
    expect(page.locator("#confirm-dialog")).to_be_hidden()
    assert Module.objects.filter(course=course).count() == 2


def test_lessons_and_modules_move_by_drag_and_drop_and_by_buttons(new_page, ivy):
    course = make_course(
        title="Moving Parts", instructor=ivy, published=False, modules=2, lessons_per_module=3
    )
    first, second = Module.objects.filter(course=course).order_by("position")
    page = new_page()
    sign_in(page, "ivy@example.com", PASSWORD, next_path=f"/studio/courses/{course.slug}")
    expect(module_item(page, 0).locator(".studio-lesson")).to_have_count(3)

    # Drag "Lesson 3" by its handle onto the upper half of "Lesson 1": it becomes first.
    lessons = module_item(page, 0).locator(".studio-lesson")
    lessons.nth(2).locator("[data-reorder-handle]").drag_to(
        lessons.nth(0), target_position={"x": 40, "y": 4}
    )
    expect(page.locator("#announcer")).to_have_text("Moved Lesson 3 to position 1 of 3")
    assert lesson_titles(page, 0) == ["Lesson 3", "Lesson 1", "Lesson 2"]
    wait_for(lambda: stored_titles(first) == ["Lesson 3", "Lesson 1", "Lesson 2"])

    # The second module's Move up button: it becomes first, announced, focus kept on it.
    page.get_by_role("button", name="Move module Module 2 up").click()
    expect(page.locator("#announcer")).to_have_text("Moved Module 2 to position 1 of 2")
    expect(page.get_by_role("button", name="Move module Module 2 down")).to_be_focused()
    wait_for(
        lambda: (
            list(
                Module.objects.filter(course=course)
                .order_by("position")
                .values_list("id", flat=True)
            )
            == [second.pk, first.pk]
        )
    )
    page.reload()
    expect(module_item(page, 0).locator(".studio-title-input").first).to_have_value("Module 2")
    assert lesson_titles(page, 1) == ["Lesson 3", "Lesson 1", "Lesson 2"]

    # Across modules: ArrowUp on Module 1's first lesson takes it to the end of Module 2…
    row = module_item(page, 1).locator(".studio-lesson").nth(0)
    moved = int(row.get_attribute("data-id"))
    row.locator("[data-reorder-handle]").focus()
    page.keyboard.press("ArrowUp")
    expect(page.locator("#announcer")).to_have_text("Moved Lesson 3 to Module 2, position 4 of 4")
    assert lesson_titles(page, 0) == ["Lesson 1", "Lesson 2", "Lesson 3", "Lesson 3"]
    assert lesson_titles(page, 1) == ["Lesson 1", "Lesson 2"]
    wait_for(lambda: Lesson.objects.filter(pk=moved, module=second, position=4).exists())
    assert stored_titles(first) == ["Lesson 1", "Lesson 2"]
    # …and its Down button, which says where it goes, brings it back to Module 1's top.
    page.get_by_role("button", name="Move lesson Lesson 3 to module Module 1").click()
    expect(page.locator("#announcer")).to_have_text("Moved Lesson 3 to Module 1, position 1 of 3")
    assert lesson_titles(page, 1) == ["Lesson 3", "Lesson 1", "Lesson 2"]
    wait_for(lambda: stored_titles(first) == ["Lesson 3", "Lesson 1", "Lesson 2"])
    assert stored_titles(second) == ["Lesson 1", "Lesson 2", "Lesson 3"]
    # Dragged by its handle onto the lower half of Module 2's first lesson: it lands second.
    # (A window tall enough to show both: when the page had to scroll between the two,
    # Playwright's drag_to pressed and released without Chromium starting a drag.)
    # The page is taller than that window (the coupons below the curriculum): both lessons
    # are brought into it first.
    page.set_viewport_size({"width": 1280, "height": 1600})
    source = module_item(page, 1).locator(".studio-lesson").nth(0)
    dragged = int(source.get_attribute("data-id"))
    onto = module_item(page, 0).locator(".studio-lesson").nth(0)
    onto.evaluate("(element) => element.scrollIntoView({ block: 'center' })")
    lower = {"x": 40, "y": onto.bounding_box()["height"] - 6}
    source.locator("[data-reorder-handle]").drag_to(onto, target_position=lower)
    expect(page.locator("#announcer")).to_have_text("Moved Lesson 3 to Module 2, position 2 of 4")
    assert lesson_titles(page, 0) == ["Lesson 1", "Lesson 3", "Lesson 2", "Lesson 3"]
    wait_for(lambda: Lesson.objects.filter(pk=dragged, module=second, position=2).exists())
    assert stored_titles(first) == ["Lesson 1", "Lesson 2"]
    # The very first lesson has nowhere further up to go.
    first_row = module_item(page, 0).locator(".studio-lesson").nth(0)
    expect(first_row.locator('[data-move="up"]')).to_be_disabled()

    # A new, empty module takes a lesson dropped anywhere on its list.
    add_module(page, "Module 3")
    empty = module_item(page, 2).locator(".studio-lessons")
    expect(empty).to_contain_text("No lessons yet.")
    first_row.locator("[data-reorder-handle]").drag_to(empty)
    expect(page.locator("#announcer")).to_have_text("Moved Lesson 1 to Module 3, position 1 of 1")
    third = Module.objects.get(course=course, title="Module 3")
    wait_for(lambda: stored_titles(third) == ["Lesson 1"])


def test_captions_and_resources_upload_and_delete_and_a_wrong_video_is_explained(
    new_page, ivy, console
):
    console.allow("415")
    course = make_course(
        title="Files Course", instructor=ivy, published=False, modules=1, lessons_per_module=1
    )
    lesson = give_video(Lesson.objects.get(module__course=course), captions=False)
    page = new_page()
    sign_in(page, "ivy@example.com", PASSWORD, next_path=f"/studio/lessons/{lesson.pk}")
    expect(page.locator("#video-current video")).to_have_count(1)

    # A text file is no video: 415, said plainly; the lesson keeps its video.
    page.set_input_files(
        "#video-file", files=[{"name": "notes.mp4", "mimeType": "video/mp4", "buffer": b"hello"}]
    )
    page.click("#video-upload")
    expect(page.locator("#video-message")).to_contain_text("This type of file is not accepted.")
    expect(page.locator("#video-retry")).to_be_hidden()

    page.set_input_files(
        "#captions-file",
        files=[{"name": "fr.vtt", "mimeType": "text/vtt", "buffer": CAPTIONS_BYTES}],
    )
    page.fill("#captions-lang", "fr")
    page.fill("#captions-label", "Français")
    page.click("#captions-form button[type=submit]")
    expect(page.locator("#captions")).to_contain_text("Français (fr)")
    assert list(lesson.captions.values_list("lang", flat=True)) == ["fr"]

    page.set_input_files(
        "#resource-file",
        files=[{"name": "cheatsheet.txt", "mimeType": "text/plain", "buffer": CHEATSHEET_BYTES}],
    )
    page.fill("#resource-title", "Cheat sheet")
    page.click("#resources-form button[type=submit]")
    expect(page.locator("#resources").get_by_role("link", name="Cheat sheet")).to_be_visible()
    assert lesson.resources.count() == 1

    # Deleting asks first; Cancel keeps it, Delete removes it.
    page.get_by_role("button", name="Delete resource Cheat sheet").click()
    page.click("#confirm-no")
    assert lesson.resources.count() == 1
    page.get_by_role("button", name="Delete resource Cheat sheet").click()
    page.click("#confirm-yes")
    expect(page.locator("#resources")).to_contain_text("No resources yet.")
    assert lesson.resources.count() == 0
    page.get_by_role("button", name="Delete captions Français").click()
    page.click("#confirm-yes")
    expect(page.locator("#captions")).to_contain_text("No captions yet.")
    assert lesson.captions.count() == 0
