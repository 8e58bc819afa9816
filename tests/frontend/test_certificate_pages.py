"""The certificate's page `/certificates/{code}` (server-rendered, public, printable, under
the strict policy), its PDF `/certificates/{code}.pdf`, and the certificates' admin."""

import re
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.test import Client

from catalog.models import CourseInstructor, Lesson
from enrollment import services
from enrollment.certificate_pdf import certificate_pdf
from enrollment.models import Certificate
from tests.enrollment.helpers import after_commit
from tests.factories import PASSWORD, make_course, make_instructor, make_user
from tests.frontend.test_pages import policy_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def certificate() -> Certificate:
    teacher = make_instructor(name="Ada <Lovelace>")
    course = make_course(
        title="Compilers & Interpreters", instructor=teacher, modules=1, lessons_per_module=2
    )
    CourseInstructor.objects.create(course=course, user=make_instructor(name="Grace Hopper"))
    student = make_user(name="Zoë Dvořák")
    with after_commit():
        enrollment = services.enrollment_create(
            course=course, student=None, user=student, payment_method=None
        )
        for lesson in Lesson.objects.filter(module__course=course):
            services.progress_record(
                enrollment=enrollment, lesson_id=lesson.id, completed=True, position_seconds=None
            )
    made = Certificate.objects.get()
    # A fixed date, to check how it is printed.
    Certificate.objects.filter(pk=made.pk).update(issued_at=datetime(2026, 5, 3, 9, 30, tzinfo=UTC))
    made.refresh_from_db()
    return made


def test_anyone_opens_the_verification_page(certificate):
    response = Client().get(f"/certificates/{certificate.code}")

    assert response.status_code == 200
    body = response.content.decode()
    assert "Zoë Dvořák" in body
    assert "Compilers &amp; Interpreters" in body
    assert "Ada &lt;Lovelace&gt; and Grace Hopper" in body  # escaped
    assert "3 May 2026" in body and 'datetime="2026-05-03T09:30:00Z"' in body
    assert certificate.code in body
    assert f'href="/certificates/{certificate.code}.pdf"' in body
    assert f"http://testserver/certificates/{certificate.code}" in body
    assert '<meta name="robots" content="noindex">' in body
    # The verification list names what it certifies, for people and screen readers.
    listed = dict(re.findall(r"<dt>([^<]+)</dt><dd>(.*?)</dd>", body))
    assert listed["Student"] == "Zoë Dvořák"
    assert listed["Instructors"] == "Ada &lt;Lovelace&gt; and Grace Hopper"
    assert "3 May 2026" in listed["Completed on"]
    # Under the strict policy, with nothing inline.
    policy = policy_of(response)
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert "<script>" not in body and " style=" not in body and " onclick=" not in body
    assert 'src="/static/js/pages/certificate.js"' in body


def test_the_page_answers_a_code_typed_in_lower_case(certificate):
    response = Client().get(f"/certificates/{certificate.code.lower()}")
    assert response.status_code == 200 and "Zoë Dvořák" in response.content.decode()


@pytest.mark.parametrize("code", ["AAAA-BBBB-CCCC-DDDD", "nope"])
def test_an_unknown_code_is_a_404_page(code):
    response = Client().get(f"/certificates/{code}")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Certificate not found" in body and code in body
    assert policy_of(response)["script-src"] == ["'self'"]
    assert Client().get(f"/certificates/{code}.pdf").status_code == 404


def test_the_pdf_downloads(certificate):
    response = Client().get(f"/certificates/{certificate.code}.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="certificate-{certificate.code}.pdf"'
    )
    document = response.content
    assert document.startswith(b"%PDF-") and document.rstrip().endswith(b"%%EOF")
    assert b"/Count 1" in document  # one page
    assert certificate.code.encode() in document  # its keywords


def pdf_text(document: bytes) -> str:
    """The text drawn by a PDF without embedded fonts (core fonts write it as is)."""
    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", document, re.S)
    return b"".join(zlib.decompress(stream) for stream in streams).decode("latin-1")


def test_without_unicode_fonts_the_pdf_folds_what_latin_1_cannot_hold(certificate):
    document = certificate_pdf(certificate, verify_url="https://portal.example/c", font_dir=None)
    text = pdf_text(document)
    assert "(Zoë Dvorák)" in text  # ř is not Latin-1: folded to r; ë and á are kept
    assert "Compilers & Interpreters" in text
    assert "taught by Ada <Lovelace> and Grace Hopper" in text
    assert "Issued on 3 May 2026" in text
    assert f"Certificate {certificate.code}" in text
    assert "Verify it at https://portal.example/c" in text


def test_with_dejavu_fonts_the_pdf_embeds_them(certificate, tmp_path, settings):
    dejavu = settings.CERTIFICATE_FONT_DIR
    assert Path(dejavu, "DejaVuSans-Bold.ttf").is_file(), "run scripts/browser (fonts-dejavu-core)"
    document = certificate_pdf(certificate, verify_url="https://portal.example/c", font_dir=dejavu)
    assert document.startswith(b"%PDF-") and b"DejaVu" in document
    # A folder without the fonts falls back to the core ones instead of failing.
    fallback = certificate_pdf(certificate, verify_url="x", font_dir=str(tmp_path))
    assert b"DejaVu" not in fallback and b"Helvetica" in fallback


def test_staff_see_certificates_in_the_admin_and_cannot_change_them(certificate):
    make_user(email="staff@example.com", is_staff=True, is_superuser=True)
    client = Client()
    assert client.login(email="staff@example.com", password=PASSWORD)

    listing = client.get("/admin/enrollment/certificate/")
    assert listing.status_code == 200 and certificate.code in listing.content.decode()
    found = client.get("/admin/enrollment/certificate/", {"q": "dvořák"})
    assert certificate.code in found.content.decode()
    page = client.get(f"/admin/enrollment/certificate/{certificate.pk}/change/")
    assert page.status_code == 200
    assert 'name="student_name"' not in page.content.decode()  # read-only
    assert client.get("/admin/enrollment/certificate/add/").status_code == 403
    delete = client.get(f"/admin/enrollment/certificate/{certificate.pk}/delete/")
    assert delete.status_code == 403
