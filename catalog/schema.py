"""Response shapes for the OpenAPI document (answers are built by catalog.presenters)."""

from rest_framework import serializers

from catalog.models import Level


class InstructorRefSchema(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CourseSchema(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.SlugField()
    title = serializers.CharField()
    summary = serializers.CharField()
    category = serializers.CharField()
    level = serializers.ChoiceField(choices=Level.choices)
    price = serializers.CharField(help_text='Two decimals, e.g. "49.00".')
    currency = serializers.CharField()
    instructor = InstructorRefSchema(allow_null=True)
    capacity = serializers.IntegerField(allow_null=True, help_text="null: unlimited")
    seats_taken = serializers.IntegerField()
    rating = serializers.FloatField(allow_null=True)
    published_at = serializers.DateTimeField(allow_null=True)


class LessonSchema(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    position = serializers.IntegerField()
    duration_seconds = serializers.IntegerField()


class ModuleSchema(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    position = serializers.IntegerField()
    lessons = LessonSchema(many=True)


class CourseDetailSchema(CourseSchema):
    description = serializers.CharField()
    instructors = InstructorRefSchema(many=True)
    modules = ModuleSchema(many=True)


class CoursePageSchema(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = CourseSchema(many=True)


class HighlightSchema(serializers.Serializer):
    title = serializers.CharField(help_text="HTML: escaped text, matches in <mark>…</mark>.")
    summary = serializers.CharField(help_text="HTML: escaped text, matches in <mark>…</mark>.")


class SearchHitSchema(CourseSchema):
    highlight = HighlightSchema()


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
