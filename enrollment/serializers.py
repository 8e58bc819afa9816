"""Input validation for the enrollment API."""

import re

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.api import BodyInput
from portal.validators import ContactEmailValidator


class StudentInputSerializer(BodyInput):
    email = serializers.CharField(max_length=254, validators=[ContactEmailValidator()])
    name = serializers.CharField(max_length=150)


# A course id in ASCII digits (str.isdigit also accepts "²" and "٣", which int() refuses
# or reads as another number), or a slug as catalog slugs are made (ASCII only).
_COURSE_ID = re.compile(r"[0-9]+")
_COURSE_SLUG = re.compile(r"[-a-zA-Z0-9_]+")


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$", "maxLength": 120},
            {"type": "integer", "minimum": 1},
        ],
        "description": "The course's slug or id.",
    }
)
class CourseRefField(serializers.Field):
    """A course slug or numeric id."""

    default_error_messages = {"invalid": "Give a course slug or id."}

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, int) and data > 0:
            return data
        if isinstance(data, str) and 0 < len(data.strip()) <= 120:
            value = data.strip()
            if _COURSE_ID.fullmatch(value):
                return int(value)
            if _COURSE_SLUG.fullmatch(value):
                return value
        self.fail("invalid")

    def to_representation(self, value):
        return value


class EnrollmentCreateInput(BodyInput):
    course = CourseRefField()
    student = StudentInputSerializer(required=False)
    payment_method = serializers.CharField(
        max_length=255, required=False, allow_null=True, allow_blank=True
    )
    coupon = serializers.CharField(max_length=64, required=False, allow_null=True, allow_blank=True)


class PayInput(BodyInput):
    payment_method = serializers.CharField(max_length=255)


class EnrollmentListQuery(serializers.Serializer):
    course = serializers.SlugField(max_length=120, required=False)
    role = serializers.ChoiceField(choices=["student", "instructor"], required=False)
    page = serializers.IntegerField(min_value=1, required=False, default=1)
    page_size = serializers.IntegerField(min_value=1, max_value=100, required=False, default=20)


class ProgressInput(BodyInput):
    lesson = serializers.IntegerField(min_value=1)
    completed = serializers.BooleanField(required=False, allow_null=True, default=None)
    position_seconds = serializers.IntegerField(
        min_value=0, max_value=24 * 3600, required=False, allow_null=True, default=None
    )

    def validate(self, attrs: dict) -> dict:
        if attrs["completed"] is None and attrs["position_seconds"] is None:
            raise serializers.ValidationError(
                {"completed": ["Give completed, position_seconds, or both."]}
            )
        return attrs
