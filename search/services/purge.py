"""Purging temporary files: query images of idle search sessions, stray files of such sessions, staged uploads no
job needs any more, expired Django sessions. Indexed images (Image rows and their files) are never touched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import import_module

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from search.models import Image, Job, JobItem, JobItemState, QueryImage, SearchSession
from search.services.jobs import STAGING_FOLDER

logger = logging.getLogger(__name__)

QUERY_FOLDER = "queries"


@dataclass
class PurgeReport:
    query_images: int = 0
    files: list[str] = field(default_factory=list)
    expired_sessions: int = 0
    dry_run: bool = False

    def __str__(self) -> str:
        verb = "would remove" if self.dry_run else "removed"
        return (
            f"{verb} {self.query_images} query images of idle search sessions, {len(self.files)} files, "
            f"{self.expired_sessions} expired login sessions"
        )


def temporary_files_purge(*, now: datetime | None = None, dry_run: bool = False) -> PurgeReport:
    """Delete what search sessions idle for SESSION_TEMP_TTL_MINUTES left behind, and expired Django sessions."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.SESSION_TEMP_TTL_MINUTES)
    report = PurgeReport(dry_run=dry_run)
    _purge_query_images(cutoff, report)
    _purge_stray_files(cutoff, report)
    _purge_staged_uploads(cutoff, report)
    _purge_expired_sessions(now, report)
    for name in report.files:
        logger.info("purge %s %s", "would remove" if dry_run else "removed", name)
    logger.info("purge: %s", report)
    return report


def _purge_query_images(cutoff: datetime, report: PurgeReport) -> None:
    stale = QueryImage.objects.filter(session__updated_at__lt=cutoff)
    report.query_images = stale.count()
    files = _unindexed([name for name in stale.values_list("file", flat=True) if name])
    report.files += files
    if not report.dry_run:
        with transaction.atomic():
            stale.delete()
            transaction.on_commit(lambda: _delete(files))


def _purge_stray_files(cutoff: datetime, report: PurgeReport) -> None:
    """Files under queries/<session id>/ with no row, of sessions idle or gone, older than the cut-off."""
    try:
        folders, _ = default_storage.listdir(QUERY_FOLDER)
    except FileNotFoundError:
        return
    ids = {int(folder) for folder in folders if folder.isdigit()}
    live = set(SearchSession.objects.filter(pk__in=ids, updated_at__gte=cutoff).values_list("pk", flat=True))
    referenced = set(QueryImage.objects.filter(session_id__in=ids).values_list("file", flat=True))
    stray = []
    for session_id in sorted(ids - live):
        folder = f"{QUERY_FOLDER}/{session_id}"
        for name in default_storage.listdir(folder)[1]:
            path = f"{folder}/{name}"
            if path not in referenced and path not in report.files and default_storage.get_modified_time(path) < cutoff:
                stray.append(path)
    stray = _unindexed(stray)
    report.files += stray
    if not report.dry_run:
        _delete(stray)


def _purge_staged_uploads(cutoff: datetime, report: PurgeReport) -> None:
    """Staged files (uploads/<job id>/) no pending item needs: of finished or cancelled upload jobs, or of no job
    at all (a deleted one), older than the cut-off. A pending item's file waits for its job to resume."""
    try:
        folders, _ = default_storage.listdir(STAGING_FOLDER)
    except FileNotFoundError:
        return
    ids = {int(folder) for folder in folders if folder.isdigit()}
    needed = set(
        JobItem.objects.filter(job_id__in=ids, state=JobItemState.PENDING)
        .exclude(job__state__in=Job.FINISHED_STATES)
        .values_list("source", flat=True)
    )
    stale = []
    for job_id in sorted(ids):
        folder = f"{STAGING_FOLDER}/{job_id}"
        for name in default_storage.listdir(folder)[1]:
            path = f"{folder}/{name}"
            if path not in needed and default_storage.get_modified_time(path) < cutoff:
                stale.append(path)
    report.files += stale
    if not report.dry_run:
        _delete(stale)


def _purge_expired_sessions(now: datetime, report: PurgeReport) -> None:
    engine = import_module(settings.SESSION_ENGINE)
    if settings.SESSION_ENGINE.endswith(".db") or settings.SESSION_ENGINE.endswith(".cached_db"):
        from django.contrib.sessions.models import Session

        expired = Session.objects.filter(expire_date__lt=now)
        report.expired_sessions = expired.count()
        if not report.dry_run:
            expired.delete()
    elif not report.dry_run:
        engine.SessionStore.clear_expired()  # cache and cookie sessions expire on their own


def _unindexed(names: list[str]) -> list[str]:
    """Never delete a file an indexed image points at, whatever a query row says."""
    used = set(
        Image.objects.filter(Q(file__in=names) | Q(thumbnail__in=names)).values_list("file", "thumbnail").distinct()
    )
    used_names = {name for pair in used for name in pair}
    return [name for name in names if name not in used_names]


def _delete(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)
