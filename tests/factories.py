"""Small builders for test data (explicit functions, no factory library)."""

import itertools
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from catalog.models import Course, CourseInstructor, Lesson, Module
from portal.accounts.models import AuthToken, User

_counter = itertools.count(1)
PASSWORD = "correct-horse-battery"


def make_user(*, email: str | None = None, name: str = "Test User", **flags) -> User:
    """An established account: its email verified unless `email_verified_at=None`."""
    email = email or f"user{next(_counter)}@example.test"
    flags.setdefault("email_verified_at", timezone.now())
    return User.objects.create_user(email=email, password=PASSWORD, name=name, **flags)


def make_instructor(**kwargs) -> User:
    return make_user(is_instructor=True, name=kwargs.pop("name", "Ivy Instructor"), **kwargs)


def token_for(user: User) -> str:
    _, raw = AuthToken.objects.issue(user)
    return raw


def make_course(
    *,
    title: str | None = None,
    instructor: User | None = None,
    price: str = "0.00",
    capacity: int | None = None,
    published: bool = True,
    modules: int = 0,
    lessons_per_module: int = 0,
    **fields,
) -> Course:
    number = next(_counter)
    title = title or f"Course {number}"
    course = Course.objects.create(
        slug=fields.pop("slug", f"course-{number}"),
        title=title,
        summary=fields.pop("summary", f"Summary of {title}"),
        category=fields.pop("category", "Programming"),
        level=fields.pop("level", "beginner"),
        price=Decimal(price),
        capacity=capacity,
        published_at=fields.pop("published_at", timezone.now() - timedelta(minutes=number))
        if published
        else None,
        **fields,
    )
    CourseInstructor.objects.create(course=course, user=instructor or make_instructor())
    for module_position in range(1, modules + 1):
        module = Module.objects.create(
            course=course, title=f"Module {module_position}", position=module_position
        )
        for lesson_position in range(1, lessons_per_module + 1):
            Lesson.objects.create(
                module=module,
                title=f"Lesson {lesson_position}",
                position=lesson_position,
                duration_seconds=60 * lesson_position,
            )
    return course
