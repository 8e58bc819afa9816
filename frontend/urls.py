from django.urls import path, re_path

from frontend import test_bank, views

urlpatterns = [
    path("", views.home, name="home"),
    path("courses/<slug:slug>", views.course, name="course-page"),
    path("search", views.search_page, name="search-page"),
    path("signin", views.sign_in, name="signin"),
    path("register", views.register, name="register"),
    path("dashboard", views.dashboard, name="dashboard"),
    path("account", views.account, name="account"),
    path("receipts/<str:number>", views.receipt, name="receipt-page"),
    path("enrollments/<int:enrollment_id>/receipt", views.enrollment_receipt),
    path("learn/<int:enrollment_id>", views.lesson, name="learn"),
    path("learn/<int:enrollment_id>/<int:lesson_id>", views.lesson, name="lesson"),
    path("lessons/<int:lesson_id>", views.lesson_preview, name="lesson-preview"),
    path("instructor", views.instructor, name="instructor"),
    path("studio", views.studio, name="studio"),
    path("studio/new", views.studio_new, name="studio-new"),
    path("studio/courses/<slug:slug>", views.studio_course, name="studio-course"),
    path("studio/lessons/<int:lesson_id>", views.studio_lesson, name="studio-lesson"),
    # The test gateway's 3-D Secure challenge (a bank's page; only with the test gateway).
    path(
        "payments/test/authenticate/<str:client_secret>",
        test_bank.authenticate_page,
        name="test-gateway-authenticate",
    ),
    path("sw.js", views.service_worker, name="service-worker"),
    path("manifest.webmanifest", views.web_manifest, name="web-manifest"),
    # Certificates by code (Crockford base32 in groups, any case): the PDF and the page.
    re_path(
        r"^certificates/(?P<code>[0-9A-Za-z-]{1,40})\.pdf$",
        views.certificate_pdf_download,
        name="certificate-pdf",
    ),
    re_path(
        r"^certificates/(?P<code>[0-9A-Za-z-]{1,40})$", views.certificate, name="certificate-page"
    ),
]
