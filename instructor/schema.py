"""OpenAPI components of the instructor tools, generated from instructor.shapes."""

from instructor import shapes
from portal.openapi import serializer_for

RevenueSchema = serializer_for(shapes.Revenue)
EnrollmentsPerHourSchema = serializer_for(shapes.EnrollmentsPerHour)
AnnouncementQueuedSchema = serializer_for(shapes.AnnouncementQueued)
SeatsBoardSchema = serializer_for(shapes.SeatsBoard)
