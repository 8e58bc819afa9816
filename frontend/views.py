"""Page views only: each renders a template; the pages fetch their data from the API.

Every page sets the CSRF cookie (the pages' scripts send it back as X-CSRFToken).
The certificate page is the exception: it renders its certificate on the server, so the
verification reads (and prints) without scripts, and the PDF is made here too.
"""

import re

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import ensure_csrf_cookie
from drf_spectacular.views import SpectacularSwaggerSplitView

from enrollment import presenters, selectors
from enrollment.certificate_pdf import certificate_pdf, instructors_text, issued_on
from portal.errors import NotFound

DEFAULT_NEXT = "/dashboard"
# Browsers drop tab, CR and LF anywhere in a URL ("/\t/evil.example" is "//evil.example")
# and C0 controls at its ends: they are removed before `next` is judged.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


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


def safe_next(request: HttpRequest) -> str:
    """Where to go after signing in: a path on this site, else the dashboard. The page's
    script (ui.js safeNext) checks it again before navigating."""
    target = CONTROL_CHARACTERS.sub("", request.GET.get("next", "")).strip()
    on_this_site = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if on_this_site and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return DEFAULT_NEXT


@ensure_csrf_cookie
def sign_in(request: HttpRequest) -> HttpResponse:
    return _page(request, "signin.html", page="signin", next=safe_next(request))


@ensure_csrf_cookie
def register(request: HttpRequest) -> HttpResponse:
    return _page(request, "register.html", page="register", next=safe_next(request))


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


@ensure_csrf_cookie
def certificate(request: HttpRequest, code: str) -> HttpResponse:
    """The printable, public verification page of a certificate; 404 page for a code that
    names none."""
    try:
        found = selectors.certificate_by_code(code=code)
    except NotFound:
        context = {"page": "certificate", "certificate": None, "code": code}
        return render(request, "frontend/certificate.html", context, status=404)
    return _page(
        request,
        "certificate.html",
        page="certificate",
        certificate=found,
        body=presenters.certificate_body(found),
        issued_on=issued_on(found),
        instructors=instructors_text(found.instructor_names),
        verify_url=request.build_absolute_uri(reverse("certificate-page", args=[found.code])),
    )


def certificate_pdf_download(request: HttpRequest, code: str) -> HttpResponse:
    try:
        found = selectors.certificate_by_code(code=code)
    except NotFound as exc:
        raise Http404("No certificate has this code.") from exc
    document = certificate_pdf(
        found,
        verify_url=request.build_absolute_uri(reverse("certificate-page", args=[found.code])),
        font_dir=settings.CERTIFICATE_FONT_DIR,
    )
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="certificate-{found.code}.pdf"'
    return response


class ApiDocsView(SpectacularSwaggerSplitView):
    """/api/docs/: Swagger UI served from the project's static files (drf-spectacular-
    sidecar, no CDN) with its set-up script as a request of its own (`?script`), so the page
    runs under the portal's normal Content-Security-Policy."""

    template_name = "frontend/api_docs.html"
