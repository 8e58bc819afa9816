"""Catalog writes: course and lesson authoring. Side effects (cache, search index) run after
commit."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.text import slugify

from catalog import cache as catalog_cache
from catalog import waitlist
from catalog.content import markdown_render
from catalog.media.storage import guess_content_type
from catalog.models import Course, CourseInstructor, Lesson, LessonResource, Module
from catalog.search.sync import index_on_commit
from catalog.shapes import COURSE_WRITABLE_FIELDS, LessonKind
from catalog.versions import version_check
from portal.accounts.models import User
from portal.errors import ApplicationError

SLUG_MAX = 100
# The course columns authors write: catalog.shapes.CourseWrite.
COURSE_FIELDS = COURSE_WRITABLE_FIELDS


class CourseCapacityError(ApplicationError):
    """The capacity asked for is below the seats already taken."""

    def __init__(self, seats_taken: int) -> None:
        message = f"Capacity cannot be below the {seats_taken} seats already taken."
        super().__init__(message, {"capacity": [message]})


def _slug_candidates(title: str):
    base = slugify(title)[:SLUG_MAX].strip("-") or "course"
    yield base
    for number in range(2, 50):
        yield f"{base[: SLUG_MAX - 4]}-{number}"
    while True:
        yield f"{base[: SLUG_MAX - 9]}-{get_random_string(8).lower()}"


def _insert_with_unique_slug(course: Course) -> None:
    taken = set(
        Course.objects.filter(
            slug__startswith=slugify(course.title)[: SLUG_MAX - 9] or "course"
        ).values_list("slug", flat=True)
    )
    for candidate in _slug_candidates(course.title):
        if candidate in taken:
            continue
        course.slug = candidate
        try:
            with transaction.atomic():  # savepoint: a concurrent insert took it, try the next
                course.save(force_insert=True)
            return
        except IntegrityError:
            if not Course.objects.filter(slug=candidate).exists():
                raise  # another constraint failed: not a slug clash
            taken.add(candidate)


@transaction.atomic
def course_create(*, author: User, data: dict[str, Any]) -> Course:
    """Create a course with its outline; the author becomes its (first) instructor."""
    course = Course(**{field: data[field] for field in COURSE_FIELDS if field in data})
    course.published_at = timezone.now() if data.get("published", True) else None
    _insert_with_unique_slug(course)
    CourseInstructor.objects.create(course=course, user=author, position=0)
    for module_position, module_data in enumerate(data.get("modules", []), start=1):
        module = Module.objects.create(
            course=course, title=module_data["title"], position=module_position
        )
        Lesson.objects.bulk_create(
            Lesson(
                module=module,
                title=lesson["title"],
                position=lesson_position,
                duration_seconds=lesson.get("duration_seconds", 0),
                kind=lesson.get("kind", LessonKind.TEXT),
                preview=lesson.get("preview", False),
                body=lesson.get("body", ""),
                body_html=markdown_render(lesson.get("body", "")),
            )
            for lesson_position, lesson in enumerate(module_data.get("lessons", []), start=1)
        )
    catalog_cache.invalidate_on_commit([course.slug])
    index_on_commit([course.id])
    return course


@transaction.atomic
def course_update(*, course: Course, data: dict[str, Any], expected: Sequence[int] = ()) -> Course:
    """Change a course's own fields. The slug stays, so links keep working. `expected`:
    the versions the author's request was based on (catalog.versions)."""
    # Lock the row: seats_taken may be moving under a concurrent enrollment.
    locked = Course.objects.select_for_update().get(pk=course.pk)
    version_check(stored=locked.version, expected=list(expected), what="course")
    # Only what differs is a change: an autosave of the same values keeps the version.
    changed = [
        field for field in COURSE_FIELDS if field in data and getattr(locked, field) != data[field]
    ]
    for field in changed:
        setattr(locked, field, data[field])
    if (
        "capacity" in data
        and data["capacity"] is not None
        and data["capacity"] < locked.seats_taken
    ):
        raise CourseCapacityError(locked.seats_taken)
    if "published" in data and data["published"] != locked.is_published:
        if data["published"]:
            _publishable_check(locked)
            locked.published_at = timezone.now()
        else:
            locked.published_at = None
        changed.append("published_at")
    if not changed:
        return locked
    locked.version += 1
    locked.save(update_fields=[*changed, "version", "updated_at"])
    if "capacity" in changed or "published_at" in changed:
        # Seats a raised capacity (or a republished course) frees go to its waitlist first.
        waitlist.offers_make(course_id=locked.pk)
        locked.refresh_from_db(fields=["seats_taken"])
    catalog_cache.invalidate_on_commit([locked.slug])
    index_on_commit([locked.id])
    return locked


class NothingToPublish(ApplicationError):
    def __init__(self) -> None:
        super().__init__(
            "A course needs at least one lesson before it can be published: add a module "
            "and a lesson first.",
            {"modules": ["Add at least one lesson."]},
        )


def _publishable_check(course: Course) -> None:
    if not Lesson.objects.filter(module__course=course).exists():
        raise NothingToPublish()


@transaction.atomic
def course_publish(*, course: Course) -> Course:
    """Publish a draft: it appears in the catalog and search (indexed after commit) and
    takes enrollments. Publishing a published course changes nothing."""
    locked = Course.objects.select_for_update().get(pk=course.pk)
    if locked.published_at is not None:
        return locked
    _publishable_check(locked)
    return _publication_change(locked, published_at=timezone.now())


@transaction.atomic
def course_unpublish(*, course: Course) -> Course:
    """Back to a draft: out of the catalog and search; its enrolled students keep access."""
    locked = Course.objects.select_for_update().get(pk=course.pk)
    if locked.published_at is None:
        return locked
    return _publication_change(locked, published_at=None)


def _publication_change(locked: Course, *, published_at: datetime | None) -> Course:
    """Publish or unpublish a locked course: a new version, its cached outline retired and
    its search document written again (or removed) after commit."""
    locked.published_at = published_at
    locked.version += 1
    locked.save(update_fields=["published_at", "version", "updated_at"])
    catalog_cache.invalidate_on_commit([locked.slug])
    index_on_commit([locked.id])
    return locked


# --- lessons -----------------------------------------------------------------------------


@transaction.atomic
def lesson_save(*, lesson: Lesson) -> Lesson:
    """Save a lesson as an author changed it: its Markdown rendered and sanitised into
    `body_html` (reads never render), the course's cached outline retired (it shows each
    lesson's kind and preview flag)."""
    lesson.body_html = markdown_render(lesson.body)
    lesson.version = (lesson.version or 0) + 1 if lesson.pk else 1
    lesson.save()
    catalog_cache.invalidate_on_commit([lesson.module.course.slug])
    return lesson


@transaction.atomic
def lesson_resource_save(*, resource: LessonResource) -> LessonResource:
    """Save a downloadable resource with its size and type taken from the file, so that
    lesson answers never ask the storage (S3) for them."""
    if resource.file:
        resource.size = resource.file.size
        resource.content_type = guess_content_type(resource.file.name)
    resource.save()
    return resource
