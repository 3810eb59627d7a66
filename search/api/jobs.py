"""Background jobs started through the API (a large upload): their progress, for polling clients."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from search.api import examples
from search.api.common import TimedApiView
from search.api.images import JobSerializer
from search.models import Job
from search.selectors.jobs import job_get_for_user, job_snapshot


class JobDetailApi(TimedApiView):
    """A job you started (staff: any job): its state and counters; poll until `state` is succeeded, failed or
    cancelled. Each item's outcome is on the images it added (GET /api/images/)."""

    @extend_schema(responses=JobSerializer, examples=examples.JOB_DETAIL)
    def get(self, request, job_id: int):
        try:
            job = job_get_for_user(user=request.user, job_id=job_id)
        except Job.DoesNotExist:
            raise Http404(f"No job {job_id}.") from None
        return Response(JobSerializer(job_snapshot(job)).data)
