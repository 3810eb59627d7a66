"""Jobs in the admin: progress and failed items of background jobs, retrying and cancelling them, and the page where
curators start a web fetch.

Starting a fetch needs `search.add_image` (it adds images to the collection); retrying and cancelling need
`search.change_job`. The work itself is the services' (search.services.fetch, jobs), as on the web pages.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST

from search.errors import InvalidQuery
from search.forms import FetchJobForm
from search.models import Job, JobItem, JobItemState, JobState
from search.services.fetch import fetch_job_create
from search.services.jobs import job_cancel, job_retry_failed

FETCH_PERMISSION = "search.add_image"


class FailedItemInline(admin.TabularInline):
    model = JobItem
    verbose_name_plural = "failed items"
    fields = ["source", "state", "reason", "updated_at"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).filter(state=JobItemState.FAILED)

    def has_view_permission(self, request, obj=None):
        # Items are part of their job: whoever may see the job sees why its items failed.
        return request.user.has_perm("search.view_job") or request.user.has_perm("search.change_job")


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "state", "progress", "failed", "skipped", "user", "created_at", "finished_at"]
    list_filter = ["kind", "state"]
    search_fields = ["query", "message"]
    actions = ["retry_failed", "cancel"]
    inlines = [FailedItemInline]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Job._meta.fields]

    def has_add_permission(self, request):
        return False  # jobs are started by what they do (the fetch page below, commands), never typed in

    @admin.display(description="progress")
    def progress(self, job: Job) -> str:
        if not job.total:
            return f"{job.done}"
        return f"{job.done + job.failed + job.skipped} / {job.total}"

    # --- actions ---

    @admin.action(description="Retry the failed items of selected jobs", permissions=["change"])
    def retry_failed(self, request, queryset):
        cancelled = queryset.filter(state=JobState.CANCELLED).count()
        if cancelled:  # whoever cancelled a job meant it to stay stopped
            self.message_user(request, f"Left {cancelled} cancelled jobs as they are.", messages.WARNING)
        for job in queryset.exclude(state=JobState.CANCELLED):
            retried = job_retry_failed(job=job)  # and queues the job's pending items again
            if retried:
                self.log_change(request, job, f"{retried} failed items set back to pending.")
                self.message_user(request, f"{job}: {retried} failed items queued again.")

    @admin.action(description="Cancel selected jobs (pending or running)", permissions=["change"])
    def cancel(self, request, queryset):
        cancelled = [job for job in queryset if job_cancel(job=job, user=request.user)]
        for job in cancelled:
            self.log_change(request, job, "Cancelled.")
        ended = queryset.count() - len(cancelled)
        note = f" ({ended} had already ended)" if ended else ""
        self.message_user(request, f"Cancelled {len(cancelled)} jobs{note}; what they finished is kept.")

    # --- the change page: a Cancel button while the job can still be stopped ---

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.get_object(request, object_id)
        can_cancel = job is not None and job.is_cancellable and self.has_change_permission(request, job)
        extra_context = {**(extra_context or {}), "can_cancel": can_cancel}
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("fetch/", wrap(self.fetch_view), name="search_job_fetch"),
            path("<int:job_id>/cancel/", wrap(self.cancel_view), name="search_job_cancel"),
            *super().get_urls(),
        ]

    @method_decorator(require_POST)
    def cancel_view(self, request, job_id: int) -> HttpResponse:
        job = get_object_or_404(Job, pk=job_id)
        if not self.has_change_permission(request, job):
            raise PermissionDenied
        if job_cancel(job=job, user=request.user):
            self.log_change(request, job, "Cancelled.")
            self.message_user(request, "The job is cancelled; what it finished is kept, the rest stays pending.")
        else:
            self.message_user(request, f"The job had already ended ({job.get_state_display()}).", messages.WARNING)
        return redirect("admin:search_job_change", job.pk)

    # --- starting a web fetch ---

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_fetch": request.user.has_perm(FETCH_PERMISSION)}
        return super().changelist_view(request, extra_context)

    def fetch_view(self, request) -> HttpResponse:
        if not request.user.has_perm(FETCH_PERMISSION):
            raise PermissionDenied
        form = FetchJobForm(request.POST or None)
        if form.is_bound and form.is_valid():
            job = self._fetch_start(request, form)
            if job is not None:
                return redirect("admin:search_job_change", job.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": "Fetch images from the web",
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(request, "admin/search/job/fetch.html", context)

    def _fetch_start(self, request: HttpRequest, form: FetchJobForm) -> Job | None:
        data = form.cleaned_data
        try:
            job = fetch_job_create(
                query=data["query"], count=data["count"], category=data["category"], user=request.user
            )
        except InvalidQuery as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
            return None
        self.log_addition(request, job, f"Started from the admin: {job.params['count']} images of “{job.query}”.")
        self.message_user(request, f"Fetching up to {job.params['count']} images of “{job.query}” in the background.")
        return job
