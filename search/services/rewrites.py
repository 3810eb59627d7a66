"""Language-model rewrites of search turns, delivered after the first results, never before them.

A committed turn (search.services.sessions) queues `rewrite_turn_task` on the `llm` queue and, for a new query
image, `caption_query_image_task` (turn_language_queue). The worker rewrites the turn's text (search.language),
searches with the rewrite, stores everything in SearchTurn.rewrite and pushes it to the open page as a "session.event":

    {"type": "rewrite", "turn_id", "position", "kind", "original", "text", "rewritten", "reason", "applied",
     "hits": [...], "rerank": {"order", "explanation"}?}

The turn's own query_text and results are never changed, so undoing a rewrite (turn_rewrite_set_applied) is just
showing them again.
"""

from __future__ import annotations

import logging
from dataclasses import asdict

from django.conf import settings
from django.db import transaction

from search import background, language
from search.background import queue
from search.encoder import ClipEncoder
from search.files import load_stored_image
from search.imagefiles import InvalidImage, LoadedImage
from search.models import SearchTurn, TurnKind
from search.pushes import session_push
from search.query import SearchHit, SearchRequest
from search.selectors.search import search_images
from search.selectors.sessions import turn_hits

logger = logging.getLogger(__name__)

PENDING = "pending"


def rewrite_wanted(turn: SearchTurn) -> bool:
    if not settings.LLM_MODEL:  # an empty LLM_MODEL turns the language model off
        return False
    if turn.kind == TurnKind.QUERY and turn.text.strip():
        return settings.LLM_QUERY_TRANSLATION or settings.LLM_RERANK
    if turn.kind == TurnKind.FEEDBACK and turn.text.strip():
        return settings.LLM_FEEDBACK_MERGING or settings.LLM_RERANK
    return False


def turn_language_queue(turn: SearchTurn) -> None:
    """Queue the language work a newly committed turn wants: a rewrite of its text, a caption of its new image."""
    turn_rewrite_request(turn)
    wants_caption = turn.query_image is not None and not turn.query_image.caption and settings.CAPTION_MODEL
    if turn.kind == TurnKind.QUERY and wants_caption:
        queue(background.CAPTION_QUERY_IMAGE, turn.query_image_id)  # the search has been answered: a bonus


def turn_rewrite_request(turn: SearchTurn) -> bool:
    """Queue the rewrite of a committed turn; a broker that is down costs a log line, never the search."""
    if not rewrite_wanted(turn):
        return False
    SearchTurn.objects.filter(pk=turn.pk).update(rewrite={"state": PENDING})
    if queue(background.REWRITE_TURN, turn.pk) is None:
        SearchTurn.objects.filter(pk=turn.pk).update(rewrite={})  # no rewrite is coming: the page must not wait
        return False
    return True


def turn_rewrite(
    turn_id: int, *, model: language.LanguageModel | None = None, encoder: ClipEncoder | None = None
) -> dict:
    """Rewrite the turn's text, search with the rewrite, store it on the turn and push it to the page."""
    turn = SearchTurn.objects.select_related("parent", "query_image").defer("query_vector").filter(pk=turn_id).first()
    if turn is None:
        return {}  # the session was deleted meanwhile
    if turn.rewrite and turn.rewrite.get("state") != PENDING:
        return turn.rewrite  # done already (a retried or repeated task)
    rewrite = _language_rewrite(turn, model)
    hits: list[SearchHit] = []
    if rewrite.rewritten:
        request = SearchRequest(
            text=rewrite.text,
            image=_query_image(turn),
            image_weight=turn.image_weight,
            top_k=max(len(turn.results), 1),
        )
        hits = search_images(request, encoder=encoder).hits
    payload = {
        **rewrite.as_json(),
        "state": "done" if rewrite.rewritten else "fallback",
        "applied": rewrite.rewritten and settings.LLM_APPLY_REWRITES,
        "results": [{"id": hit.id, "score": hit.score} for hit in hits],
    }
    if settings.LLM_RERANK:
        payload["rerank"] = _rerank(turn, rewrite.text, hits, model)
    return _store_and_notify(turn, payload, hits)


def turn_rewrite_fallback(turn_id: int, *, reason: str) -> dict:
    """Record that the rewrite was given up (time limit, worker error): the user's own query stands."""
    turn = SearchTurn.objects.defer("query_vector").filter(pk=turn_id).first()
    if turn is None:
        return {}
    logger.warning("LLM rewrite of turn %s fell back to the user's query: %s", turn_id, reason)
    payload = {"kind": "", "original": turn.query_text, "text": turn.query_text, "rewritten": False}
    payload |= {"reason": reason, "model": settings.LLM_MODEL, "state": "fallback", "applied": False, "results": []}
    return _store_and_notify(turn, payload, [])


@transaction.atomic
def turn_rewrite_set_applied(*, turn: SearchTurn, applied: bool) -> SearchTurn:
    """Show the rewrite's results (applied) or the turn's own again (undo); only a real rewrite can be applied."""
    turn = SearchTurn.objects.select_for_update().get(pk=turn.pk)
    if turn.rewrite.get("state") != "done":
        return turn
    turn.rewrite = {**turn.rewrite, "applied": bool(applied)}
    turn.save(update_fields=["rewrite"])
    return turn


def _language_rewrite(turn: SearchTurn, model: language.LanguageModel | None) -> language.Rewrite:
    if turn.kind == TurnKind.FEEDBACK:
        parent_query = turn.parent.query_text if turn.parent is not None else ""
        return language.merge_feedback(parent_query, turn.text, fallback=turn.query_text, model=model)
    return language.translate_query(turn.query_text or turn.text, model=model)


def _rerank(turn: SearchTurn, query: str, hits: list[SearchHit], model) -> dict:
    candidates = [(hit.id, hit.caption) for hit in (hits or turn_hits(turn))[:10]]
    reranked = language.rerank_and_explain(query, candidates, model=model)
    return {"order": reranked.order, "explanation": reranked.explanation, "reranked": reranked.reranked}


def _query_image(turn: SearchTurn) -> LoadedImage | None:
    if turn.query_image is None:
        return None
    try:
        return load_stored_image(turn.query_image.file.name)
    except InvalidImage:
        return None  # purged with an idle session: the rewrite searches by text alone


def _store_and_notify(turn: SearchTurn, payload: dict, hits: list[SearchHit]) -> dict:
    SearchTurn.objects.filter(pk=turn.pk).update(rewrite=payload)
    event = {"type": "rewrite", "turn_id": turn.pk, "position": turn.position, **payload}
    event["hits"] = [asdict(hit) for hit in hits]
    session_push(turn.session_id, event)
    return payload
