"""Page views only: each renders a template; the pages fetch their data from the API.

Every page sets the CSRF cookie (the pages' scripts send it back as X-CSRFToken).
The certificate page is the exception: it renders its certificate on the server, so the
verification reads (and prints) without scripts, and the PDF is made here too. The course
page renders its course too (frontend/course_page.py), for search engines and a first
paint that its script's render does not move.
"""

import contextlib
import functools
import hashlib
import json
import re
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET
from drf_spectacular.views import SpectacularSwaggerSplitView

from catalog import answers as catalog_answers
from catalog import selectors as catalog_selectors
from catalog.models import Course, Lesson
from catalog.serializers import CURRENCIES
from catalog.shapes import LessonKind, Level
from enrollment import presenters, selectors
from enrollment.certificate_pdf import certificate_pdf, instructors_text, issued_on
from frontend.course_page import course_page
from frontend.search_state import (
    PAGE_SIZE,
    SORT_OPTIONS,
    price_options,
    search_description,
    search_state,
    search_title,
)
from portal.accounts.serializers import UserSerializer
from portal.errors import NotFound

DEFAULT_NEXT = "/dashboard"
# Browsers drop tab, CR and LF anywhere in a URL ("/\t/evil.example" is "//evil.example")
# and C0 controls at its ends: they are removed before `next` is judged.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
# Search results show about this many characters of a page's <meta name="description">.
META_DESCRIPTION_LENGTH = 160
# Cards in the home grid's first page (GRID_SIZE in pages/home.js): as many placeholders
# are in its HTML.
HOME_GRID_SIZE = 12


def _page(request: HttpRequest, template: str, **context) -> HttpResponse:
    return render(request, f"frontend/{template}", context)


@ensure_csrf_cookie
def home(request: HttpRequest) -> HttpResponse:
    """The catalog: its filters (and a query typed before) come back from the URL."""
    state = search_state(request.GET)
    return _page(
        request,
        "home.html",
        page="home",
        state=state,
        price_options=price_options(state),
        skeletons=range(HOME_GRID_SIZE),
    )


@ensure_csrf_cookie
def search_page(request: HttpRequest) -> HttpResponse:
    """/search?q=&category=&level=&max_price=&sort=&page=: every result of a query. The
    state is read from the URL (anything unknown or malformed ignored) for the heading,
    title, description and form; pages/search.js loads the results into it."""
    state = search_state(request.GET)
    return _page(
        request,
        "search.html",
        page="search",
        state=state,
        title=search_title(state),
        description=search_description(state),
        price_options=price_options(state),
        sort_options=SORT_OPTIONS,
        skeletons=range(PAGE_SIZE),
    )


def meta_description(text: str, limit: int = META_DESCRIPTION_LENGTH) -> str:
    """A page's <meta name="description"> from free text: one line, at most `limit`
    characters, cut at a word with an ellipsis."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.-\u2013\u2014") + "…"


@ensure_csrf_cookie
def course(request: HttpRequest, slug: str) -> HttpResponse:
    """A course page. A draft, like a course that does not exist, is a 404 page for
    everyone but its instructors and staff; they (who may edit it) see "Edit course" and
    its draft/published state where students see the enrollment form.

    The course itself (title, summary, description, outline, price, seats) is in the HTML
    (frontend/course_page.py), from the answer the page's script fetches again."""
    user = request.user
    viewer = user if user.is_authenticated else None
    found = catalog_selectors.course_visible_get(slug=slug, viewer=viewer)
    detail = None
    if found is not None:
        with contextlib.suppress(NotFound):  # unpublished between the two reads
            detail = catalog_answers.course_detail_get(slug=slug, viewer=viewer)
    if found is None or detail is None:
        context = {"page": "course", "slug": slug}
        return render(request, "frontend/course_missing.html", context, status=404)
    teaches = viewer is not None and catalog_selectors.course_is_taught_by(
        course=found, user=viewer
    )
    can_edit = teaches or user.is_staff
    return _page(
        request,
        "course.html",
        page="course",
        slug=slug,
        course=found,
        detail=detail,
        shown=course_page(detail, draft=can_edit and not found.is_published),
        meta_description=meta_description(detail["summary"] or detail["description"]),
        teaches=teaches,
        can_edit=can_edit,
        stripe_publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
        waitlist_offer_minutes=round(settings.WAITLIST_OFFER_MINUTES),
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
def account(request: HttpRequest) -> HttpResponse:
    """The account page: profile, password, where one is signed in, one's data, erasure
    (all through /api/me…); visitors get the sign-in prompt."""
    user = request.user
    account_user = UserSerializer(user).data if user.is_authenticated else None
    return _page(request, "account.html", page="account", account_user=account_user)


@ensure_csrf_cookie
def lesson(request: HttpRequest, enrollment_id: int, lesson_id: int | None = None) -> HttpResponse:
    return _page(
        request, "lesson.html", page="lesson", enrollment_id=enrollment_id, lesson_id=lesson_id
    )


@ensure_csrf_cookie
def lesson_preview(request: HttpRequest, lesson_id: int) -> HttpResponse:
    """A preview lesson, readable by anyone (the course page links them); the page shows
    what the API allows: a lesson that is not a preview asks to sign in or enroll."""
    return _page(request, "lesson.html", page="lesson", lesson_id=lesson_id, preview=True)


@ensure_csrf_cookie
def instructor(request: HttpRequest) -> HttpResponse:
    return _page(request, "instructor.html", page="instructor")


# --- the instructor studio: the pages read and write through the authoring API ----------


def _studio_missing(request: HttpRequest) -> HttpResponse:
    """404 with a page of the portal's own (the header, a way back), not the bare one."""
    return render(request, "frontend/studio_missing.html", {"page": "studio"}, status=404)


def _studio_refusal(request: HttpRequest) -> HttpResponse | None:
    """Anonymous → the sign-in page (back here after); signed in but neither instructor nor
    staff → 404: the studio does not exist for them."""
    if not request.user.is_authenticated:
        return redirect(f"{reverse('signin')}?next={quote(request.get_full_path())}")
    if not (request.user.is_instructor or request.user.is_staff):
        return _studio_missing(request)
    return None


@ensure_csrf_cookie
def studio(request: HttpRequest) -> HttpResponse:
    return _studio_refusal(request) or _page(request, "studio.html", page="studio")


@ensure_csrf_cookie
def studio_new(request: HttpRequest) -> HttpResponse:
    return _studio_refusal(request) or _page(
        request,
        "studio_new.html",
        page="studio",
        levels=Level.choices,
        currencies=CURRENCIES,
    )


@ensure_csrf_cookie
def studio_course(request: HttpRequest, slug: str) -> HttpResponse:
    """The course builder; a course that is not the caller's → 404 (as the API answers)."""
    if refusal := _studio_refusal(request):
        return refusal
    course = Course.objects.filter(slug=slug).first()
    if course is None or not catalog_selectors.course_can_edit(course=course, user=request.user):
        return _studio_missing(request)
    return _page(
        request,
        "studio_course.html",
        page="studio",
        slug=slug,
        title=course.title,
        levels=Level.choices,
        currencies=CURRENCIES,
    )


@ensure_csrf_cookie
def studio_lesson(request: HttpRequest, lesson_id: int) -> HttpResponse:
    if refusal := _studio_refusal(request):
        return refusal
    lesson = Lesson.objects.select_related("module__course").filter(pk=lesson_id).first()
    if lesson is None or not catalog_selectors.course_can_edit(
        course=lesson.module.course, user=request.user
    ):
        return _studio_missing(request)
    return _page(
        request,
        "studio_lesson.html",
        page="studio",
        lesson_id=lesson_id,
        slug=lesson.module.course.slug,
        kinds=LessonKind.choices,
    )


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


def enrollment_receipt(request: HttpRequest, enrollment_id: int) -> HttpResponse:
    """The dashboard's link: an enrollment's receipt page, found by the enrollment."""
    try:
        enrollment = selectors.enrollment_visible_get(
            enrollment_id=enrollment_id, user=request.user
        )
        found = selectors.receipt_of_enrollment(enrollment=enrollment)
    except NotFound:
        return receipt(request, "")
    return redirect("receipt-page", number=found.number)


def receipt(request: HttpRequest, number: str) -> HttpResponse:
    """A receipt, printable, for its buyer signed in (and the course's instructors, staff);
    a sign-in prompt for visitors, a 404 page for anyone else (whether it exists or not)."""
    if not request.user.is_authenticated:
        return _page(request, "receipt.html", page="receipt", receipt=None, signed_in=False)
    found = selectors.receipt_by_number_for(number=number, user=request.user)
    if found is None:
        context = {"page": "receipt", "receipt": None, "signed_in": True, "number": number}
        return render(request, "frontend/receipt.html", context, status=404)
    return _page(request, "receipt.html", page="receipt", receipt=found)


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


# --- the installable app: web app manifest and service worker --------------------------

STATIC_DIR = Path(__file__).resolve().parent / "static"
SERVICE_WORKER = STATIC_DIR / "sw.js"
# The line of sw.js that the served copy replaces with the version and the shell's URLs.
SERVICE_WORKER_CONFIG = 'const CONFIG = { version: "unset", shell: [] }; // replaced when served'
THEME_COLOUR = "#4f46e5"
ICONS = [
    ("img/icons/icon-192.png", "192x192", "any"),
    ("img/icons/icon-512.png", "512x512", "any"),
    ("img/icons/maskable-192.png", "192x192", "maskable"),
    ("img/icons/maskable-512.png", "512x512", "maskable"),
]


def _shell_files() -> dict[str, Path]:
    """What the pages need, by static name: the stylesheets (the portal's and the code
    highlighting of lesson text), every ES module, the logo and the icons."""
    names = ["css/portal.css", "catalog/highlight.css", "img/logo.svg"]
    names += [name for name, _, _ in ICONS]
    for folder in ("js", "js/pages"):
        names += sorted(f"{folder}/{path.name}" for path in (STATIC_DIR / folder).glob("*.js"))
    found = {name: finders.find(name) for name in names}
    return {name: Path(path) for name, path in found.items() if isinstance(path, str)}


@functools.cache
def _service_worker_source() -> str:
    """sw.js with its CONFIG: the shell's URLs (hashed names in production, where the
    modules import each other by them too: portal/staticfiles.py) and a version that
    changes with any shell file, so a changed file installs a new worker and a fresh shell
    cache."""
    files = _shell_files()
    urls = sorted({static(name) for name in files})
    source = SERVICE_WORKER.read_text()
    digest = hashlib.sha256(source.encode())
    for path in files.values():
        digest.update(path.read_bytes())
    config = json.dumps({"version": digest.hexdigest()[:16], "shell": urls})
    if SERVICE_WORKER_CONFIG not in source:
        raise RuntimeError("sw.js lost its CONFIG line")
    return source.replace(SERVICE_WORKER_CONFIG, f"const CONFIG = {config};")


@require_GET
@cache_control(no_cache=True)
def service_worker(request: HttpRequest) -> HttpResponse:
    """/sw.js, at the site root so its scope is the whole site. Not cached by the browser
    without asking (no-cache): a new version is picked up on the next visit."""
    source = _service_worker_source.__wrapped__() if settings.DEBUG else _service_worker_source()
    response = HttpResponse(source, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
@cache_control(max_age=3600)
def web_manifest(request: HttpRequest) -> JsonResponse:
    """The web app manifest: the portal installs as an app (a phone's home screen)."""
    manifest = {
        "name": "Learning Portal",
        "short_name": "Learning",
        "description": "Courses, lessons and live progress.",
        "id": "/",
        "start_url": "/dashboard",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": THEME_COLOUR,
        "icons": [
            {"src": static(name), "sizes": sizes, "type": "image/png", "purpose": purpose}
            for name, sizes, purpose in ICONS
        ],
    }
    return JsonResponse(manifest, content_type="application/manifest+json")
