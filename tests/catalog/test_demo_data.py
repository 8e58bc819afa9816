"""manage.py load_demo_data: the contract's demo accounts and a varied, deterministic catalog."""

import random
from decimal import Decimal
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db.models import Count, Max, Min

from catalog.content import markdown_render
from catalog.demo import (
    DEMO_CAPTIONS,
    DEMO_CHEATSHEET,
    DEMO_FILES,
    DEMO_INSTRUCTOR_EMAIL,
    DEMO_PASSWORD,
    DEMO_STUDENT_EMAIL,
    DEMO_VIDEO,
    DEMO_VIDEO_SECONDS,
    TOPICS,
)
from catalog.demo_content import OPENINGS, DemoText
from catalog.media import checks
from catalog.models import Course, CourseInstructor, Lesson, LessonCaption, LessonResource, Module
from enrollment.models import Enrollment, Payment, Student
from portal.accounts.models import User

pytestmark = pytest.mark.django_db

COURSES = 60
# --reset TRUNCATEs, which PostgreSQL refuses while rows inserted earlier in the same
# transaction have deferred foreign-key checks pending. The command runs in autocommit in
# real use, so these tests commit for real as well.
RESET = pytest.mark.django_db(transaction=True)


def load(**options) -> str:
    out = StringIO()
    call_command(
        "load_demo_data",
        courses=options.pop("courses", COURSES),
        no_progress=True,
        stdout=out,
        stderr=StringIO(),
        **options,
    )
    return out.getvalue()


def catalog_snapshot() -> list[tuple]:
    return list(
        Course.objects.order_by("slug").values_list(
            "slug", "title", "category", "level", "price", "capacity", "rating", "published_at"
        )
    )


def outline_snapshot() -> list[tuple]:
    return list(
        Lesson.objects.order_by("module__course__slug", "module__position", "position").values_list(
            "module__course__slug", "module__position", "module__title", "position", "title"
        )
    )


@pytest.fixture
def demo(local_media) -> str:
    return load()


def login(api, email: str) -> dict:
    response = api.post(
        "/api/auth/token", {"email": email, "password": DEMO_PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_demo_accounts_log_in_with_the_documented_password(api, demo):
    assert DEMO_PASSWORD == "portal-demo"
    teacher = login(api, "instructor@example.com")
    assert teacher["user"]["email"] == DEMO_INSTRUCTOR_EMAIL
    assert "instructor" in teacher["user"]["roles"]
    student = login(api, "student@example.com")
    assert student["user"]["email"] == DEMO_STUDENT_EMAIL
    assert student["user"]["roles"] == ["student"]

    api.credentials(HTTP_AUTHORIZATION=f"Bearer {student['token']}")
    assert api.get("/api/me").json()["email"] == "student@example.com"
    assert Student.objects.get(email=DEMO_STUDENT_EMAIL).user_id == student["user"]["id"]
    bad = api.post(
        "/api/auth/token",
        {"email": "student@example.com", "password": "not-the-password"},
        format="json",
    )
    assert bad.status_code == 401


def test_the_command_prints_the_logins(demo):
    assert "instructor@example.com" in demo
    assert "student@example.com" in demo
    assert "portal-demo" in demo
    assert f"Loaded {COURSES + 2} courses" in demo


def test_the_demo_instructor_teaches_a_free_and_a_paid_limited_course(api, demo):
    teacher = login(api, DEMO_INSTRUCTOR_EMAIL)["user"]
    response = api.get("/api/courses", {"instructor": teacher["id"], "page_size": 100})
    courses = response.json()["results"]
    assert courses
    assert all(course["instructor"]["id"] == teacher["id"] for course in courses)
    free = [c for c in courses if c["price"] == "0.00"]
    paid_limited = [c for c in courses if c["price"] != "0.00" and c["capacity"]]
    assert free
    assert paid_limited
    course = paid_limited[0]
    assert Decimal(course["price"]) > 0
    assert course["seats_taken"] < course["capacity"]
    # Both can be opened and have lessons to follow.
    for slug in (free[0]["slug"], course["slug"]):
        modules = api.get(f"/api/courses/{slug}").json()["modules"]
        assert modules
        assert all(module["lessons"] for module in modules)


def test_the_catalog_is_varied(api, demo):
    courses = Course.objects.all()
    assert courses.count() == COURSES + 2
    assert not courses.filter(published_at__isnull=True).exists()

    teachers = set(CourseInstructor.objects.values_list("user_id", flat=True))
    assert len(teachers) >= 5
    assert User.objects.filter(pk__in=teachers, is_instructor=True).count() == len(teachers)
    assert len(set(courses.values_list("category", flat=True))) >= 5
    assert set(courses.values_list("level", flat=True)) == {"beginner", "intermediate", "advanced"}
    assert courses.filter(price=0).exists()
    assert courses.filter(price__gt=0).exists()
    assert courses.filter(capacity__isnull=True).exists()
    assert courses.filter(capacity__isnull=False).exists()
    assert courses.filter(rating__isnull=False).exists()
    # The generated catalog varies on its own, besides the demo instructor's two courses.
    generated = courses.exclude(course_instructors__user__email=DEMO_INSTRUCTOR_EMAIL)
    assert generated.count() == COURSES
    assert set(generated.values_list("level", flat=True)) == {
        "beginner",
        "intermediate",
        "advanced",
    }
    assert generated.filter(price=0).exists()
    assert generated.filter(price__gt=0).exists()
    assert generated.filter(capacity__isnull=True).exists()
    assert generated.filter(capacity__isnull=False).exists()
    # One named instructor per course.
    assert not courses.annotate(n=Count("course_instructors")).exclude(n=1).exists()

    # The API agrees: filters find each kind.
    for params in (
        {"level": "beginner"},
        {"level": "intermediate"},
        {"level": "advanced"},
        {"max_price": "0"},
        {"min_price": "0.01"},
    ):
        assert api.get("/api/courses", params).json()["count"] > 0, params


def test_every_course_has_modules_with_lessons_in_order(demo):
    modules = Course.objects.annotate(
        count=Count("modules"), first=Min("modules__position"), last=Max("modules__position")
    )
    assert not modules.filter(count=0).exists()
    for course in modules:
        assert (course.first, course.last) == (1, course.count), course.slug
    lessons = Module.objects.annotate(
        count=Count("lessons"), first=Min("lessons__position"), last=Max("lessons__position")
    )
    assert not lessons.filter(count=0).exists()
    for module in lessons:
        assert (module.first, module.last) == (1, module.count), module.pk
    assert not Lesson.objects.filter(duration_seconds__lte=0).exists()


@RESET
def test_the_same_seed_gives_the_same_catalog(demo):
    first, first_outline = catalog_snapshot(), outline_snapshot()
    assert len(first) == COURSES + 2

    output = load(reset=True)

    assert "Deleting the existing catalog" in output
    assert catalog_snapshot() == first
    assert outline_snapshot() == first_outline


@RESET
def test_another_seed_gives_another_catalog(demo):
    first = catalog_snapshot()
    load(reset=True, seed=7)
    second = catalog_snapshot()
    assert len(second) == len(first)
    assert [row[:2] for row in second] != [row[:2] for row in first]


def test_if_empty_leaves_a_loaded_catalog_alone(demo):
    before = catalog_snapshot()
    ids = sorted(Course.objects.values_list("id", flat=True))
    counts = (Module.objects.count(), Lesson.objects.count(), User.objects.count())

    output = load(if_empty=True, courses=5)

    assert "left as is" in output
    assert catalog_snapshot() == before
    assert sorted(Course.objects.values_list("id", flat=True)) == ids
    assert (Module.objects.count(), Lesson.objects.count(), User.objects.count()) == counts


def test_if_empty_loads_an_empty_catalog(api):
    load(if_empty=True, courses=3)
    assert Course.objects.count() == 5
    login(api, DEMO_INSTRUCTOR_EMAIL)


def test_a_non_empty_catalog_is_not_replaced_without_reset(demo):
    before = catalog_snapshot()
    with pytest.raises(CommandError, match="--reset"):
        load(courses=5)
    assert catalog_snapshot() == before


@RESET
def test_reset_also_clears_enrollments_and_payments(demo):
    course = Course.objects.get(slug="intro-to-python")
    student = Student.objects.get(email=DEMO_STUDENT_EMAIL)
    enrollment = Enrollment.objects.create(
        number="ENR-2026-000001", student=student, course=course, status="active"
    )
    Payment.objects.create(
        enrollment=enrollment, amount=course.price, currency="usd", provider="test"
    )

    load(reset=True, courses=10)

    assert not Enrollment.objects.exists()
    assert not Payment.objects.exists()
    assert Course.objects.count() == 12
    assert Course.objects.filter(slug="intro-to-python").exists()


def test_loading_retires_cached_lists(api):
    assert api.get("/api/courses").json()["count"] == 0  # cached empty page
    load(courses=4)
    assert api.get("/api/courses").json()["count"] == 6


def test_negative_course_count_is_refused():
    with pytest.raises(CommandError):
        load(courses=-1)
    assert not Course.objects.exists()


def test_every_lesson_has_readable_text_and_every_course_a_preview(demo):
    assert not Lesson.objects.filter(body="").exists()
    assert not Course.objects.exclude(modules__lessons__preview=True).exists()
    # Varied: headings, lists or tables, and code in the courses' own languages.
    bodies = list(Lesson.objects.filter(kind="text").values_list("body", flat=True))
    assert len(set(bodies)) > len(bodies) / 3
    assert any("\n## " in body for body in bodies)
    assert any("\n- " in body or "\n1. " in body for body in bodies)
    assert any("```python" in body for body in bodies)
    assert any("```" in body and "```python" not in body for body in bodies)
    assert any("| --- |" in body or "|---|" in body for body in bodies)


def test_a_course_about_one_language_shows_code_in_that_language(demo):
    fences = {}
    for title, body in Lesson.objects.filter(kind="text").values_list(
        "module__course__title", "body"
    ):
        for line in body.splitlines():
            if line.startswith("```") and len(line) > 3:
                fences.setdefault("python" in title.lower(), set()).add(line[3:])
    assert fences[True] == {"python"}  # "Intro to Python" and its kind: Python only
    assert len(fences[False]) > 1  # the other courses still show their own languages


def test_demo_html_is_what_the_renderer_gives_for_the_text(demo):
    # The loader renders each block once and writes the topic in afterwards: the result
    # must be exactly the sanitised rendering of the whole body.
    for body, html in Lesson.objects.values_list("body", "body_html"):
        assert html == markdown_render(body)


def test_the_demo_instructor_teaches_video_lessons_with_captions(api, demo):
    videos = Lesson.objects.filter(
        kind="video", module__course__course_instructors__user__email=DEMO_INSTRUCTOR_EMAIL
    )
    assert videos.count() >= 4
    assert set(videos.values_list("media", flat=True)) == {DEMO_VIDEO}  # one file, shared
    assert not videos.exclude(duration_seconds=DEMO_VIDEO_SECONDS).exists()
    captions = LessonCaption.objects.filter(lesson__in=videos)
    assert captions.count() == videos.count()
    assert set(captions.values_list("file", "lang")) == {(DEMO_CAPTIONS, "en")}
    assert LessonResource.objects.filter(file=DEMO_CHEATSHEET).exists()
    # Only the demo instructor's courses have videos.
    assert not Lesson.objects.filter(kind="video").exclude(pk__in=videos).exists()

    # A preview video plays for anyone, captions included.
    preview = videos.filter(preview=True).first()
    body = api.get(f"/api/lessons/{preview.id}").json()
    video = api.get(body["media"]["url"], HTTP_RANGE="bytes=0-15")
    assert video.status_code == 206
    assert b"".join(video.streaming_content) == DEMO_FILES[DEMO_VIDEO].read_bytes()[:16]
    track = api.get(body["media"]["captions"][0]["url"])
    assert b"".join(track.streaming_content).startswith(b"WEBVTT")


def test_demo_text_matches_the_renderer_for_every_topic():
    text = DemoText()
    for category, topics in TOPICS.items():
        for topic in topics:
            rng = random.Random(topic)
            for stem in [*OPENINGS, "Unknown"]:
                for body in (
                    text.text_lesson(rng, category=category, topic=topic, stem=stem),
                    text.video_lesson(rng, topic=topic, stem=stem),
                ):
                    assert body.html == markdown_render(body.markdown), (topic, stem)
                    assert topic in body.markdown


def test_the_shipped_media_are_small_and_pass_the_upload_checks():
    video = DEMO_FILES[DEMO_VIDEO]
    assert video.stat().st_size < 1024 * 1024
    upload = SimpleUploadedFile("v.mp4", video.read_bytes(), content_type="video/mp4")
    assert checks.sniff_video_type(upload) == "video/mp4"
    captions = SimpleUploadedFile("c.vtt", DEMO_FILES[DEMO_CAPTIONS].read_bytes())
    assert checks.is_webvtt(captions)


def test_demo_files_are_stored_once_and_kept_by_later_loads(local_media):
    load(courses=2)
    stored = sorted(path.relative_to(local_media).as_posix() for path in local_media.rglob("*.*"))
    assert stored == sorted(DEMO_FILES)
    load(if_empty=True)
    again = sorted(path.relative_to(local_media).as_posix() for path in local_media.rglob("*.*"))
    assert again == stored
