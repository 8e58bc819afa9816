from django.urls import path

from catalog import views

urlpatterns = [
    path("courses", views.CourseListView.as_view(), name="course-list"),
    path("courses/<slug:slug>", views.CourseDetailView.as_view(), name="course-detail"),
    path("search", views.SearchView.as_view(), name="search"),
    path("lessons/<int:lesson_id>", views.LessonDetailView.as_view(), name="lesson-detail"),
    path("lessons/<int:lesson_id>/media", views.LessonMediaView.as_view(), name="lesson-media"),
]
