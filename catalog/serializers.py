"""Input validation for the catalog API. Output shapes live in catalog.presenters."""

from decimal import Decimal

from django.conf import settings
from rest_framework import serializers

from catalog.search.types import MAX_LIMIT as MAX_SEARCH_LIMIT
from catalog.search.types import MAX_OFFSET as MAX_SEARCH_OFFSET
from catalog.selectors import COURSE_SORTS, DEFAULT_SORT
from catalog.shapes import (
    COUPON_AMOUNT_HELP,
    COUPON_CODE_HELP,
    COUPON_CODE_TYPED,
    COURSE_WRITABLE_FIELDS,
    PREVIEW_HELP,
    REFUND_DAYS_HELP,
    REFUND_DAYS_MAX,
    REFUND_PERCENT_HELP,
    VERSION_HELP,
    LessonKind,
    Level,
    SearchSort,
)
from portal.api import BodyInput
from portal.validators import single_line

MAX_PAGE_SIZE = 100
CURRENCIES = ("usd", "eur", "gbp")
# Course.capacity is a PostgreSQL integer column: larger values would fail in the database.
MAX_CAPACITY = 2_147_483_647


class LessonInput(BodyInput):
    title = serializers.CharField(max_length=200, validators=[single_line])
    duration_seconds = serializers.IntegerField(min_value=0, max_value=24 * 3600, default=0)
    kind = serializers.ChoiceField(choices=LessonKind.choices, default=LessonKind.TEXT)
    preview = serializers.BooleanField(default=False, help_text=PREVIEW_HELP)
    body = serializers.CharField(
        allow_blank=True,
        default="",
        trim_whitespace=False,
        max_length=50_000,
        help_text="Markdown; answered as sanitised HTML (`body_html`).",
    )


class ModuleInput(BodyInput):
    title = serializers.CharField(max_length=200, validators=[single_line])
    # max_length goes to the ListSerializer `many` makes (the stubs leave it out).
    lessons = LessonInput(many=True, required=False, default=list, max_length=200)  # type: ignore[call-arg]


class CourseFieldsInput(BodyInput):
    title = serializers.CharField(max_length=200, validators=[single_line])
    summary = serializers.CharField(max_length=500)
    description = serializers.CharField(allow_blank=True, required=False, default="")
    category = serializers.CharField(max_length=80, validators=[single_line])
    level = serializers.ChoiceField(choices=Level.choices, default=Level.BEGINNER)
    price = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=Decimal("0"), default=Decimal("0.00")
    )
    currency = serializers.ChoiceField(choices=CURRENCIES, default="usd")
    capacity = serializers.IntegerField(
        min_value=1, max_value=MAX_CAPACITY, allow_null=True, required=False, default=None
    )
    refund_policy = serializers.CharField(
        allow_blank=True,
        required=False,
        default="",
        max_length=5000,
        help_text="Plain text shown to buyers, e.g. when and how much is refunded.",
    )
    refund_days = serializers.IntegerField(
        min_value=0,
        max_value=REFUND_DAYS_MAX,
        required=False,
        default=30,
        help_text=REFUND_DAYS_HELP,
    )
    refund_max_percent = serializers.IntegerField(
        min_value=0, max_value=100, required=False, default=30, help_text=REFUND_PERCENT_HELP
    )
    published = serializers.BooleanField(
        required=False, default=True, help_text="false: a draft (POST /api/courses/{slug}/publish)."
    )

    def to_internal_value(self, data):
        if isinstance(data, dict) and isinstance(data.get("currency"), str):
            data = {**data, "currency": data["currency"].lower()}
        return super().to_internal_value(data)


def _check_course_fields(serializer: type[serializers.Serializer]) -> None:
    """The course columns an author may write are catalog.shapes.CourseWrite: an input
    serializer that misses one, or accepts another, fails at import."""
    declared = set(serializer._declared_fields) - {"published", "version"}
    if declared != set(COURSE_WRITABLE_FIELDS):
        raise TypeError(
            f"{serializer.__name__} fields {sorted(declared)} differ from "
            f"catalog.shapes.CourseWrite {sorted(COURSE_WRITABLE_FIELDS)}"
        )


_check_course_fields(CourseFieldsInput)


class CourseCreateInput(CourseFieldsInput):
    # max_length goes to the ListSerializer `many` makes (the stubs leave it out).
    modules = ModuleInput(many=True, required=False, default=list, max_length=100)  # type: ignore[call-arg]


class CourseUpdateInput(CourseFieldsInput):
    """PATCH: any subset of the course's own fields."""

    refuses_unknown_fields = True  # a closed object in the OpenAPI document
    version = serializers.IntegerField(min_value=1, required=False, help_text=VERSION_HELP)

    def validate(self, attrs: dict) -> dict:
        if "modules" in self.initial_data:
            raise serializers.ValidationError(
                {"modules": ["The outline cannot be changed with PATCH; edit it in the admin."]}
            )
        unknown = set(self.initial_data) - set(self.fields)
        if unknown:
            raise serializers.ValidationError(
                {name: ["Unknown or read-only field."] for name in sorted(unknown)}
            )
        return attrs


class CourseListQuery(serializers.Serializer):
    category = serializers.CharField(max_length=80, required=False, allow_blank=True)
    level = serializers.ChoiceField(choices=Level.choices, required=False, allow_blank=True)
    min_price = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=Decimal("0"), required=False
    )
    max_price = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=Decimal("0"), required=False
    )
    instructor = serializers.IntegerField(min_value=1, required=False)
    sort = serializers.ChoiceField(choices=list(COURSE_SORTS), required=False, default=DEFAULT_SORT)
    page = serializers.IntegerField(min_value=1, required=False, default=1)
    page_size = serializers.IntegerField(
        min_value=1, max_value=MAX_PAGE_SIZE, required=False, default=20
    )

    def validate(self, attrs: dict) -> dict:
        low, high = attrs.get("min_price"), attrs.get("max_price")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"min_price": ["Must not exceed max_price."]})
        return attrs


class SearchQuery(serializers.Serializer):
    """GET /api/search parameters."""

    q = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    category = serializers.CharField(max_length=80, required=False, allow_blank=True)
    level = serializers.ChoiceField(choices=Level.choices, required=False, allow_blank=True)
    max_price = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=Decimal("0"), required=False
    )
    limit = serializers.IntegerField(min_value=1, max_value=MAX_SEARCH_LIMIT, default=20)
    offset = serializers.IntegerField(min_value=0, max_value=MAX_SEARCH_OFFSET, default=0)
    sort = serializers.ChoiceField(
        choices=SearchSort.choices,
        required=False,
        default=SearchSort.RELEVANCE,
        help_text="relevance: the ranking rules (docs/search-relevance.md); the others order "
        "every match by that field, most popular first among equals.",
    )


# BCP 47 language tags as <track srclang> takes them: "en", "pt-BR", "zh-Hant".
LANGUAGE_TAG = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}$"


class LessonMediaInput(serializers.Serializer):
    """POST /api/lessons/{id}/media (multipart/form-data). Captions pair up with
    `caption_lang` (and `caption_label`) by position."""

    file = serializers.FileField(
        required=False,
        allow_empty_file=False,
        help_text="The lesson's video: MP4 or WebM (checked by content, not only by the "
        "declared type), at most LESSON_MEDIA_MAX_BYTES (200 MB by default).",
    )
    captions = serializers.ListField(
        child=serializers.FileField(allow_empty_file=False),
        required=False,
        default=list,
        max_length=settings.LESSON_CAPTIONS_MAX_FILES,
        help_text="WebVTT files (text/vtt, starting with WEBVTT), one per language; each "
        "replaces the lesson's captions of its language.",
    )
    caption_lang = serializers.ListField(
        child=serializers.RegexField(LANGUAGE_TAG, max_length=35),
        required=False,
        default=list,
        max_length=settings.LESSON_CAPTIONS_MAX_FILES,
        help_text="The language of each captions file, in order (BCP 47: en, pt-BR).",
    )
    caption_label = serializers.ListField(
        child=serializers.CharField(max_length=100, validators=[single_line]),
        required=False,
        default=list,
        max_length=settings.LESSON_CAPTIONS_MAX_FILES,
        help_text="The player's name for each captions file, in order (default: its language).",
    )

    def validate(self, attrs: dict) -> dict:
        captions = attrs["captions"]
        if attrs.get("file") is None and not captions:
            raise serializers.ValidationError({"file": ["Send a video, captions, or both."]})
        if len(attrs["caption_lang"]) != len(captions):
            raise serializers.ValidationError(
                {"caption_lang": ["Give one language per captions file."]}
            )
        if attrs["caption_label"] and len(attrs["caption_label"]) != len(captions):
            raise serializers.ValidationError(
                {"caption_label": ["Give one label per captions file, or none."]}
            )
        if len({lang.lower() for lang in attrs["caption_lang"]}) != len(captions):
            raise serializers.ValidationError({"caption_lang": ["Each language may come once."]})
        return attrs


# --- the studio (module and lesson writes) -------------------------------------------------

# Positions are 1-based and clamped to the siblings' count; a larger one means "last".
MAX_POSITION = 100_000
POSITION_HELP = "1-based; clamped to the last place. The others shift to make room."
LESSON_BODY_MAX = 50_000


class ClosedInput(BodyInput):
    """A PATCH body: unknown fields are refused, not ignored (a typo must not look saved)."""

    refuses_unknown_fields = True

    def validate(self, attrs: dict) -> dict:
        unknown = set(self.initial_data) - set(self.fields)
        if unknown:
            raise serializers.ValidationError(
                {name: ["Unknown or read-only field."] for name in sorted(unknown)}
            )
        return attrs


class ModuleCreateInput(BodyInput):
    title = serializers.CharField(max_length=200, validators=[single_line])
    position = serializers.IntegerField(
        min_value=1, max_value=MAX_POSITION, required=False, help_text=POSITION_HELP
    )


class ModuleUpdateInput(ClosedInput):
    title = serializers.CharField(max_length=200, validators=[single_line], required=False)
    position = serializers.IntegerField(
        min_value=1, max_value=MAX_POSITION, required=False, help_text=POSITION_HELP
    )
    version = serializers.IntegerField(min_value=1, required=False, help_text=VERSION_HELP)


class LessonCreateInput(LessonInput):
    position = serializers.IntegerField(
        min_value=1, max_value=MAX_POSITION, required=False, help_text=POSITION_HELP
    )


class LessonUpdateInput(ClosedInput):
    title = serializers.CharField(max_length=200, validators=[single_line], required=False)
    kind = serializers.ChoiceField(choices=LessonKind.choices, required=False)
    preview = serializers.BooleanField(required=False, help_text=PREVIEW_HELP)
    duration_seconds = serializers.IntegerField(min_value=0, max_value=24 * 3600, required=False)
    body = serializers.CharField(
        allow_blank=True,
        required=False,
        trim_whitespace=False,
        max_length=LESSON_BODY_MAX,
        help_text="Markdown; answered as sanitised HTML (`body_html`).",
    )
    position = serializers.IntegerField(
        min_value=1, max_value=MAX_POSITION, required=False, help_text=POSITION_HELP
    )
    module = serializers.IntegerField(
        min_value=1,
        max_value=MAX_CAPACITY,
        required=False,
        help_text="A module of the same course: the lesson moves there (at `position`, or last).",
    )
    version = serializers.IntegerField(min_value=1, required=False, help_text=VERSION_HELP)


class LessonPreviewInput(BodyInput):
    body = serializers.CharField(
        allow_blank=True,
        trim_whitespace=False,
        max_length=LESSON_BODY_MAX,
        help_text="Markdown, as a lesson's `body`.",
    )


class LessonResourceInput(serializers.Serializer):
    """POST /api/lessons/{id}/resources (multipart/form-data)."""

    file = serializers.FileField(
        allow_empty_file=False,
        help_text="The file to download beside the lesson, at most LESSON_RESOURCE_MAX_BYTES "
        "(50 MB by default), of a type in LESSON_RESOURCE_TYPES (PDF, text, images, "
        "archives, office documents).",
    )
    title = serializers.CharField(max_length=200, validators=[single_line])


# --- coupons (catalog.coupons checks the terms together: one discount, expiry ahead) -------


class CouponCreateInput(BodyInput):
    """POST /api/courses/{slug}/coupons."""

    # Not trimmed by DRF: the pattern says which white space may surround a code.
    code = serializers.RegexField(
        COUPON_CODE_TYPED,
        trim_whitespace=False,
        help_text=COUPON_CODE_HELP,
        error_messages={"invalid": "Use 3 to 32 letters, digits, - or _."},
    )
    percent_off = serializers.IntegerField(
        min_value=1,
        max_value=100,
        allow_null=True,
        required=False,
        default=None,
        help_text="1 to 100. Give this or amount_off.",
    )
    amount_off = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0.01"),
        allow_null=True,
        required=False,
        default=None,
        help_text=COUPON_AMOUNT_HELP + " Give this or percent_off; at or above the price, "
        "the course is free with it.",
    )
    max_redemptions = serializers.IntegerField(
        min_value=1,
        max_value=MAX_CAPACITY,
        allow_null=True,
        required=False,
        default=None,
        help_text="How many checkouts may use it; null: unlimited.",
    )
    expires_at = serializers.DateTimeField(
        allow_null=True,
        required=False,
        default=None,
        help_text="When it stops working (in the future); null: never.",
    )
