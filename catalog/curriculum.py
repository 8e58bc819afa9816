"""Catalog writes: a course's curriculum edited one module or lesson at a time (the studio
and any script use the same calls).

Every change runs in one transaction that
- locks the course row first when positions change (creates, moves, deletes), so changes
  to the same siblings queue up instead of interleaving (catalog.positions explains how
  positions stay unique and contiguous);
- checks the version the author's request was based on under the row lock it writes
  with (catalog.versions), bumping the version of everything it changed or moved;
- retires the course's cached outline and re-indexes a published course for search,
  both after commit through the outbox (catalog.cache, catalog.search.sync);
- leaves the files of deleted lessons to be removed after commit, when nothing else
  refers to them (catalog.media.uploads.stored_files_delete_effect).
"""

from typing import Any

from django.db import transaction
from django.db.models import F

from catalog import cache as catalog_cache
from catalog import positions
from catalog.content import markdown_render
from catalog.models import Course, Lesson, LessonCaption, LessonResource, Module
from catalog.search.sync import index_on_commit
from catalog.shapes import LessonKind
from catalog.versions import version_check
from portal.enqueue import job_enqueue_on_commit
from portal.errors import ApplicationError, NotFound
from portal.outbox.services import effect_record

# The lesson fields a PATCH may set directly (position and module move it instead).
LESSON_FIELDS = ("title", "kind", "body", "preview", "duration_seconds")


def course_changed(course: Course) -> None:
    """What every change of a course's curriculum owes after commit."""
    catalog_cache.invalidate_on_commit([course.slug])
    if course.published_at is not None:
        index_on_commit([course.id])


def _lock_course(course_id: int) -> Course:
    return Course.objects.select_for_update().get(pk=course_id)


def _ids(queryset) -> list[int | None]:
    return list(queryset.order_by("position").values_list("pk", flat=True))


def _insert(order: list[int | None], item: int | None, position: int | None) -> list[int | None]:
    """`order` with `item` at the 1-based `position` (clamped; None: at the end)."""
    index = positions.clamp(position, count=len(order) + 1) - 1
    return [*order[:index], item, *order[index:]]


def _files_of(lessons) -> list[str]:
    lesson_ids = list(lessons.values_list("pk", flat=True))
    names = [name for name in lessons.values_list("media", flat=True) if name]
    names += LessonCaption.objects.filter(lesson_id__in=lesson_ids).values_list("file", flat=True)
    names += LessonResource.objects.filter(lesson_id__in=lesson_ids).values_list("file", flat=True)
    return [name for name in names if name]


def _files_delete_on_commit(names: list[str]) -> None:
    if names:
        effect_record("catalog.media.uploads.stored_files_delete_effect", names=names)


# --- modules -----------------------------------------------------------------------------


@transaction.atomic
def module_create(*, course: Course, title: str, position: int | None = None) -> Module:
    """A new module, appended, or inserted at `position` (the later ones shift down)."""
    course = _lock_course(course.pk)
    siblings = Module.objects.filter(course=course)
    order = _insert(_ids(siblings), None, position)
    positions.renumber(siblings, order)
    module = Module.objects.create(course=course, title=title, position=order.index(None) + 1)
    course_changed(course)
    return module


@transaction.atomic
def module_update(*, module: Module, data: dict[str, Any], expected: list[int]) -> Module:
    """Rename and/or move a module among its course's modules (1-based, clamped)."""
    course = _lock_course(module.course_id)
    module = Module.objects.select_for_update().get(pk=module.pk)
    version_check(stored=module.version, expected=expected, what="module")
    moved: list[int] = []
    if data.get("position") is not None:
        siblings = Module.objects.filter(course=course)
        others = [pk for pk in _ids(siblings) if pk != module.pk]
        moved = positions.renumber(siblings, _insert(others, module.pk, data["position"]))
    if "title" in data and data["title"] != module.title:
        bump = {} if module.pk in moved else {"version": F("version") + 1}
        Module.objects.filter(pk=module.pk).update(title=data["title"], **bump)
    course_changed(course)
    module.refresh_from_db()
    return module


@transaction.atomic
def module_delete(*, module: Module) -> None:
    """Delete a module and its lessons; the later modules move up."""
    course = _lock_course(module.course_id)
    locked = Module.objects.select_for_update().filter(pk=module.pk).first()
    if locked is None:
        raise NotFound("No such module.")
    module = locked
    _files_delete_on_commit(_files_of(Lesson.objects.filter(module=module)))
    module.delete()
    siblings = Module.objects.filter(course=course)
    positions.renumber(siblings, _ids(siblings))
    course_changed(course)
    _lessons_removed(course)


def _lessons_removed(course: Course) -> None:
    """Students who had completed every lesson but the removed ones have now finished: a job
    (by name: the catalog does not import enrollment) completes their enrollments."""
    job_enqueue_on_commit("enrollment.tasks.complete_finished_enrollments", course.pk)


# --- lessons -----------------------------------------------------------------------------


class LessonModuleInvalid(ApplicationError):
    def __init__(self) -> None:
        message = "Choose a module of this lesson's course."
        super().__init__(message, {"module": [message]})


@transaction.atomic
def lesson_create(*, module: Module, data: dict[str, Any]) -> Lesson:
    """A new lesson in `module`, appended, or inserted at `position`."""
    course = _lock_course(module.course_id)
    found = Module.objects.filter(pk=module.pk, course=course).first()
    if found is None:
        raise NotFound("No such module.")
    module = found
    siblings = Lesson.objects.filter(module=module)
    order = _insert(_ids(siblings), None, data.get("position"))
    positions.renumber(siblings, order)
    body = data.get("body", "")
    lesson = Lesson.objects.create(
        module=module,
        title=data["title"],
        position=order.index(None) + 1,
        kind=data.get("kind", LessonKind.TEXT),
        preview=data.get("preview", False),
        duration_seconds=data.get("duration_seconds", 0),
        body=body,
        body_html=markdown_render(body),
    )
    course_changed(course)
    return lesson


def _lesson_move(
    *, lesson: Lesson, course: Course, target_id: int | None, position: int | None
) -> list[int]:
    """Move a locked lesson to `position` in module `target_id` (or its own); the ids of
    the lessons that moved."""
    target = lesson.module_id if target_id is None else target_id
    if not Module.objects.filter(pk=target, course=course).exists():
        raise LessonModuleInvalid()
    if target == lesson.module_id:
        siblings = Lesson.objects.filter(module_id=target)
        others = [pk for pk in _ids(siblings) if pk != lesson.pk]
        return positions.renumber(siblings, _insert(others, lesson.pk, position))
    # To another module: out of the old numbering, close its gap, then in at `position`.
    positions.park(lesson)
    old_siblings = Lesson.objects.filter(module_id=lesson.module_id).exclude(pk=lesson.pk)
    moved = positions.renumber(old_siblings, _ids(old_siblings))
    Lesson.objects.filter(pk=lesson.pk).update(module_id=target)
    new_siblings = Lesson.objects.filter(module_id=target)
    others = [pk for pk in _ids(new_siblings) if pk != lesson.pk]
    return moved + positions.renumber(new_siblings, _insert(others, lesson.pk, position))


@transaction.atomic
def lesson_update(*, lesson: Lesson, data: dict[str, Any], expected: list[int]) -> Lesson:
    """Change a lesson's fields and/or move it (within its module, or to another module of
    the same course). One request is one saved change: +1 on its version."""
    course = None
    moving = data.get("position") is not None or data.get("module") is not None
    if moving:
        course = _lock_course(lesson.module.course_id)
    lesson = Lesson.objects.select_for_update().select_related("module__course").get(pk=lesson.pk)
    course = course or lesson.module.course
    version_check(stored=lesson.version, expected=expected, what="lesson")
    moved = (
        _lesson_move(
            lesson=lesson,
            course=course,
            target_id=data.get("module"),
            position=data.get("position"),
        )
        if moving
        else []
    )
    changes = {
        field: data[field]
        for field in LESSON_FIELDS
        if field in data and data[field] != getattr(lesson, field)
    }
    if "body" in changes:
        changes["body_html"] = markdown_render(changes["body"])
    if changes:
        bump = {} if lesson.pk in moved else {"version": F("version") + 1}
        Lesson.objects.filter(pk=lesson.pk).update(**changes, **bump)
    if changes or moved:
        course_changed(course)
    lesson.refresh_from_db()
    return lesson


@transaction.atomic
def lesson_delete(*, lesson: Lesson) -> None:
    """Delete a lesson (its progress records and files go too); the later ones move up."""
    course = _lock_course(lesson.module.course_id)
    locked = Lesson.objects.select_for_update().filter(pk=lesson.pk).first()
    if locked is None:
        raise NotFound("No such lesson.")
    lesson = locked
    _files_delete_on_commit(_files_of(Lesson.objects.filter(pk=lesson.pk)))
    module_id = lesson.module_id
    lesson.delete()
    siblings = Lesson.objects.filter(module_id=module_id)
    positions.renumber(siblings, _ids(siblings))
    course_changed(course)
    _lessons_removed(course)
