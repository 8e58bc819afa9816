"""Catalog reads. Every queryset prefetches what the presenters touch: no N+1."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, F, OrderBy, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from catalog.models import Course, CourseInstructor, Lesson, LessonCaption, LessonResource, Module
from catalog.shapes import COURSE_COLUMNS, LESSON_OUTLINE_KEYS
from portal.accounts.models import User

# Public sort names → ORDER BY; "id" last keeps pages stable. Unrated courses come last
# either way (PostgreSQL would put NULLs first when sorting descending).
COURSE_SORTS: dict[str, tuple[str | OrderBy, ...]] = {
    "newest": ("-published_at", "id"),
    "oldest": ("published_at", "id"),
    "price": ("price", "id"),
    "-price": ("-price", "id"),
    "rating": (F("rating").desc(nulls_last=True), "id"),
    "-rating": (F("rating").asc(nulls_last=True), "id"),
    "popular": ("-enrollment_count", "id"),
    "title": ("title", "id"),
    "-title": ("-title", "id"),
}
DEFAULT_SORT = "newest"
# The Course fields presenters.course_summary reads.
SUMMARY_FIELDS = COURSE_COLUMNS


@dataclass(frozen=True)
class CourseFilters:
    category: str | None = None
    level: str | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    instructor: int | None = None


def _with_instructors(queryset: QuerySet[Course]) -> QuerySet[Course]:
    return queryset.prefetch_related(
        Prefetch(
            "course_instructors",
            queryset=CourseInstructor.objects.select_related("user").order_by("position", "id"),
        )
    )


def published_courses() -> QuerySet[Course]:
    return Course.objects.filter(published_at__isnull=False)


def published_courses_by_ids(ids: Iterable[int]) -> dict[int, Course]:
    """Published courses by id with just what course_summary reads (search hits: hot)."""
    queryset = (
        published_courses()
        .filter(id__in=ids)
        .order_by()
        .only(*SUMMARY_FIELDS)
        .prefetch_related(
            Prefetch(
                "course_instructors",
                queryset=CourseInstructor.objects.select_related("user")
                .only("course_id", "position", "user__id", "user__name")
                .order_by("position", "id"),
            )
        )
    )
    return {course.id: course for course in queryset}


def course_list(*, filters: CourseFilters, sort: str = DEFAULT_SORT) -> QuerySet[Course]:
    queryset = published_courses()
    if filters.category:
        queryset = queryset.filter(category=filters.category)
    if filters.level:
        queryset = queryset.filter(level=filters.level)
    if filters.min_price is not None:
        queryset = queryset.filter(price__gte=filters.min_price)
    if filters.max_price is not None:
        queryset = queryset.filter(price__lte=filters.max_price)
    if filters.instructor is not None:
        queryset = queryset.filter(course_instructors__user_id=filters.instructor)
    return _with_instructors(queryset.order_by(*COURSE_SORTS[sort]))


def course_visible_q(viewer: User | None) -> Q:
    """Published courses for everyone; unpublished ones for their instructors and staff."""
    if viewer is not None and viewer.is_authenticated and viewer.is_staff:
        return Q()
    visible = Q(published_at__isnull=False)
    if viewer is not None and viewer.is_authenticated:
        visible |= Q(course_instructors__user=viewer)
    return visible


def course_get(*, slug: str, viewer: User | None = None) -> Course | None:
    """One course with instructors, modules and lessons, if the viewer may see it."""
    queryset = _with_instructors(
        Course.objects.filter(course_visible_q(viewer), slug=slug).distinct()
    ).prefetch_related(
        Prefetch(
            "modules",
            queryset=Module.objects.order_by("position").prefetch_related(
                Prefetch(
                    "lessons",
                    # The outline's columns only: not the lessons' text.
                    queryset=Lesson.objects.order_by("position").only(
                        "module_id", *LESSON_OUTLINE_KEYS
                    ),
                )
            ),
        )
    )
    return queryset.first()


def course_visible_get(*, slug: str, viewer: User | None = None) -> Course | None:
    """The course row alone (no outline), if the viewer may see it: a page's check."""
    return Course.objects.filter(course_visible_q(viewer), slug=slug).distinct().first()


def course_is_taught_by(*, course: Course, user: User) -> bool:
    return CourseInstructor.objects.filter(course=course, user=user).exists()


def course_can_edit(*, course: Course, user: User | AnonymousUser) -> bool:
    if not user.is_authenticated:
        return False
    return user.is_staff or course_is_taught_by(course=course, user=user)


def course_categories() -> list[str]:
    return list(
        published_courses().order_by("category").values_list("category", flat=True).distinct()
    )


# --- lessons ---------------------------------------------------------------------------


def lesson_get(*, lesson_id: int) -> Lesson | None:
    """A lesson with its module, course, captions and resources (what the lesson answer
    shows), whoever may read it: catalog.access decides that."""
    return (
        Lesson.objects.select_related("module__course")
        .prefetch_related("captions", "resources")
        .filter(pk=lesson_id)
        .first()
    )


def lesson_neighbours(*, lesson: Lesson) -> tuple[int | None, int | None]:
    """The lessons before and after this one in course order (module, then lesson
    position), across module boundaries."""
    module = lesson.module
    course_lessons = Lesson.objects.filter(module__course_id=module.course_id)
    before = Q(module__position__lt=module.position) | Q(
        module__position=module.position, position__lt=lesson.position
    )
    after = Q(module__position__gt=module.position) | Q(
        module__position=module.position, position__gt=lesson.position
    )
    previous = (
        course_lessons.filter(before)
        .order_by("-module__position", "-position")
        .values_list("pk", flat=True)
        .first()
    )
    following = (
        course_lessons.filter(after)
        .order_by("module__position", "position")
        .values_list("pk", flat=True)
        .first()
    )
    return previous, following


def stored_file_in_use(*, name: str) -> bool:
    """Whether any lesson, caption or resource still refers to this stored file (demo
    lessons share one video)."""
    return (
        Lesson.objects.filter(media=name).exists()
        or LessonCaption.objects.filter(file=name).exists()
        or LessonResource.objects.filter(file=name).exists()
    )


# --- the studio (authors' reads: drafts included, 404 for courses not theirs) -----------


def _studio_lessons() -> QuerySet[Lesson]:
    return Lesson.objects.order_by("position").annotate(
        captions_count=Count("captions", distinct=True),
        resources_count=Count("resources", distinct=True),
    )


def studio_course_list(*, user: User) -> QuerySet[Course]:
    """The courses `user` teaches (staff too: only theirs), drafts included, newest
    first, with their counts."""
    modules = Module.objects.filter(course=OuterRef("pk")).order_by().values("course")
    lessons = (
        Lesson.objects.filter(module__course=OuterRef("pk")).order_by().values("module__course")
    )
    return _with_instructors(
        Course.objects.filter(course_instructors__user=user)
        .annotate(
            modules_count=Coalesce(Subquery(modules.annotate(n=Count("pk")).values("n")), 0),
            lessons_count=Coalesce(Subquery(lessons.annotate(n=Count("pk")).values("n")), 0),
        )
        .order_by("-created_at", "-id")
    )


def studio_course_get(*, slug: str, user: User) -> Course | None:
    """The course with its curriculum if `user` may edit it (its instructors, staff)."""
    course = (
        _with_instructors(Course.objects.filter(slug=slug))
        .prefetch_related(
            Prefetch(
                "modules",
                queryset=Module.objects.order_by("position").prefetch_related(
                    Prefetch("lessons", queryset=_studio_lessons())
                ),
            )
        )
        .first()
    )
    if course is None or not course_can_edit(course=course, user=user):
        return None
    return course


def studio_course_row_get(*, slug: str, user: User) -> Course | None:
    """The course row alone (no curriculum) if `user` may edit it (its instructors, staff)."""
    course = Course.objects.filter(slug=slug).first()
    if course is None or not course_can_edit(course=course, user=user):
        return None
    return course


def studio_module_get(*, module_id: int, user: User) -> Module | None:
    """A module with its lessons (and counts) if `user` may edit its course."""
    module = (
        Module.objects.select_related("course")
        .prefetch_related(Prefetch("lessons", queryset=_studio_lessons()))
        .filter(pk=module_id)
        .first()
    )
    if module is None or not course_can_edit(course=module.course, user=user):
        return None
    return module


def studio_lesson_get(*, lesson_id: int, user: User) -> Lesson | None:
    """A lesson with its module, course, captions and resources if `user` may edit it."""
    lesson = lesson_get(lesson_id=lesson_id)
    if lesson is None or not course_can_edit(course=lesson.module.course, user=user):
        return None
    return lesson
