"""Students, their enrollments, payments and lesson progress."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from catalog.models import Course, Lesson
from enrollment.shapes import EnrollmentStatus, PaymentStatus  # importers use these names too


class Student(models.Model):
    """Whoever enrolls: a registered user (one record each), or a guest buyer: one record
    per address and client (`guest_key`), so a checkout never reads, links or changes an
    account or another client's record (a shared one would echo the name stored there,
    and its live enrollments would tell anyone that an email is enrolled in a course),
    while the same client submitting twice still meets its own enrollment. Guest records
    join an account when its owner verifies the address (enrollment.claims)."""

    email = models.EmailField()
    guest_key = models.CharField(
        max_length=32,
        blank=True,
        db_default="",  # rows written in raw SQL (benchmarks, bulk loads) get it too
        help_text="A guest's client (a keyed digest of its address).",
    )
    name = models.CharField(max_length=150)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="student",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            # Guest records joining an account are found by address.
            models.Index(Lower("email"), name="student_email_ci_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                "guest_key",
                condition=Q(user__isnull=True),
                name="student_guest_per_client_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.email


# Holding a seat (and refusing a second enrollment of the student in the course): a
# completed enrollment keeps its seat, as the student keeps reviewing the course.
LIVE_STATUSES = (EnrollmentStatus.PENDING, EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED)
# Giving access to the course's lessons and letting the student record progress.
ACCESS_STATUSES = (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED)


class Enrollment(models.Model):
    number = models.CharField(max_length=32, unique=True, help_text="e.g. ENR-2026-000123")
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="enrollments")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="enrollments")
    status = models.CharField(
        max_length=16, choices=EnrollmentStatus.choices, default=EnrollmentStatus.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(
        null=True, blank=True, help_text="When its last lesson was completed (kept for good)."
    )
    ended_at = models.DateTimeField(null=True, blank=True, help_text="Cancelled or refunded.")
    end_reason = models.CharField(
        max_length=16,
        blank=True,
        choices=[
            ("declined", "Payment declined"),
            ("cancelled", "Cancelled"),
            ("refunded", "Refunded"),
            ("expired", "Checkout expired"),
        ],
        help_text="Why it ended: only a declined one may come back on a late payment.",
    )
    # A paid checkout holds its seat until then (CHECKOUT_HOLD_MINUTES); past it, the
    # enrollment is cancelled and the seat released (enrollment.holds).
    hold_expires_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When the expired checkout's reminder went out."
    )
    # Claimed by the after-commit jobs, so running one twice does its work once.
    welcome_email_sent_at = models.DateTimeField(null=True, blank=True)
    access_granted_at = models.DateTimeField(null=True, blank=True)
    instructors_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One live (pending, active or completed) enrollment per student and course; a
            # cancelled or refunded one does not stop the student from enrolling again.
            models.UniqueConstraint(
                fields=["student", "course"],
                condition=Q(status__in=[status.value for status in LIVE_STATUSES]),
                name="enrollment_one_live_per_student_course",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[choice.value for choice in EnrollmentStatus]),
                name="enrollment_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["status"], name="enrollment_status_idx"),
            models.Index(fields=["course", "status"], name="enrollment_course_status_idx"),
            models.Index(fields=["student", "-created_at"], name="enrollment_student_idx"),
            # The hold sweep reads only pending checkouts, by expiry.
            models.Index(
                fields=["hold_expires_at"],
                condition=Q(status="pending"),
                name="enrollment_pending_hold_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class Payment(models.Model):
    enrollment = models.OneToOneField(Enrollment, on_delete=models.PROTECT, related_name="payment")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    provider = models.CharField(max_length=20, help_text="Gateway that handled it: test, stripe.")
    # A provider token (pm_…), never card data: reconcile re-sends the charge with it under
    # the same idempotency key when the first answer was lost.
    payment_method = models.CharField(max_length=255, blank=True)
    provider_reference = models.CharField(max_length=255, blank=True, db_index=True)
    failure_reason = models.CharField(max_length=255, blank=True)
    # The coupon used (its code kept as typed into the sale, should the coupon go) and the
    # course's price before it; `amount` is what the buyer pays.
    coupon = models.ForeignKey(
        "catalog.Coupon",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="payments",
    )
    coupon_code = models.CharField(max_length=64, blank=True)
    list_price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    # Each card tried on this checkout is one attempt, charged under its own idempotency
    # key (payment-{id}, then payment-{id}-{attempt}); every call is in the ledger.
    attempt = models.PositiveSmallIntegerField(default=1)
    # The current attempt's customer action (3-D Secure): {type, client_secret, redirect_url}.
    next_action = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=Decimal("0")), name="payment_amount_nonnegative"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[choice.value for choice in PaymentStatus]),
                name="payment_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["status"], name="payment_status_idx")]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} ({self.status})"


class LessonProgress(models.Model):
    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="progress")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="progress")
    completed = models.BooleanField(default=False)
    completed_at = models.DateTimeField(null=True, blank=True)
    position_seconds = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["enrollment", "lesson"]
        constraints = [
            models.UniqueConstraint(fields=["enrollment", "lesson"], name="lesson_progress_unique"),
            models.CheckConstraint(
                condition=Q(completed=False) | Q(completed_at__isnull=False),
                name="lesson_progress_completed_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enrollment} / {self.lesson}"


class Certificate(models.Model):
    """Issued once per enrollment, in the transaction that completes it. What it certifies
    is snapshotted then (names, title), so later edits of the course or the account do not
    change a certificate already handed out."""

    enrollment = models.OneToOneField(
        Enrollment, on_delete=models.PROTECT, related_name="certificate"
    )
    code = models.CharField(max_length=32, unique=True, help_text="Unguessable; the public key.")
    student_name = models.CharField(max_length=150)
    course_title = models.CharField(max_length=200)
    course_slug = models.CharField(max_length=120)
    instructor_names = models.JSONField(default=list, help_text="In the course's order.")
    issued_at = models.DateTimeField()

    class Meta:
        ordering = ["-issued_at", "-id"]

    def __str__(self) -> str:
        return self.code


class PaymentCall(models.Model):
    """The payment ledger: one row per call to the gateway (a charge, a retrieve, a
    refund), whatever it answered or raised, so every attempt on a payment is on record."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="calls")
    kind = models.CharField(
        max_length=16,
        choices=[
            ("charge", "Charge"),
            ("retrieve", "Retrieve"),
            ("refund", "Refund"),
            ("cancel", "Cancel"),
        ],
    )
    idempotency_key = models.CharField(max_length=255, blank=True)
    outcome = models.CharField(
        max_length=20, help_text="succeeded, declined, requires_action, unknown, refused, error"
    )
    reference = models.CharField(max_length=255, blank=True)
    error = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.outcome}"


class Receipt(models.Model):
    """Issued once per paid enrollment, in the transaction that activates it; what was sold
    to whom is snapshotted then (names, title, amount). `emailed_at`: when the buyer's copy
    went out (the `emails` queue, done once)."""

    enrollment = models.OneToOneField(Enrollment, on_delete=models.PROTECT, related_name="receipt")
    number = models.CharField(max_length=32, unique=True, help_text="e.g. RCT-2026-000123")
    issued_at = models.DateTimeField()
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    coupon = models.CharField(max_length=64, blank=True, help_text="The coupon's code, if any.")
    course_title = models.CharField(max_length=200)
    course_slug = models.CharField(max_length=120)
    student_name = models.CharField(max_length=150)
    student_email = models.EmailField()
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-issued_at", "-id"]

    def __str__(self) -> str:
        return self.number


class WebhookEvent(models.Model):
    """A provider event already processed; written in the transaction of its effect."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=64)
    payment_reference = models.CharField(max_length=255, blank=True)
    outcome = models.CharField(max_length=64, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class TestGatewayIntent(models.Model):
    """The test gateway's side of a charge (enrollment.payments.test_gateway): what the
    "bank" decided, so a 3-D Secure challenge approved or failed on its page changes what
    a later retrieve, cancel or repeated charge answers, as Stripe's PaymentIntents do."""

    __test__ = False  # not a pytest test class
    reference = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=32, help_text="As Stripe names a PaymentIntent's.")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    payment_method = models.CharField(max_length=255)
    metadata = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.reference} ({self.status})"
