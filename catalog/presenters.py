"""Courses and lessons as the contract's JSON shapes (catalog.shapes). Plain functions: lists
and search hits are hot."""

from collections.abc import Callable

from django.core.files.storage import storages

from catalog import shapes
from catalog.media.storage import file_basename, guess_content_type, media_url
from catalog.models import Course, Lesson, Module
from catalog.shapes import CAPTION_CONTENT_TYPE


def money(value) -> str:
    return f"{value:.2f}"


def primary_instructor(course: Course, links: list | None = None) -> shapes.InstructorRef | None:
    # Uses the prefetched course_instructors (ordered by position): no query per course.
    links = list(course.course_instructors.all()) if links is None else links
    if not links:
        return None
    user = links[0].user
    return {"id": user.id, "name": user.name}


def course_summary(course: Course, instructor_links: list | None = None) -> shapes.Course:
    """The contract's `Course`; instructor_links (CourseInstructor rows with their users,
    by position) stand in for the prefetch when the caller already has them."""
    return {
        "id": course.id,
        "slug": course.slug,
        "title": course.title,
        "summary": course.summary,
        "category": course.category,
        "level": course.level,
        "price": money(course.price),
        "currency": course.currency,
        "instructor": primary_instructor(course, instructor_links),
        "capacity": course.capacity,
        "seats_taken": course.seats_taken,
        "rating": float(course.rating) if course.rating is not None else None,
        "published_at": course.published_at.isoformat().replace("+00:00", "Z")
        if course.published_at
        else None,
        "refund_days": course.refund_days,
        "refund_max_percent": course.refund_max_percent,
    }


def module_outline(module: Module) -> shapes.Module:
    return {
        "id": module.id,
        "title": module.title,
        "position": module.position,
        "lessons": [lesson_outline(lesson) for lesson in module.lessons.all()],
    }


def lesson_outline(lesson: Lesson) -> shapes.LessonOutline:
    return {
        "id": lesson.id,
        "title": lesson.title,
        "position": lesson.position,
        "duration_seconds": lesson.duration_seconds,
        "kind": lesson.kind,
        "preview": lesson.preview,
    }


def course_detail(course: Course) -> shapes.CourseDetail:
    """`Course` plus its description, every instructor and the module/lesson outline."""
    return {
        **course_summary(course),
        "description": course.description,
        "instructors": [
            {"id": link.user.id, "name": link.user.name} for link in course.course_instructors.all()
        ],
        "modules": [module_outline(module) for module in course.modules.all()],
    }


def lesson_detail(
    lesson: Lesson,
    *,
    previous: int | None,
    following: int | None,
    absolute: Callable[[str], str],
) -> shapes.Lesson:
    """The contract's `Lesson` for one reader: its media links are signed for this answer
    (catalog.media.storage), so it is never cached or shared. `absolute` makes the local
    backend's links absolute (S3's already are)."""
    module = lesson.module
    course = module.course
    return {
        **lesson_outline(lesson),
        "course": {"slug": course.slug, "title": course.title},
        "module": {"id": module.id, "title": module.title},
        "body_html": lesson.body_html,
        "media": lesson_media(lesson, absolute=absolute),
        "resources": [
            {
                "title": resource.title,
                "url": absolute(
                    media_url(
                        resource.file.name,
                        content_type=resource.content_type
                        or guess_content_type(resource.file.name),
                        download_as=file_basename(resource.file.name),
                    )
                ),
                "size": resource.size,
            }
            for resource in lesson.resources.all()
        ],
        "previous": previous,
        "next": following,
    }


def lesson_media(lesson: Lesson, *, absolute: Callable[[str], str]) -> shapes.Media | None:
    if not lesson.media:
        return None
    return {
        "url": absolute(media_url(lesson.media.name, content_type=lesson.media_content_type)),
        "content_type": lesson.media_content_type,
        "captions": [
            {
                "lang": caption.lang,
                "label": caption.label,
                "url": absolute(media_url(caption.file.name, content_type=CAPTION_CONTENT_TYPE)),
            }
            for caption in lesson.captions.all()
        ],
    }


# --- the studio ----------------------------------------------------------------------------


def _timestamp(value) -> str:
    return value.isoformat().replace("+00:00", "Z")


def studio_course_summary(course: Course) -> shapes.StudioCourseSummary:
    """A course on its author's list (selectors.studio_course_list annotates the counts)."""
    return {
        **course_summary(course),
        "published": course.is_published,
        "version": course.version,
        "enrollment_count": course.enrollment_count,
        "modules_count": course.modules_count,  # type: ignore[attr-defined]  # annotated
        "lessons_count": course.lessons_count,  # type: ignore[attr-defined]  # annotated
        "updated_at": _timestamp(course.updated_at),
    }


def studio_lesson_summary(lesson: Lesson) -> shapes.StudioLessonSummary:
    """A curriculum entry; the counts come annotated (selectors) or from the prefetch."""
    captions = getattr(lesson, "captions_count", None)
    resources = getattr(lesson, "resources_count", None)
    return {
        "id": lesson.id,
        "title": lesson.title,
        "position": lesson.position,
        "kind": lesson.kind,
        "preview": lesson.preview,
        "duration_seconds": lesson.duration_seconds,
        "version": lesson.version,
        "has_media": bool(lesson.media),
        "captions_count": len(lesson.captions.all()) if captions is None else captions,
        "resources_count": len(lesson.resources.all()) if resources is None else resources,
    }


def studio_module(module: Module) -> shapes.StudioModule:
    return {
        "id": module.id,
        "title": module.title,
        "position": module.position,
        "version": module.version,
        "lessons": [studio_lesson_summary(lesson) for lesson in module.lessons.all()],
    }


def studio_course(course: Course) -> shapes.StudioCourse:
    return {
        **course_summary(course),
        "description": course.description,
        "refund_policy": course.refund_policy,
        "instructors": [
            {"id": link.user.id, "name": link.user.name} for link in course.course_instructors.all()
        ],
        "published": course.is_published,
        "version": course.version,
        "updated_at": _timestamp(course.updated_at),
        "modules": [studio_module(module) for module in course.modules.all()],
    }


def _stored_size(name: str) -> int | None:
    try:
        return storages["default"].size(name)
    except Exception:  # a missing file or an unreachable storage: the size is optional
        return None


def studio_lesson(lesson: Lesson, *, absolute: Callable[[str], str]) -> shapes.StudioLesson:
    """A lesson as its authors edit it; links signed for this answer, like lesson_detail."""
    module = lesson.module
    course = module.course
    media: shapes.StudioMedia | None = None
    if lesson.media:
        media = {
            "url": absolute(media_url(lesson.media.name, content_type=lesson.media_content_type)),
            "content_type": lesson.media_content_type,
            "size": _stored_size(lesson.media.name),
            "captions": [
                {
                    "id": caption.id,
                    "lang": caption.lang,
                    "label": caption.label,
                    "url": absolute(
                        media_url(caption.file.name, content_type=CAPTION_CONTENT_TYPE)
                    ),
                }
                for caption in lesson.captions.all()
            ],
        }
    return {
        **studio_lesson_summary(lesson),
        "module": {"id": module.id, "title": module.title},
        "course": {"slug": course.slug, "title": course.title},
        "body": lesson.body,
        "body_html": lesson.body_html,
        "media": media,
        "resources": [
            {
                "id": resource.id,
                "title": resource.title,
                "url": absolute(_resource_url(resource)),
                "size": resource.size,
                "content_type": resource.content_type or guess_content_type(resource.file.name),
            }
            for resource in lesson.resources.all()
        ],
    }


def _resource_url(resource) -> str:
    return media_url(
        resource.file.name,
        content_type=resource.content_type or guess_content_type(resource.file.name),
        download_as=file_basename(resource.file.name),
    )
