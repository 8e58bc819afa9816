from django.contrib import admin

from portal.jobs.models import FailedJob
from portal.jobs.services import failed_jobs_retry


@admin.register(FailedJob)
class FailedJobAdmin(admin.ModelAdmin):
    list_display = ["task_name", "queue", "failed_at", "retried_at", "short_exception"]
    list_filter = ["task_name", "queue"]
    readonly_fields = [field.name for field in FailedJob._meta.fields]
    actions = ["retry_jobs"]

    @admin.display(description="Exception")
    def short_exception(self, job: FailedJob) -> str:
        return job.exception[:80]

    @admin.action(description="Retry the selected jobs")
    def retry_jobs(self, request, queryset) -> None:
        count = failed_jobs_retry(jobs=list(queryset))
        self.message_user(request, f"Queued {count} job(s) again.")
