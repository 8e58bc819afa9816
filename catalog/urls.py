from django.urls import path

from catalog import coupon_views, studio_views, views

urlpatterns = [
    path("courses", views.CourseListView.as_view(), name="course-list"),
    path("courses/<slug:slug>", views.CourseDetailView.as_view(), name="course-detail"),
    path("search", views.SearchView.as_view(), name="search"),
    path("lessons/<int:lesson_id>", views.LessonDetailView.as_view(), name="lesson-detail"),
    path("lessons/<int:lesson_id>/media", views.LessonMediaView.as_view(), name="lesson-media"),
    # The authoring API (the studio).
    path("studio/courses", studio_views.StudioCourseListView.as_view(), name="studio-course-list"),
    path(
        "studio/courses/<slug:slug>",
        studio_views.StudioCourseView.as_view(),
        name="studio-course-detail",
    ),
    path(
        "studio/lessons/<int:lesson_id>",
        studio_views.StudioLessonView.as_view(),
        name="studio-lesson-detail",
    ),
    path(
        "courses/<slug:slug>/publish",
        studio_views.CoursePublishView.as_view(),
        name="course-publish",
    ),
    path(
        "courses/<slug:slug>/unpublish",
        studio_views.CourseUnpublishView.as_view(),
        name="course-unpublish",
    ),
    path(
        "courses/<slug:slug>/modules",
        studio_views.CourseModulesView.as_view(),
        name="course-modules",
    ),
    path(
        "courses/<slug:slug>/coupons",
        coupon_views.CourseCouponsView.as_view(),
        name="course-coupons",
    ),
    path(
        "courses/<slug:slug>/coupons/<str:code>/quote",
        coupon_views.CouponQuoteView.as_view(),
        name="course-coupon-quote",
    ),
    path("modules/<int:module_id>", studio_views.ModuleDetailView.as_view(), name="module-detail"),
    path(
        "modules/<int:module_id>/lessons",
        studio_views.ModuleLessonsView.as_view(),
        name="module-lessons",
    ),
    path("lessons/preview", studio_views.LessonPreviewView.as_view(), name="lesson-preview"),
    path(
        "lessons/<int:lesson_id>/resources",
        studio_views.LessonResourcesView.as_view(),
        name="lesson-resources",
    ),
    path(
        "resources/<int:resource_id>",
        studio_views.ResourceDetailView.as_view(),
        name="resource-detail",
    ),
    path(
        "captions/<int:caption_id>", studio_views.CaptionDetailView.as_view(), name="caption-detail"
    ),
]
