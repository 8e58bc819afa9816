"""The enrollment's shapes and enums, each defined once (see portal.shapes).

Derived from here: the models' status choices (enrollment.models), the presenters' return
types (enrollment.presenters), the OpenAPI components (enrollment.schema) and the tests'
contract keys (tests/contract.py).
"""

from typing import Annotated, TypedDict

from django.db import models

from catalog.shapes import MONEY_HELP, Course
from portal.shapes import Field, keys_of


class EnrollmentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    REFUNDED = "refunded", "Refunded"


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    REQUIRES_ACTION = "requires_action", "Requires action"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    REFUNDED = "refunded", "Refunded"


class Student(TypedDict):
    id: int
    email: Annotated[str, Field(format="email")]
    name: str


class NextAction(TypedDict):
    """What the buyer must do to complete the payment (3-D Secure): with Stripe.js's
    `handleNextAction` by the client secret, or on the page at `redirect_url` (the test
    gateway's challenge)."""

    type: Annotated[str, Field(choices=["use_stripe_sdk", "redirect_to_url"])]
    client_secret: str
    redirect_url: str | None


class Payment(TypedDict):
    status: Annotated[str, Field(choices=PaymentStatus.values)]
    amount: Annotated[str, Field(help_text=MONEY_HELP)]
    currency: str
    failure_reason: str | None
    next_action: Annotated[
        NextAction | None, Field(help_text="null unless the buyer must act (3-D Secure).")
    ]
    attempts: Annotated[int, Field(help_text="Cards tried on this checkout (POST …/pay).")]
    coupon: Annotated[str | None, Field(help_text="The coupon's code, if one was used.")]
    list_price: Annotated[
        str, Field(help_text=f"The course's price before the coupon. {MONEY_HELP}")
    ]


class Progress(TypedDict):
    completed_lessons: int
    total_lessons: int
    percent: float


class CertificateRef(TypedDict):
    """Where an enrollment's certificate is verified (`enrollment.completed` carries it)."""

    code: str
    url: Annotated[str, Field(help_text="The verification page's path, /certificates/{code}")]


class RefundTerms(TypedDict):
    """Whether cancelling a paid enrollment now refunds it, under its course's refund
    rule (`refund_days`, `refund_max_percent`); the server checks again on cancel."""

    allowed: bool
    until: Annotated[str | None, Field(format="date-time", help_text="The window's end.")]
    reason: Annotated[str, Field(help_text="The terms when allowed, else why not.")]


class Enrollment(TypedDict):
    """The contract's `Enrollment` (with `activated_at`, `completed_at`, `certificate`
    and `refund` beside it)."""

    id: int
    number: Annotated[str, Field(help_text="e.g. ENR-2026-000123")]
    status: Annotated[str, Field(choices=EnrollmentStatus.values)]
    course: Course
    student: Student
    payment: Payment | None
    progress: Progress
    created_at: Annotated[str, Field(format="date-time")]
    activated_at: Annotated[str | None, Field(format="date-time")]
    completed_at: Annotated[str | None, Field(format="date-time")]
    certificate: CertificateRef | None
    refund: Annotated[RefundTerms | None, Field(help_text="null: nothing paid to refund.")]
    hold_expires_at: Annotated[
        str | None,
        Field(format="date-time", help_text="While pending: when the seat hold runs out."),
    ]


class CertificateCourse(TypedDict):
    """The course as it was when the certificate was issued."""

    slug: str
    title: str


class Certificate(TypedDict):
    """`GET /api/enrollments/{id}/certificate` and `GET /api/certificates/{code}`: what was
    snapshotted at completion, so later course edits never change it."""

    code: str
    url: Annotated[str, Field(help_text="The verification page's path, /certificates/{code}")]
    pdf_url: Annotated[str, Field(help_text="The PDF's path, /certificates/{code}.pdf")]
    issued_at: Annotated[str, Field(format="date-time")]
    course: CertificateCourse
    student_name: str
    instructors: list[str]


class ReceiptCourse(TypedDict):
    """The course as it was sold."""

    slug: str
    title: str


class ReceiptBuyer(TypedDict):
    name: str
    email: Annotated[str, Field(format="email")]


class Receipt(TypedDict):
    """`GET /api/enrollments/{id}/receipt`: what was sold, to whom, for how much, as
    snapshotted when the paid enrollment activated."""

    number: Annotated[str, Field(help_text="e.g. RCT-2026-000123")]
    issued_at: Annotated[str, Field(format="date-time")]
    amount: Annotated[str, Field(help_text=MONEY_HELP)]
    currency: str
    coupon: Annotated[str | None, Field(help_text="The coupon's code, if one was used")]
    course: ReceiptCourse
    student: ReceiptBuyer


ENROLLMENT_KEYS = keys_of(Enrollment)
