from django.urls import path

from portal.privacy import views

urlpatterns = [
    path("me", views.MeView.as_view(), name="me"),
    path("me/export", views.ExportView.as_view(), name="me-export"),
]
