"""Courses as the contract's JSON shapes (catalog.shapes). Plain functions: lists and search
hits are hot."""

from catalog import shapes
from catalog.models import Course, Module


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
        "lessons": [
            {
                "id": lesson.id,
                "title": lesson.title,
                "position": lesson.position,
                "duration_seconds": lesson.duration_seconds,
            }
            for lesson in module.lessons.all()
        ],
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
