"""Certificates: issued once, in the transaction that completes an enrollment
(enrollment.transitions.complete), with what they certify copied in.

The code is the certificate's public key: anyone holding it may verify the certificate
(`GET /api/certificates/{code}`, the page `/certificates/{code}`), so it is drawn from a
CSPRNG (80 bits) and never derived from ids. Crockford's base32 alphabet (no I, L, O, U)
keeps it readable aloud and typeable from paper; it is shown in groups of four.
"""

import re
import secrets

from django.db import IntegrityError, transaction

from catalog.models import CourseInstructor
from enrollment.models import Certificate, Enrollment

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_GROUPS, CODE_GROUP_SIZE = 4, 4  # 16 characters of 5 bits: 80 bits


def certificate_code_new() -> str:
    groups = (
        "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUP_SIZE))
        for _ in range(CODE_GROUPS)
    )
    return "-".join(groups)


CODE_SHAPE = re.compile(r"[0-9A-Z]{4}(?:-[0-9A-Z]{4}){3}")


def certificate_code_normalise(code: str) -> str | None:
    """A code as typed from paper: any case; O read as 0, I and L as 1 (Crockford). None
    when it cannot be a code (nothing to look up: no NUL or 10 kB string reaches SQL)."""
    normal = code.strip().upper().translate(str.maketrans("OIL", "011"))
    return normal if CODE_SHAPE.fullmatch(normal) else None


def certificate_issue(
    *, enrollment: Enrollment, instructor_links: list[CourseInstructor]
) -> Certificate:
    """The enrollment's certificate, issued now (the caller holds the enrollment's row lock
    and has just completed it). Names and title are copied: renaming the course or an
    account later does not rewrite a certificate already handed out."""
    student = enrollment.student
    account = student.user if student.user_id else None
    fields = {
        "enrollment": enrollment,
        "student_name": (account.name if account is not None else "") or student.name,
        "course_title": enrollment.course.title,
        "course_slug": enrollment.course.slug,
        "instructor_names": [link.user.name for link in instructor_links if link.user.name],
        "issued_at": enrollment.completed_at,
    }
    for _ in range(3):  # a clash of 80 random bits is not expected; the constraint decides
        try:
            with transaction.atomic():
                return Certificate.objects.create(code=certificate_code_new(), **fields)
        except IntegrityError:
            if Certificate.objects.filter(enrollment=enrollment).exists():
                raise  # not a code clash: a second certificate for one enrollment
    raise RuntimeError("no free certificate code after three draws")
