"""Language-model work on the `llm` queue, each task under a time limit (LLM_TASK_TIME_LIMIT)."""

from __future__ import annotations

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from search.services.rewrites import turn_rewrite, turn_rewrite_fallback


# Routed to the `llm` queue by CELERY_TASK_ROUTES.
@shared_task(
    soft_time_limit=settings.LLM_TASK_TIME_LIMIT,
    time_limit=settings.LLM_TASK_TIME_LIMIT + 10,
)
def rewrite_turn_task(turn_id: int) -> dict:
    """Rewrite a turn's text with the language model and push the result; on the time limit, the user's query stands."""
    try:
        return turn_rewrite(turn_id)
    except SoftTimeLimitExceeded:
        return turn_rewrite_fallback(turn_id, reason=f"time limit of {settings.LLM_TASK_TIME_LIMIT} s reached")
