"""Input validation for the instructor tools."""

from django.conf import settings
from rest_framework import serializers

from portal.api import BodyInput
from portal.validators import single_line


class EnrollmentsPerHourQuery(serializers.Serializer):
    hours = serializers.IntegerField(min_value=1, max_value=720, required=False, default=48)
    course = serializers.SlugField(max_length=120, required=False)


class AnnouncementInput(BodyInput):
    subject = serializers.CharField(max_length=200, validators=[single_line])
    body = serializers.CharField(max_length=settings.ANNOUNCEMENT_BODY_MAX_CHARS)
