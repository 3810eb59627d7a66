"""The fetch page: ask for N web images of a query, then watch the job's progress live (ws/jobs/<id>/)."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from search.forms import FetchJobForm
from search.models import Job, JobItemState, JobKind, SearchSession
from search.selectors import InvalidQuery
from search.services.fetch import fetch_job_create
from search.services.jobs import job_get_for_user


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
    jobs = Job.objects.filter(user=request.user, kind=JobKind.FETCH)[:10]
    status = 400 if form.is_bound else 200
    return render(request, "search/fetch.html", {"form": form, "jobs": jobs}, status=status)


@login_required
def fetch_job(request: HttpRequest, job_id: int) -> HttpResponse:
    try:
        job = job_get_for_user(user=request.user, job_id=job_id)
    except Job.DoesNotExist:
        raise Http404("No such job.") from None
    items = job.items.exclude(state=JobItemState.PENDING).select_related("image").order_by("-updated_at", "-id")[:200]
    context = {"job": job, "items": items, "form": FetchForm(user=request.user, initial={"query": job.query})}
    return render(request, "search/fetch.html", context)
