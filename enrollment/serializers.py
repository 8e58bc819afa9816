"""Input validation for the enrollment API."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.validators import ContactEmailValidator


class StudentInputSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254, validators=[ContactEmailValidator()])
    name = serializers.CharField(max_length=150)


@extend_schema_field(OpenApiTypes.STR)
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
            return int(value) if value.isdigit() else value
        self.fail("invalid")

    def to_representation(self, value):
        return value


class EnrollmentCreateInput(serializers.Serializer):
    course = CourseRefField()
    student = StudentInputSerializer(required=False)
    payment_method = serializers.CharField(
        max_length=255, required=False, allow_null=True, allow_blank=True
    )


class EnrollmentListQuery(serializers.Serializer):
    course = serializers.SlugField(max_length=120, required=False)
    role = serializers.ChoiceField(choices=["student", "instructor"], required=False)
    page = serializers.IntegerField(min_value=1, required=False, default=1)
    page_size = serializers.IntegerField(min_value=1, max_value=100, required=False, default=20)


class ProgressInput(serializers.Serializer):
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
