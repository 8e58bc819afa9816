"""The catalog API's answers: a page of courses and a course's detail as cacheable data,
read through the catalog cache (see catalog.cache for how stamps retire them); a lesson,
per reader and never cached (its media links are signed for the one answer)."""

from collections.abc import Callable, Mapping
from typing import Any

from catalog import access, presenters, selectors
from catalog import cache as catalog_cache
from catalog.models import Course, Lesson, LessonCaption, LessonResource, Module
from catalog.shapes import Lesson as LessonAnswer
from catalog.shapes import StudioCourse, StudioLesson, StudioModule
from portal.accounts.models import User
from portal.errors import NotAuthenticated, NotFound
from portal.pagination import last_page, page_items


def _course_page(query: dict[str, Any]) -> dict[str, Any]:
    filters = selectors.CourseFilters(
        category=query.get("category") or None,
        level=query.get("level") or None,
        min_price=query.get("min_price"),
        max_price=query.get("max_price"),
        instructor=query.get("instructor"),
    )
    queryset = selectors.course_list(filters=filters, sort=query["sort"])
    page, size = query["page"], query["page_size"]
    count = queryset.count()
    courses = page_items(queryset, page=page, size=size, count=count)
    return {
        "count": count,
        "results": [presenters.course_summary(course) for course in courses],
        "has_next": page * size < count,
        "last_page": last_page(count, size),
    }


def course_page_get(*, query: dict[str, Any]) -> dict[str, Any]:
    """One page of the catalog (links are added per request)."""
    cache_key = catalog_cache.list_key({key: str(value) for key, value in query.items()})
    page = catalog_cache.get(cache_key)
    if page is None:
        page = _course_page(query)
        catalog_cache.set_list(cache_key, page)
    return page


def course_visible_get(*, slug: str, viewer: User | None) -> Course:
    """The course if this viewer may see it (drafts: their instructors and staff); 404."""
    course = selectors.course_get(slug=slug, viewer=viewer)
    if course is None:
        raise NotFound("No such course.")
    return course


def course_detail_get(*, slug: str, viewer: User | None) -> Mapping[str, Any]:
    """A course with its outline; only the public answer is shared through the cache."""
    cache_key = catalog_cache.detail_key(slug)
    cached = catalog_cache.get(cache_key)
    if cached is not None:
        return cached
    course = course_visible_get(slug=slug, viewer=viewer)
    body = presenters.course_detail(course)
    if course.is_published:
        catalog_cache.set_detail(cache_key, body)
    return body


def lesson_found_get(*, lesson_id: int) -> Lesson:
    lesson = selectors.lesson_get(lesson_id=lesson_id)
    if lesson is None:
        raise NotFound("No such lesson.")
    return lesson


def lesson_editable_get(*, lesson_id: int, user: User | None) -> Lesson:
    """The lesson if `user` may change it (its course's instructors, staff)."""
    lesson = lesson_found_get(lesson_id=lesson_id)
    access.lesson_edit_check(lesson=lesson, user=user)
    return lesson


def lesson_answer(lesson: Lesson, *, absolute: Callable[[str], str]) -> LessonAnswer:
    previous, following = selectors.lesson_neighbours(lesson=lesson)
    return presenters.lesson_detail(
        lesson, previous=previous, following=following, absolute=absolute
    )


def lesson_detail_get(
    *, lesson_id: int, viewer: User | None, absolute: Callable[[str], str]
) -> LessonAnswer:
    """The contract's `Lesson` if `viewer` may read it (catalog.access)."""
    lesson = lesson_found_get(lesson_id=lesson_id)
    access.lesson_read_check(lesson=lesson, user=viewer)
    return lesson_answer(lesson, absolute=absolute)


# --- the studio: what an author may edit (anyone else: 404, the anonymous: 401) ----------


def _author(user: User | None) -> User:
    if user is None or not user.is_authenticated:
        raise NotAuthenticated("Authentication credentials were not provided.")
    return user


def studio_course_editable(*, slug: str, user: User | None) -> Course:
    """The course with its curriculum if `user` teaches it (or is staff); 404 otherwise:
    a course that is not yours does not exist for you here."""
    course = selectors.studio_course_get(slug=slug, user=_author(user))
    if course is None:
        raise NotFound("No such course.")
    return course


def studio_course_row_editable(*, slug: str, user: User | None) -> Course:
    """As studio_course_editable, without the curriculum (a course's coupons, say)."""
    course = selectors.studio_course_row_get(slug=slug, user=_author(user))
    if course is None:
        raise NotFound("No such course.")
    return course


def studio_course_get(*, slug: str, user: User | None) -> StudioCourse:
    return presenters.studio_course(studio_course_editable(slug=slug, user=user))


def studio_module_editable(*, module_id: int, user: User | None) -> Module:
    module = selectors.studio_module_get(module_id=module_id, user=_author(user))
    if module is None:
        raise NotFound("No such module.")
    return module


def studio_module_get(*, module_id: int, user: User | None) -> StudioModule:
    return presenters.studio_module(studio_module_editable(module_id=module_id, user=user))


def studio_lesson_editable(*, lesson_id: int, user: User | None) -> Lesson:
    lesson = selectors.studio_lesson_get(lesson_id=lesson_id, user=_author(user))
    if lesson is None:
        raise NotFound("No such lesson.")
    return lesson


def studio_lesson_get(
    *, lesson_id: int, user: User | None, absolute: Callable[[str], str]
) -> StudioLesson:
    lesson = studio_lesson_editable(lesson_id=lesson_id, user=user)
    return presenters.studio_lesson(lesson, absolute=absolute)


def studio_resource_editable(*, resource_id: int, user: User | None) -> LessonResource:
    _author(user)
    resource = LessonResource.objects.filter(pk=resource_id).first()
    if resource is None:
        raise NotFound("No such resource.")
    studio_lesson_editable(lesson_id=resource.lesson_id, user=user)
    return resource


def studio_caption_editable(*, caption_id: int, user: User | None) -> LessonCaption:
    _author(user)
    caption = LessonCaption.objects.filter(pk=caption_id).first()
    if caption is None:
        raise NotFound("No such captions file.")
    studio_lesson_editable(lesson_id=caption.lesson_id, user=user)
    return caption
