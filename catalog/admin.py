from django.contrib import admin

from catalog.models import Course, CourseInstructor, Lesson, Module


class CourseInstructorInline(admin.TabularInline):
    model = CourseInstructor
    extra = 0
    autocomplete_fields = ["user"]


class ModuleInline(admin.TabularInline):
    model = Module
    extra = 0
    show_change_link = True


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "category",
        "level",
        "price",
        "currency",
        "capacity",
        "seats_taken",
        "enrollment_count",
        "published_at",
    ]
    list_filter = ["level", "category", "currency"]
    search_fields = ["title", "slug", "summary"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["seats_taken", "enrollment_count", "revenue", "created_at", "updated_at"]
    inlines = [CourseInstructorInline, ModuleInline]
    date_hierarchy = "published_at"
    show_full_result_count = False


class LessonInline(admin.TabularInline):
    model = Lesson
    extra = 0


@admin.register(Module)
class ModuleAdmin(admin.ModelAdmin):
    list_display = ["title", "course", "position"]
    list_select_related = ["course"]
    search_fields = ["title", "course__title"]
    autocomplete_fields = ["course"]
    inlines = [LessonInline]
