"""Courses and lessons as the contract's JSON shapes (catalog.shapes). Plain functions: lists
and search hits are hot."""

from collections.abc import Callable

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
