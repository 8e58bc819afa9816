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
    total_is_estimate = serializers.BooleanField(
        help_text="True when `total` and the facet counts are estimates: broad queries count "
        "exactly only up to a cap."
    )
    facets = SearchFacetsSchema()
    took_ms = serializers.FloatField(help_text="Server-side time of this answer.")
    engine = serializers.ChoiceField(choices=["postgres", "sqlite", "meilisearch"])
    suggestion = serializers.CharField(
        allow_null=True,
        help_text="The query with its typos corrected (“Did you mean …”), or null when it "
        "matched as typed.",
    )


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
