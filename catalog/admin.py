from typing import Any

from django import forms
from django.contrib import admin

from catalog import cache as catalog_cache
from catalog import coupons, services
from catalog.media import checks
from catalog.models import (
    Coupon,
    Course,
    CourseInstructor,
    Lesson,
    LessonCaption,
    LessonResource,
    Module,
    Synonym,
    WaitlistEntry,
)
from catalog.search import synonyms
from catalog.search.sync import index_on_commit


class RetiresCachedCourse:
    """Admin changes retire the changed course's cached answers after commit and bring it
    up to date in an external search index, as the API's writes do (the outline shows
    titles, kinds, preview flags; search reads titles, names and instructors)."""

    def course_slug(self, obj: Any) -> str:
        """The slug of the course that `obj`, a row of this admin's model, belongs to."""
        raise NotImplementedError

    def save_related(self, request, form, formsets, change) -> None:
        # A mixin: ModelAdmin, which defines it, comes after it in an admin's bases.
        super().save_related(request, form, formsets, change)  # type: ignore[misc]
        slug = self.course_slug(form.instance)
        catalog_cache.invalidate_on_commit([slug])
        index_on_commit(Course.objects.filter(slug=slug).values_list("id", flat=True))


class BumpsVersions:
    """An admin edit counts as a change like the studio's own (catalog.versions): an open
    studio tab based on the older version meets the conflict dialog instead of writing over
    it. For the page's object and the rows of its inlines (a module renamed in its course's
    page, a lesson in its module's)."""

    def save_model(self, request, obj, form, change) -> None:
        bump_if_changed(form)
        super().save_model(request, obj, form, change)  # type: ignore[misc]

    def save_formset(self, request, form, formset, change) -> None:
        for row in formset.forms:
            bump_if_changed(row)
        super().save_formset(request, form, formset, change)  # type: ignore[misc]


def bump_if_changed(form: forms.ModelForm) -> None:
    instance = form.instance
    if instance.pk and hasattr(instance, "version") and form.has_changed():
        instance.version += 1


class CourseInstructorInline(admin.TabularInline):
    model = CourseInstructor
    extra = 0
    autocomplete_fields = ["user"]


class ModuleInline(admin.TabularInline):
    model = Module
    extra = 0
    fields = ["title", "position"]
    show_change_link = True


@admin.register(Course)
class CourseAdmin(BumpsVersions, RetiresCachedCourse, admin.ModelAdmin):
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
    readonly_fields = [
        "seats_taken",
        "enrollment_count",
        "revenue",
        "version",
        "created_at",
        "updated_at",
    ]
    inlines = [CourseInstructorInline, ModuleInline]
    date_hierarchy = "published_at"
    show_full_result_count = False

    def course_slug(self, obj: Course) -> str:
        return obj.slug


class LessonInline(admin.TabularInline):
    """The outline of a module; text, video and files are edited on the lesson's page."""

    model = Lesson
    extra = 0
    fields = ["title", "position", "duration_seconds", "kind", "preview"]
    show_change_link = True


@admin.register(Module)
class ModuleAdmin(BumpsVersions, RetiresCachedCourse, admin.ModelAdmin):
    list_display = ["title", "course", "position"]
    list_select_related = ["course"]
    search_fields = ["title", "course__title"]
    autocomplete_fields = ["course"]
    readonly_fields = ["version"]
    inlines = [LessonInline]

    def course_slug(self, obj: Module) -> str:
        return obj.course.slug


class LessonAdminForm(forms.ModelForm):
    class Meta:
        model = Lesson
        fields = [
            "module",
            "title",
            "position",
            "duration_seconds",
            "kind",
            "preview",
            "body",
            "media",
        ]

    def clean_media(self):
        """A new video's type comes from its first bytes (MP4 or WebM), not its name."""
        media = self.cleaned_data.get("media")
        if not media or not hasattr(media, "content_type"):  # unchanged, or cleared
            return media
        sniffed = checks.sniff_video_type(media)
        if sniffed is None:
            raise forms.ValidationError("The file is not an MP4 or WebM video.")
        self.instance.media_content_type = sniffed
        return media

    def clean(self) -> dict[str, Any]:
        super().clean()  # Django's returns cleaned_data
        cleaned = self.cleaned_data
        if "media" in self.changed_data and not cleaned.get("media"):
            self.instance.media_content_type = ""  # cleared
        return cleaned


class LessonCaptionForm(forms.ModelForm):
    class Meta:
        model = LessonCaption
        fields = ["lang", "label", "file"]

    def clean_file(self):
        file = self.cleaned_data.get("file")
        if file and hasattr(file, "content_type") and not checks.is_webvtt(file):
            raise forms.ValidationError("Captions must be UTF-8 WebVTT text starting with WEBVTT.")
        return file


class LessonCaptionInline(admin.TabularInline):
    model = LessonCaption
    form = LessonCaptionForm
    extra = 0


class LessonResourceInline(admin.TabularInline):
    model = LessonResource
    extra = 0
    fields = ["title", "file", "position", "size", "content_type"]
    readonly_fields = ["size", "content_type"]


@admin.register(Lesson)
class LessonAdmin(BumpsVersions, RetiresCachedCourse, admin.ModelAdmin):
    form = LessonAdminForm
    list_display = ["title", "module", "position", "kind", "preview"]
    list_filter = ["kind", "preview"]
    list_select_related = ["module__course"]
    search_fields = ["title", "module__title", "module__course__title"]
    autocomplete_fields = ["module"]
    readonly_fields = ["media_content_type", "version"]
    inlines = [LessonCaptionInline, LessonResourceInline]

    def course_slug(self, obj: Lesson) -> str:
        return obj.module.course.slug

    def save_model(self, request, obj: Lesson, form, change) -> None:
        services.lesson_save(lesson=obj)  # renders the Markdown, bumps the version

    def save_formset(self, request, form, formset, change) -> None:
        if formset.model is not LessonResource:
            super().save_formset(request, form, formset, change)  # captions: no version
            return
        for resource in formset.save(commit=False):
            services.lesson_resource_save(resource=resource)  # keeps size and type
        for resource in formset.deleted_objects:
            resource.delete()
        formset.save_m2m()


class CouponAdminForm(forms.ModelForm):
    """The API's rules (catalog.coupons), so the admin cannot store what the API refuses;
    `redeemed` is counted by the checkouts alone."""

    class Meta:
        model = Coupon
        fields = ["code", "course", "percent_off", "amount_off", "max_redemptions", "expires_at"]

    def clean_code(self) -> str:
        code = self.cleaned_data.get("code", "")
        stored = coupons.coupon_code_normalized(code)
        if stored is None:
            raise forms.ValidationError("Use 3 to 32 letters, digits, - or _.")
        return stored

    def clean(self) -> dict[str, Any]:
        super().clean()  # Django's returns cleaned_data
        cleaned = self.cleaned_data
        problems = coupons.coupon_terms_problems(
            percent_off=cleaned.get("percent_off"),
            amount_off=cleaned.get("amount_off"),
            max_redemptions=cleaned.get("max_redemptions"),
            expires_at=cleaned.get("expires_at"),
        )
        if self.instance.pk and "expires_at" not in self.changed_data:
            problems.pop("expires_at", None)  # an expired coupon stays editable
        max_redemptions = cleaned.get("max_redemptions")
        if max_redemptions is not None and max_redemptions < self.instance.redeemed:
            problems["max_redemptions"] = [
                f"Already used {self.instance.redeemed} times: at least that many."
            ]
        for field, messages in problems.items():
            if field in self.fields and field not in self.errors:
                self.add_error(field, messages)
        return cleaned


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    """Staff coupons: a course's, or (no course) one for every course."""

    form = CouponAdminForm
    list_display = [
        "code",
        "course",
        "percent_off",
        "amount_off",
        "redeemed",
        "max_redemptions",
        "expires_at",
        "created_at",
    ]
    list_select_related = ["course"]
    list_filter = [("course", admin.EmptyFieldListFilter)]
    search_fields = ["code", "course__title", "course__slug"]
    autocomplete_fields = ["course"]
    readonly_fields = ["redeemed", "created_by", "created_at"]
    date_hierarchy = "created_at"

    def save_model(self, request, obj: Coupon, form, change) -> None:
        if change:
            # The form's fields only: a checkout may have counted a use since the page loaded.
            obj.save(update_fields=CouponAdminForm.Meta.fields)
            return
        obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(admin.ModelAdmin):
    """Read only: the line changes through catalog.waitlist (offers hold seats), never by
    editing rows here."""

    list_display = ("course", "user", "status", "joined_at", "offer_expires_at")
    list_filter = ("status",)
    search_fields = ("course__slug", "course__title", "user__email")
    list_select_related = ("course", "user")
    ordering = ("-id",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class SynonymAdminForm(forms.ModelForm):
    class Meta:
        model = Synonym
        fields = ["term", "expansion"]

    def clean_term(self) -> str:
        return self.cleaned_data.get("term", "").strip().lower()

    def clean_expansion(self) -> str:
        return " ".join(self.cleaned_data.get("expansion", "").split())


@admin.register(Synonym)
class SynonymAdmin(admin.ModelAdmin):
    """What a typed word also finds in search (catalog.search.synonyms applies a change:
    cached answers are retired, Meilisearch gets the new table)."""

    form = SynonymAdminForm
    list_display = ["term", "expansion"]
    search_fields = ["term", "expansion"]

    def save_model(self, request, obj: Synonym, form, change) -> None:
        synonyms.synonym_save(synonym=obj)

    def delete_model(self, request, obj: Synonym) -> None:
        synonyms.synonyms_delete(synonyms=[obj])

    def delete_queryset(self, request, queryset) -> None:
        synonyms.synonyms_delete(synonyms=list(queryset))
