"""The course catalog: courses, their instructors, modules and lessons."""

import re
import secrets
from decimal import Decimal
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils.text import get_valid_filename

# Defined with the shapes; importers use these names too.
from catalog.shapes import (
    COUPON_CODE_HELP,
    COUPON_CODE_MAX,
    COUPON_CODE_STORED,
    REFUND_DAYS_MAX,
    SEARCH_TERM,
    SEARCH_TERM_MAX,
    VIDEO_CONTENT_TYPES,
    LessonKind,
    Level,
)

if TYPE_CHECKING:
    from portal.accounts.models import User


class Course(models.Model):
    slug = models.SlugField(max_length=120, unique=True)
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=500)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=80)
    level = models.CharField(max_length=20, choices=Level.choices, default=Level.BEGINNER)
    price = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    currency = models.CharField(max_length=3, default="usd")
    capacity = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: unlimited.")
    seats_taken = models.PositiveIntegerField(default=0)
    rating = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True, help_text="Empty: unpublished.")
    refund_policy = models.TextField(blank=True, help_text="Plain text, shown to buyers.")
    # The refund rule a paid enrollment's cancel is held to (enrollment.refunds): within
    # this many days of the purchase, while at most this share of the lessons is completed.
    refund_days = models.PositiveSmallIntegerField(
        default=30, validators=[MaxValueValidator(REFUND_DAYS_MAX)]
    )
    refund_max_percent = models.PositiveSmallIntegerField(
        default=30, validators=[MaxValueValidator(100)]
    )
    # Optimistic concurrency (docs/adr/0015-authoring-versions.md): +1 on every saved
    # change; a PATCH naming another version is refused with 409 edit_conflict.
    version = models.PositiveIntegerField(default=1)
    instructors: "models.ManyToManyField[User, CourseInstructor]" = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="CourseInstructor", related_name="courses_taught"
    )
    # Stats kept by the enrollment pipeline.
    enrollment_count = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-published_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(seats_taken__gte=0), name="course_seats_nonnegative"
            ),
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(seats_taken__lte=F("capacity")),
                name="course_seats_within_capacity",
            ),
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(capacity__gt=0),
                name="course_capacity_positive",
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="course_price_nonnegative"),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | (Q(rating__gte=0) & Q(rating__lte=5)),
                name="course_rating_range",
            ),
            models.CheckConstraint(condition=Q(revenue__gte=0), name="course_revenue_nonnegative"),
        ]
        indexes = [
            models.Index(fields=["category", "level"], name="course_category_level_idx"),
            models.Index(fields=["level"], name="course_level_idx"),
            models.Index(fields=["price"], name="course_price_idx"),
            models.Index(fields=["-published_at"], name="course_published_idx"),
            models.Index(fields=["-rating"], name="course_rating_idx"),
            models.Index(fields=["-enrollment_count"], name="course_popularity_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_free(self) -> bool:
        return self.price == 0

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class CourseInstructor(models.Model):
    """Who teaches a course; the lowest position is the course's named instructor."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="course_instructors")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="teaching"
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["course", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["course", "user"], name="course_instructor_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} teaches {self.course}"


class Module(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="modules")
    title = models.CharField(max_length=200)
    position = models.PositiveIntegerField()
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["course", "position"]
        constraints = [
            models.UniqueConstraint(fields=["course", "position"], name="module_position_unique"),
        ]

    def __str__(self) -> str:
        return self.title


def lesson_file_path(instance: models.Model, filename: str) -> str:
    """Storage names of lesson files: a random folder per file, so a name says nothing
    guessable (the files are private either way) and uploads never overwrite each other;
    the original name is kept last, for downloads."""
    name = get_valid_filename(PurePosixPath(filename).name)[-100:] or "file"
    return f"lessons/{secrets.token_urlsafe(12)}/{name}"


class Lesson(models.Model):
    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="lessons")
    title = models.CharField(max_length=200)
    position = models.PositiveIntegerField()
    duration_seconds = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=16, choices=LessonKind.choices, default=LessonKind.TEXT)
    preview = models.BooleanField(default=False, help_text="Readable by anyone, enrolled or not.")
    body = models.TextField(blank=True, help_text="Markdown.")
    # Rendered from `body` and sanitised by catalog.content whenever a service saves the
    # lesson (catalog.services.lesson_save): reads never render.
    body_html = models.TextField(blank=True, editable=False)
    media = models.FileField(upload_to=lesson_file_path, max_length=300, blank=True)
    media_content_type = models.CharField(
        max_length=32, blank=True, choices=[(value, value) for value in VIDEO_CONTENT_TYPES]
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["module", "position"]
        constraints = [
            models.UniqueConstraint(fields=["module", "position"], name="lesson_position_unique"),
            models.CheckConstraint(
                condition=Q(kind__in=[choice.value for choice in LessonKind]),
                name="lesson_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(media="", media_content_type="")
                | (~Q(media="") & Q(media_content_type__in=VIDEO_CONTENT_TYPES)),
                name="lesson_media_has_type",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class LessonCaption(models.Model):
    """A WebVTT captions file of a lesson's video, one per language."""

    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="captions")
    lang = models.CharField(max_length=35, help_text="BCP 47 language tag, e.g. en, pt-BR.")
    label = models.CharField(max_length=100, help_text="Shown in the player, e.g. English.")
    file = models.FileField(upload_to=lesson_file_path, max_length=300)

    class Meta:
        ordering = ["lesson", "lang"]
        constraints = [
            models.UniqueConstraint(fields=["lesson", "lang"], name="lesson_caption_lang_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.lesson} ({self.lang})"


class LessonResource(models.Model):
    """A file to download beside a lesson (slides, a starter project, a cheat sheet)."""

    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="resources")
    title = models.CharField(max_length=200)
    file = models.FileField(upload_to=lesson_file_path, max_length=300)
    # Kept from the upload, so a lesson's answer never asks the storage (S3) for sizes.
    size = models.PositiveBigIntegerField(default=0, editable=False)
    content_type = models.CharField(max_length=100, blank=True, editable=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["lesson", "position", "id"]

    def __str__(self) -> str:
        return self.title


class Coupon(models.Model):
    """A discount code for a course (or, made by staff with no course, for every course).
    Its rules and its one writer of `redeemed` are catalog.coupons."""

    # Stored upper-case (a check below), so the unique index is unique whatever the case.
    code = models.CharField(
        max_length=COUPON_CODE_MAX,
        unique=True,
        validators=[RegexValidator(COUPON_CODE_STORED)],
        help_text=COUPON_CODE_HELP,
    )
    course = models.ForeignKey(
        Course,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="coupons",
        help_text="Empty: every course.",
    )
    percent_off = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    amount_off = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="In the course's currency. Give this or a percentage, not both.",
    )
    max_redemptions = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty: unlimited."
    )
    redeemed = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=COUPON_CODE_STORED), name="coupon_code_stored_form"
            ),
            models.CheckConstraint(
                condition=(Q(percent_off__isnull=False) & Q(amount_off__isnull=True))
                | (Q(percent_off__isnull=True) & Q(amount_off__isnull=False)),
                name="coupon_one_discount",
            ),
            models.CheckConstraint(
                condition=Q(percent_off__isnull=True) | Q(percent_off__range=(1, 100)),
                name="coupon_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(amount_off__isnull=True) | Q(amount_off__gt=0),
                name="coupon_amount_positive",
            ),
            models.CheckConstraint(
                condition=Q(max_redemptions__isnull=True) | Q(max_redemptions__gt=0),
                name="coupon_max_redemptions_positive",
            ),
            models.CheckConstraint(
                condition=Q(redeemed__gte=0), name="coupon_redeemed_nonnegative"
            ),
            models.CheckConstraint(
                condition=Q(max_redemptions__isnull=True) | Q(redeemed__lte=F("max_redemptions")),
                name="coupon_redeemed_within_max",
            ),
        ]

    def __str__(self) -> str:
        return self.code


def synonym_term_validator(value: str) -> None:
    """A synonym's term is one search term, lower-case, as search reads a query: letters
    and digits, joined by . - / inside the word ("k8s", "node.js", "ci/cd")."""
    if not re.fullmatch(SEARCH_TERM, value) or value != value.lower():
        raise ValidationError(
            "One lower-case word (letters and digits; . - / only inside it).", code="invalid"
        )


class Synonym(models.Model):
    """A word searchers type and what it also means: `js` → JavaScript, `ml` → machine
    learning. Search finds what the word finds or what its expansion finds (every word of
    it); a word may have several expansions. Edited in the admin; catalog.search.synonyms
    applies a change (cached answers retired, Meilisearch's synonyms replaced)."""

    term = models.CharField(
        max_length=SEARCH_TERM_MAX,
        validators=[synonym_term_validator],
        help_text="One word, lower-case, as searchers type it (e.g. k8s).",
    )
    expansion = models.CharField(
        max_length=200, help_text="What it also finds: a word or a phrase (e.g. Kubernetes)."
    )

    class Meta:
        ordering = ["term", "expansion"]
        constraints = [
            models.UniqueConstraint(fields=["term", "expansion"], name="synonym_unique"),
            models.CheckConstraint(
                condition=Q(term=Lower("term")) & ~Q(term=""), name="synonym_term_lower_case"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.term} → {self.expansion}"


class WaitlistStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    OFFERED = "offered", "Offered a seat"
    ENROLLED = "enrolled", "Enrolled"
    LEFT = "left", "Left"
    EXPIRED = "expired", "Offer expired"


# In line (or holding an offer): one such entry per student and course.
WAITLIST_LIVE = (WaitlistStatus.WAITING, WaitlistStatus.OFFERED)
WAITLIST_LIVE_CHOICES = [(status.value, status.label) for status in WAITLIST_LIVE]


class WaitlistEntry(models.Model):
    """A student's place in a full course's line. Its rules are catalog.waitlist: an
    `offered` entry holds one of the course's taken seats (inside `seats_taken`) until
    `offer_expires_at`; the line's order is the entries' ids."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="waitlist")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="waitlist_entries"
    )
    status = models.CharField(
        max_length=16, choices=WaitlistStatus.choices, default=WaitlistStatus.WAITING
    )
    joined_at = models.DateTimeField(auto_now_add=True)
    offered_at = models.DateTimeField(null=True, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # The enrollment an offer was used for (a declined first card gives the offer back).
    enrollment_id = models.BigIntegerField(null=True, blank=True)
    # The position last told to the student (waitlist.position is sent when it differs).
    announced_position = models.PositiveIntegerField(null=True, blank=True)
    offer_email_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "waitlist entries"
        constraints = [
            models.UniqueConstraint(
                fields=["course", "user"],
                condition=Q(status__in=[status.value for status in WAITLIST_LIVE]),
                name="waitlist_one_live_per_user_course",
            ),
            models.CheckConstraint(
                condition=~Q(status=WaitlistStatus.OFFERED) | Q(offer_expires_at__isnull=False),
                name="waitlist_offer_has_expiry",
            ),
        ]
        indexes = [
            # The line of a course, in order; the offer sweep by expiry.
            models.Index(fields=["course", "status", "id"], name="waitlist_course_line_idx"),
            models.Index(
                fields=["offer_expires_at"],
                condition=Q(status=WaitlistStatus.OFFERED),
                name="waitlist_offer_expiry_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} waiting for {self.course_id} ({self.status})"
