from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView

from catalog.media.views import media_file
from frontend.views import ApiDocsView
from instructor.pages import unsubscribe
from portal import health
from portal.accounts.views import admin_login
from portal.metrics import metrics_view

handler404 = "portal.errors.json_handler404"
handler500 = "portal.errors.json_handler500"

api_patterns: list[URLPattern | URLResolver] = [
    path("", include("portal.accounts.urls")),
    path("", include("portal.accounts.auth_urls")),
    # GET, PATCH and DELETE /api/me and the export: DELETE erases the account's data in
    # every app, so its views sit above them all (portal.privacy, the top layer).
    path("", include("portal.privacy.urls")),
    path("", include("catalog.urls")),
    path("", include("enrollment.urls")),
    path("", include("instructor.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("readyz/dependencies", health.dependencies, name="readyz-dependencies"),
    path("metrics", metrics_view, name="metrics"),
    path("api/", include(api_patterns)),
    # Lesson files of the local storage backend, for holders of a signed, unexpired link.
    path("media/<str:token>/<str:filename>", media_file, name="media-file"),
    # Before the admin's own URLs: its sign-in, rate-limited like the API's.
    path("admin/login/", admin_login, name="admin-login"),
    path("admin/", admin.site.urls),
    # The link of every announcement email (signed token; one-click POST, RFC 8058).
    path("unsubscribe/<str:token>", unsubscribe, name="unsubscribe"),
    path("", include("frontend.account_link_urls")),
    path("", include("frontend.urls")),
]
