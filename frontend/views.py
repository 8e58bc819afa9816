"""Page views only: each renders a template; the pages fetch their data from the API.

Every page sets the CSRF cookie (the pages' scripts send it back as X-CSRFToken).
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie


def _page(request: HttpRequest, template: str, **context) -> HttpResponse:
    return render(request, f"frontend/{template}", context)


@ensure_csrf_cookie
def home(request: HttpRequest) -> HttpResponse:
    return _page(request, "home.html", page="home")


@ensure_csrf_cookie
def course(request: HttpRequest, slug: str) -> HttpResponse:
    return _page(
        request,
        "course.html",
        page="course",
        slug=slug,
        stripe_publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
    )


@ensure_csrf_cookie
def sign_in(request: HttpRequest) -> HttpResponse:
    return _page(request, "signin.html", page="signin")


@ensure_csrf_cookie
def register(request: HttpRequest) -> HttpResponse:
    return _page(request, "register.html", page="register")


@ensure_csrf_cookie
def dashboard(request: HttpRequest) -> HttpResponse:
    return _page(request, "dashboard.html", page="dashboard")


@ensure_csrf_cookie
def lesson(request: HttpRequest, enrollment_id: int, lesson_id: int | None = None) -> HttpResponse:
    return _page(
        request, "lesson.html", page="lesson", enrollment_id=enrollment_id, lesson_id=lesson_id
    )


@ensure_csrf_cookie
def instructor(request: HttpRequest) -> HttpResponse:
    return _page(request, "instructor.html", page="instructor")
