"""The fetch page: ask for N web images of a query, then watch the job's progress live (ws/jobs/<id>/) or cancel it."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from search.errors import InvalidQuery
from search.forms import FetchJobForm
from search.models import Job, JobItemState, JobState, SearchSession
from search.selectors.jobs import fetch_jobs_for_user, job_get_for_user
from search.services.fetch import fetch_job_create
from search.services.jobs import job_cancel


class FetchForm(FetchJobForm):
    session = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_session(self) -> int | None:
        session_id = self.cleaned_data.get("session")
        if session_id and not SearchSession.objects.filter(pk=session_id, user=self.user).exists():
            raise forms.ValidationError("No such search session.")
        return session_id


@login_required
@permission_required("search.add_image", raise_exception=True)  # it adds images to everyone's collection
@require_http_methods(["GET", "POST"])
def fetch(request: HttpRequest) -> HttpResponse:
    form = FetchForm(request.POST or None, user=request.user)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            job = fetch_job_create(
                query=data["query"],
                count=data["count"],
                category=data["category"],
                user=request.user,
                session_id=data["session"],
            )
        except InvalidQuery as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            return redirect("search:fetch_job", job_id=job.pk)
    jobs = fetch_jobs_for_user(user=request.user)
    status = 400 if form.is_bound else 200
    return render(request, "search/fetch.html", {"form": form, "jobs": jobs}, status=status)


@login_required
def fetch_job(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job_or_404(request, job_id)
    items = job.items.exclude(state=JobItemState.PENDING).select_related("image").order_by("-updated_at", "-id")[:200]
    context = {
        "job": job,
        "items": items,
        "problem": job_problem(job),
        "form": FetchForm(user=request.user, initial={"query": job.query}),
        "can_cancel": job.is_cancellable and _may_cancel(request.user, job),
    }
    return render(request, "search/fetch.html", context)


# A failed job's message is for curators and logs (the exception as raised); the page says what happened in words.
_PROBLEMS = (
    (
        ("rate-limiting", "ratelimit"),
        "DuckDuckGo is refusing image searches from this server for now because it asked too often; "
        "try again in a few minutes.",
    ),
    (
        ("did not answer in time", "timeout", "timed out"),
        "The web search took too long to answer; try again in a moment.",
    ),
    (
        ("dns", "connect", "network", "resolve", "unreachable", "sending request", "ssl"),
        "The web search could not be reached from this server: it has no working connection to the internet, "
        "or the search service is down.",
    ),
)


def job_problem(job: Job) -> str:
    """One sentence saying why a failed job failed ("" for a job that did not fail)."""
    if job.state != JobState.FAILED:
        return ""
    text = job.message.lower()
    for words, sentence in _PROBLEMS:
        if any(word in text for word in words):
            return sentence
    return "The fetch stopped because of an error on the server; try again, and tell a curator if it fails again."


@login_required
@require_POST
def fetch_job_cancel(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job_or_404(request, job_id)
    if not _may_cancel(request.user, job):
        raise PermissionDenied("Only the user who started this job, or a curator, may cancel it.")
    job_cancel(job=job, user=request.user)  # a job that ended meanwhile stays as it ended
    return redirect("search:fetch_job", job_id=job.pk)


def _job_or_404(request: HttpRequest, job_id: int) -> Job:
    try:
        return job_get_for_user(user=request.user, job_id=job_id)
    except Job.DoesNotExist:
        raise Http404("No such job.") from None


def _may_cancel(user, job: Job) -> bool:
    # Staff may watch every job, but stopping someone else's work is for curators (the admin's permission).
    return job.user_id == user.pk or user.has_perm("search.change_job")
