"""Response shapes for the OpenAPI document. The enrollment shapes are generated from
enrollment.shapes (the presenters build the answers to the same definitions)."""

from rest_framework import serializers

from catalog.models import WAITLIST_LIVE_CHOICES
from enrollment import shapes
from portal.openapi import serializer_for

StudentSchema = serializer_for(shapes.Student)
PaymentSchema = serializer_for(shapes.Payment)
ProgressSchema = serializer_for(shapes.Progress)
EnrollmentSchema = serializer_for(shapes.Enrollment)
CertificateSchema = serializer_for(shapes.Certificate)
ReceiptSchema = serializer_for(shapes.Receipt)


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


class WaitlistPlaceSchema(serializers.Serializer):
    course = serializers.SlugField()
    title = serializers.CharField(help_text="The course's title.")
    position = serializers.IntegerField(allow_null=True, help_text="1 = next; null once offered.")
    status = serializers.ChoiceField(choices=WAITLIST_LIVE_CHOICES)
    joined_at = serializers.DateTimeField()
    offer_expires_at = serializers.DateTimeField(allow_null=True)


class WaitlistRowSchema(serializers.Serializer):
    name = serializers.CharField()
    email = serializers.EmailField()
    status = serializers.ChoiceField(choices=WAITLIST_LIVE_CHOICES)
    position = serializers.IntegerField(allow_null=True)
    joined_at = serializers.DateTimeField()
    offer_expires_at = serializers.DateTimeField(allow_null=True)


class WaitlistLineSchema(serializers.Serializer):
    course = serializers.SlugField()
    capacity = serializers.IntegerField(allow_null=True)
    seats_taken = serializers.IntegerField()
    waiting = serializers.IntegerField()
    offered = serializers.IntegerField()
    results = WaitlistRowSchema(many=True)


class WaitlistPlacesSchema(serializers.Serializer):
    results = WaitlistPlaceSchema(many=True)
