from django.urls import path

from instructor import views

urlpatterns = [
    path("instructor/revenue", views.RevenueView.as_view(), name="instructor-revenue"),
    path("instructor/seats", views.SeatsBoardView.as_view(), name="instructor-seats"),
    path(
        "instructor/enrollments-per-hour",
        views.EnrollmentsPerHourView.as_view(),
        name="instructor-enrollments-per-hour",
    ),
    path("courses/<slug:slug>/roster.csv", views.RosterCsvView.as_view(), name="course-roster"),
    path(
        "courses/<slug:slug>/announcements",
        views.AnnouncementCreateView.as_view(),
        name="course-announcements",
    ),
]
