"""Response shapes for the OpenAPI document. The course shapes are generated from
catalog.shapes (the presenters build the answers to the same definitions)."""

from rest_framework import serializers

from catalog import shapes
from portal.openapi import serializer_for

InstructorRefSchema = serializer_for(shapes.InstructorRef)
CourseSchema = serializer_for(shapes.Course)
LessonOutlineSchema = serializer_for(shapes.LessonOutline)
ModuleSchema = serializer_for(shapes.Module)
CourseDetailSchema = serializer_for(shapes.CourseDetail)
HighlightSchema = serializer_for(shapes.Highlight)
SearchHitSchema = serializer_for(shapes.SearchHit)
LessonSchema = serializer_for(shapes.Lesson)


class CoursePageSchema(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = CourseSchema(many=True)


class SearchFacetsSchema(serializers.Serializer):
    category = serializers.DictField(child=serializers.IntegerField())
    level = serializers.DictField(child=serializers.IntegerField())


class SearchResultSchema(serializers.Serializer):
    query = serializers.CharField()
    hits = SearchHitSchema(many=True)
    total = serializers.IntegerField()
    facets = SearchFacetsSchema()
    took_ms = serializers.FloatField(help_text="Server-side time of this answer.")
    engine = serializers.ChoiceField(choices=["postgres", "sqlite", "meilisearch"])


# The studio (authoring API).
StudioCourseSummarySchema = serializer_for(shapes.StudioCourseSummary)
StudioCourseSchema = serializer_for(shapes.StudioCourse)
StudioModuleSchema = serializer_for(shapes.StudioModule)
StudioLessonSchema = serializer_for(shapes.StudioLesson)
LessonPreviewSchema = serializer_for(shapes.LessonPreview)


class StudioCourseListSchema(serializers.Serializer):
    results = StudioCourseSummarySchema(many=True)


# Coupons (catalog.coupons).
CouponSchema = serializer_for(shapes.Coupon)
CouponQuoteSchema = serializer_for(shapes.CouponQuote)


class CouponListSchema(serializers.Serializer):
    results = CouponSchema(many=True, help_text="Newest first.")
