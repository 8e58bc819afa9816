"""Schemathesis against a running daphne server: every operation of /api/schema/, fuzzed
with every check schemathesis has (no 5xx, documented statuses, content types, headers and
bodies, schema-valid input accepted, schema-invalid input refused, unsupported methods, …).

The operations come from the document GET /api/schema/ serves (loaded at collection, as
tests/schema_check.py does); the first test asserts the running server serves that same
document, and every case is a real HTTP request to that server.

Bounded and repeatable: a fixed number of examples per operation, derandomized (the same
cases every run), no example database. Each operation is a test of its own on data it owns
(flushed after it): an instructor, who is also a student, with a bearer token; a course they
teach (with a lesson, its module, a captions file and a resource) and an enrollment of theirs,
which the path parameters name half of the time so the operations get past 404.
"""

import json
import os
import secrets
import urllib.request

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation

from catalog.models import Lesson, LessonCaption, LessonResource
from tests.conftest import client_for
from tests.factories import make_course, make_instructor, token_for
from tests.live import LiveServer
from tests.schema_check import openapi_document

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]

# Enough to stay well under a minute on two cores; raise it for a deeper run.
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "15"))
# Django's CSRF check compares the cookie with the header: one made-up secret in both lets
# session sign-in (POST /api/auth/login) past its CSRF check.
CSRF_SECRET = secrets.token_hex(16)

# Rules a schema cannot state, answered 400 `invalid` (with `fields`) for schema-valid
# input: the course must exist (and a paid one needs a payment method the gateway accepts),
# the password must pass Django's validators and an email registers once, the lesson must
# belong to the enrollment's course, min_price may not exceed max_price, a webhook's
# signature must be Stripe's.
BUSINESS_RULES: dict[str, list[str]] = {
    "POST /api/auth/register": ["400"],
    "POST /api/payments/stripe/webhook": ["400"],
    "POST /api/enrollments": ["400", "402"],
    "POST /api/enrollments/{enrollment_id}/progress": ["400"],
    "GET /api/courses": ["400"],
    # A video's bytes must be MP4 or WebM, captions WebVTT (415); a form needs a video or
    # captions, one language per captions file, captions need a video (400).
    "POST /api/lessons/{lesson_id}/media": ["400", "415"],
    # A resource's type must be one of LESSON_RESOURCE_TYPES (415), and it may not be
    # empty (400).
    "POST /api/lessons/{lesson_id}/resources": ["400", "415"],
    # A lesson moves only to a module of its own course; a course without a lesson cannot
    # be published.
    "PATCH /api/lessons/{lesson_id}": ["400"],
    "POST /api/courses/{slug}/publish": ["400"],
    # A coupon gives exactly one of percent_off and amount_off ("0.00" is not one), and
    # expires in the future; a quote needs a code that exists for that course.
    "POST /api/courses/{slug}/coupons": ["400"],
    "GET /api/courses/{slug}/coupons/{code}/quote": ["400"],
    # The account page: the current password must be the account's and the new one pass
    # the validators; erasure asks for the password too.
    "POST /api/me/password": ["400"],
    "DELETE /api/me": ["400"],
    # The emailed links: a token that is not a genuine, unused, unexpired one is refused.
    "POST /api/auth/claim": ["400"],
    "POST /api/auth/claim/check": ["400"],
    "POST /api/auth/password-reset/confirm": ["400"],
    "POST /api/auth/verify-email": ["400"],
}
# What schemathesis accepts for schema-valid input by default, but for 5xx: a server error
# is a bug here, whatever the input.
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429"]
# What counts as refusing schema-invalid input: schemathesis' list plus 413, the answer to
# a body over API_MAX_BODY_BYTES (a long enough invalid string is one; lesson text may be
# long, so such strings are generated).
REFUSED = [
    "400",
    "401",
    "403",
    "404",
    "405",
    "406",
    "409",
    "413",
    "415",
    "422",
    "428",
    "429",
    "5xx",
]

CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
            # Every string refuses NUL (portal/parsers.py, DRF's CharField), which OpenAPI
            # 3.0 cannot say; tests/portal/test_bad_input.py covers it.
            "allow-x00": False,
        },
        "checks": {
            "positive_data_acceptance": {"expected-statuses": ACCEPTED},
            "negative_data_rejection": {"expected-statuses": REFUSED},
        },
        "operations": [
            {
                "include-name": name,
                "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED + extra}},
            }
            for name, extra in BUSINESS_RULES.items()
        ],
    }
)
schema = schemathesis.openapi.from_dict(openapi_document(), config=CONFIG)


@pytest.fixture(scope="module")
def server(django_db_setup):
    # Without a signing secret the webhook answers 503: give it one, so a bad signature is
    # the 400 it is in production.
    live = LiveServer(STRIPE_WEBHOOK_SECRET="whsec_schemathesis").start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def http(server):
    """One connection pool for the module's cases (keep-alive, not a connection each)."""
    with requests.Session() as session:
        yield session


def test_the_server_serves_the_document_under_test(server):
    with urllib.request.urlopen(server.url + "/api/schema/?format=json", timeout=10) as answer:  # noqa: S310
        assert json.loads(answer.read()) == openapi_document()


@pytest.fixture
def owned() -> dict:
    """The test's own rows, with fixed names so that every run sees the same data: a course
    the user teaches, one they are enrolled in, one they may enroll in."""
    user = make_instructor(email="fuzz-instructor@example.com", name="Fuzz Instructor")
    taught = make_course(
        title="Fuzzing 101", slug="fuzzing-101", instructor=user, modules=1, lessons_per_module=1
    )
    enrolled = make_course(title="Enrolled", slug="enrolled", modules=1, lessons_per_module=2)
    make_course(title="Open Course", slug="open-course", capacity=3)
    answer = client_for(user).post("/api/enrollments", {"course": "enrolled"}, format="json")
    assert answer.status_code == 201, answer.content
    lesson = Lesson.objects.filter(module__course=enrolled).order_by("pk").first()
    taught_lesson = Lesson.objects.get(module__course=taught)
    # Rows for the studio's deletes (their files need not exist: deleting is quiet).
    caption = LessonCaption.objects.create(
        lesson=taught_lesson, lang="en", label="English", file="lessons/fuzz/captions.en.vtt"
    )
    resource = LessonResource.objects.create(
        lesson=taught_lesson, title="Sheet", file="lessons/fuzz/sheet.pdf", size=10
    )
    return {
        "user": user,
        "token": token_for(user),
        ParameterLocation.PATH: {
            "slug": "fuzzing-101",
            "enrollment_id": answer.json()["id"],
            "lesson_id": taught_lesson.pk,
            "module_id": taught_lesson.module_id,
            "caption_id": caption.pk,
            "resource_id": resource.pk,
        },
        ParameterLocation.BODY: {
            "course": "open-course",
            "lesson": lesson.pk,
            "module": taught_lesson.module_id,
        },
    }


def _aim_at_owned_rows(case, owned: dict) -> None:
    """Half of the valid path parameters and body fields that name a course, an enrollment
    or a lesson (chosen by parity, so deterministic) name one of the test's own instead of
    one that does not exist. Invalid ones are left alone: they are the point of their case."""
    for location, values in (
        (ParameterLocation.PATH, case.path_parameters),
        (ParameterLocation.BODY, case.body),
    ):
        if not isinstance(values, dict) or case.meta is None or case.meta.is_negative_at(location):
            continue
        for name, value in list(values.items()):
            if name in owned[location] and len(str(value)) % 2 == 1:
                values[name] = owned[location][name]


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, owned, server, http):
    _aim_at_owned_rows(case, owned)
    # Signing out revokes the token used: that operation gets a token of its own each time.
    token = token_for(owned["user"]) if case.path == "/api/auth/logout" else owned["token"]
    headers = {
        "Authorization": f"Bearer {token}",
        "Cookie": f"csrftoken={CSRF_SECRET}",
        "X-CSRFToken": CSRF_SECRET,
    }
    case.call_and_validate(base_url=server.url, session=http, headers=headers)
