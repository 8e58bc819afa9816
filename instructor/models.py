"""What instructor tools store: announcements sent to a course's students, and the students
who asked not to get them any more."""

from django.conf import settings
from django.db import models

from catalog.models import Course
from enrollment.models import Student


class AnnouncementStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"


class Announcement(models.Model):
    """A plain-text email from an instructor to a course's active and completed students,
    sent in batches by a job (instructor.tasks). `cursor` is the last student it was sent
    to: batches go in student id order, so a retried batch resumes after it."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="announcements")
    # Null once its author's account was erased: the announcement stays in the course's
    # history (its students got it), no longer naming who sent it.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="announcements",
    )
    subject = models.CharField(max_length=200)
    body = models.TextField()
    status = models.CharField(
        max_length=16, choices=AnnouncementStatus.choices, default=AnnouncementStatus.QUEUED
    )
    recipients = models.PositiveIntegerField(default=0, help_text="Counted when it was queued.")
    sent = models.PositiveIntegerField(default=0)
    cursor = models.BigIntegerField(default=0, help_text="Id of the last student mailed.")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.subject


class AnnouncementOptOut(models.Model):
    """A student who unsubscribed from one course's announcements."""

    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="opt_outs")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="opt_outs")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["student", "course"], name="optout_student_course"),
        ]

    def __str__(self) -> str:
        return f"{self.student} ⟂ {self.course}"
