"""The unsubscribe page, /unsubscribe/<token>: the link of every announcement email.

GET shows what the link does and a button; POST opts the student out of that course's
announcements. The signed token is the authentication (no sign-in, no CSRF token): a mail
client's one-click unsubscribe (RFC 8058) POSTs `List-Unsubscribe=One-Click` to the same
URL without cookies. A forged POST could only opt out the student the token names, from
the course it names, which is what the token's holder may do anyway."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from catalog.models import Course
from instructor.models import AnnouncementOptOut
from instructor.unsubscribe import announcements_opt_out, subscription_from_token


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    subscription = subscription_from_token(token)
    course = (
        Course.objects.filter(pk=subscription.course_id).only("title", "slug").first()
        if subscription
        else None
    )
    context = {"page": "unsubscribe", "course": course, "token": token}
    if subscription is None or course is None:
        return render(
            request, "instructor/unsubscribe.html", {**context, "state": "invalid"}, status=404
        )
    if request.method == "POST":
        announcements_opt_out(subscription=subscription)
        state = "done"
    else:
        opted_out = AnnouncementOptOut.objects.filter(
            student_id=subscription.student_id, course_id=subscription.course_id
        ).exists()
        state = "done" if opted_out else "confirm"
    return render(request, "instructor/unsubscribe.html", {**context, "state": state})
