"""Response shapes for the OpenAPI document (answers are built by enrollment.presenters)."""

from rest_framework import serializers

from catalog.schema import CourseSchema


class StudentSchema(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()


class PaymentSchema(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["pending", "requires_action", "succeeded", "failed", "refunded"]
    )
    amount = serializers.CharField(help_text='Two decimals, e.g. "49.00".')
    currency = serializers.CharField()
    failure_reason = serializers.CharField(allow_null=True)


class ProgressSchema(serializers.Serializer):
    completed_lessons = serializers.IntegerField()
    total_lessons = serializers.IntegerField()
    percent = serializers.FloatField()


class EnrollmentSchema(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField(help_text="e.g. ENR-2026-000123")
    status = serializers.ChoiceField(choices=["pending", "active", "cancelled", "refunded"])
    course = CourseSchema()
    student = StudentSchema()
    payment = PaymentSchema(allow_null=True)
    progress = ProgressSchema()
    created_at = serializers.DateTimeField()
    activated_at = serializers.DateTimeField(allow_null=True)


class EnrollmentPageSchema(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = EnrollmentSchema(many=True)


class ProgressAnswerSchema(serializers.Serializer):
    enrollment = serializers.IntegerField()
    lesson = serializers.IntegerField()
    completed = serializers.BooleanField()
    position_seconds = serializers.IntegerField()
    percent = serializers.FloatField()


class WebhookAnswerSchema(serializers.Serializer):
    received = serializers.BooleanField()
    event = serializers.CharField()
    outcome = serializers.CharField()


class LessonProgressRowSchema(serializers.Serializer):
    lesson = serializers.IntegerField()
    completed = serializers.BooleanField()
    position_seconds = serializers.IntegerField()
    completed_at = serializers.DateTimeField(allow_null=True)


class LessonProgressListSchema(serializers.Serializer):
    enrollment = serializers.IntegerField()
    progress = ProgressSchema()
    lessons = LessonProgressRowSchema(many=True)
