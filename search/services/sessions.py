"""Writes for search sessions: sessions, uploaded query images, and turns (a query or a refinement of one).

A turn records what was asked (text, query image, feedback, judgements, "more like this"), the query vector that
answered it and the results shown, so any earlier turn can be reopened and branched from (pass it as `parent`).
Once a turn commits, the language work it wants is queued (search.services.rewrites.turn_language_queue): a
rewrite of its text and a caption of a new query image, which reach the open page later as events.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from search.encoder import ClipEncoder, get_encoder
from search.errors import InvalidQuery
from search.files import load_stored_image
from search.imagefiles import InvalidImage
from search.models import Image, QueryImage, SearchSession, SearchTurn, TurnKind
from search.query import PhotoFilters, SearchHit, SearchRequest, SearchScope, TurnRequest, load_upload
from search.refinement import RefinementWeights, apply_feedback, parse_feedback, rocchio
from search.selectors.hybrid import search_hybrid
from search.selectors.sessions import judged_ids
from search.selectors.vector import query_vector, search_by_vector
from search.services.rewrites import turn_language_queue

TITLE_LENGTH = 200


@transaction.atomic
def session_create(*, user, title: str = "") -> SearchSession:
    """A new, empty search session of `user`."""
    return SearchSession.objects.create(user=user, title=_clean_title(title))


@transaction.atomic
def session_rename(*, session: SearchSession, title: str) -> SearchSession:
    """Give the session a new title (blank: shown as "Session <id>")."""
    session.title = _clean_title(title)
    session.save(update_fields=["title", "updated_at"])
    return session


def session_delete(*, session: SearchSession) -> None:
    """Delete the session, its turns and its uploaded query images; the files go once the delete commits."""
    with transaction.atomic():
        names = list(session.query_images.values_list("file", flat=True))
        session.delete()
        transaction.on_commit(lambda: _delete_files(names))


def _clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if len(title) > TITLE_LENGTH:
        raise InvalidQuery(f"The title is {len(title)} characters long; the limit is {TITLE_LENGTH}.", field="title")
    return title


def query_image_store(*, session: SearchSession, data: bytes, original_name: str) -> QueryImage:
    """Check an uploaded query image by its content and keep it with the session; InvalidQuery says why not."""
    loaded = load_upload(data)
    with transaction.atomic():
        locked = SearchSession.objects.select_for_update().get(pk=session.pk)
        existing = locked.query_images.filter(sha256=loaded.sha256).first()
        if existing is not None:
            return existing
        if locked.query_images.count() >= settings.SESSION_MAX_UPLOADS:
            raise InvalidQuery(
                f"A session holds at most {settings.SESSION_MAX_UPLOADS} uploaded images; start a new search.",
                field="image",
            )
        name = default_storage.save(f"queries/{session.pk}/{loaded.sha256}.{loaded.extension}", ContentFile(data))
        try:
            return QueryImage.objects.create(
                session=locked,
                file=name,
                sha256=loaded.sha256,
                original_name=(original_name or "")[:255],
                format=loaded.format,
                width=loaded.width,
                height=loaded.height,
                byte_size=len(data),
            )
        except Exception:
            default_storage.delete(name)
            raise


def session_start(*, user, data: bytes | None = None, original_name: str = "", **turn_options) -> SearchSession:
    """A new session with its first turn (turn_create's options), all or nothing: a refused query leaves no session
    and no file behind."""
    with transaction.atomic():
        session = session_create(user=user)
        turn_create_with_upload(session=session, data=data, original_name=original_name, **turn_options)
    return session


def turn_create_with_upload(
    *,
    session: SearchSession,
    data: bytes | None,
    original_name: str = "",
    query_image: QueryImage | None = None,
    **turn_options,
) -> SearchTurn:
    """turn_create with a new query image uploaded for it (or one the session holds already), all or nothing (a
    refused turn keeps no upload)."""
    stored: list[str] = []
    try:
        with transaction.atomic():
            image = query_image
            if data is not None:
                existing = set(session.query_images.values_list("file", flat=True))
                image = query_image_store(session=session, data=data, original_name=original_name)
                if image.file.name not in existing:
                    stored.append(image.file.name)
            return turn_create(session=session, query_image=image, **turn_options)
    except Exception:
        _delete_files(stored)
        raise


def turn_create(
    *,
    session: SearchSession,
    parent: SearchTurn | None = None,
    text: str = "",
    query_image: QueryImage | None = None,
    image_weight: float | None = None,
    feedback: str = "",
    relevant_ids: Iterable[int] = (),
    not_relevant_ids: Iterable[int] = (),
    more_like_image_id: int | None = None,
    top_k: int = 24,
    show_judged: bool = False,
    weights: Mapping[str, float] | None = None,
    client_key: str = "",
    mode: str = "vector",
    photo: PhotoFilters | None = None,
    encoder: ClipEncoder | None = None,
) -> SearchTurn:
    """Ask (text and/or image) or refine `parent` (default: the last turn), search, and record the turn.

    `client_key` makes the call idempotent: a page resending a turn it has no answer for (its socket dropped) gets
    the turn the first delivery made, never a second one.
    """
    ask = TurnRequest(
        text=text,
        feedback=feedback,
        relevant_ids=relevant_ids,
        not_relevant_ids=not_relevant_ids,
        more_like_image_id=more_like_image_id,
        top_k=top_k,
        image_weight=image_weight,
        show_judged=show_judged,
        weights=weights,
        client_key=client_key,
        mode=mode,
        photo=photo or PhotoFilters(),
    )
    if client_key and (existing := session.turns.filter(client_key=client_key).first()) is not None:
        return existing
    return _answer_turn(session, parent, ask, query_image, encoder or get_encoder())


def _answer_turn(session, parent, ask: TurnRequest, query_image, encoder: ClipEncoder) -> SearchTurn:
    refinement = RefinementWeights.from_mapping(ask.weights)
    if query_image is not None and query_image.session_id != session.pk:
        raise InvalidQuery("That uploaded image belongs to another session.", field="image")
    parent = _resolve_parent(session, parent)
    new_query = ask.starts_query or query_image is not None
    _check_shape(ask, new_query, parent, encoder)
    vector = _query_vector(ask, query_image, parent, refinement, encoder)
    excluded = () if ask.show_judged else judged_ids(session, parent) | set(ask.relevant_ids + ask.not_relevant_ids)
    filters = _filters_in_force(ask, new_query, parent)
    scope = SearchScope(top_k=ask.top_k, exclude_ids=excluded, photo=PhotoFilters.from_json(filters))
    if new_query and filters.get("mode") == "hybrid" and ask.text and query_image is None:
        # Hybrid ranks the words typed; refinements move the vector, so they rank by vector within the same filters.
        request = SearchRequest(text=ask.text, mode="hybrid", top_k=ask.top_k, exclude_ids=excluded, photo=scope.photo)
        hits = search_hybrid(request, encoder=encoder).hits
    else:
        hits = search_by_vector(vector, scope=scope, model_key=encoder.model_key)
    answer = _Answer(vector, encoder.model_key, hits, ask.client_key, filters)
    return _record_turn(session, parent, ask, query_image, new_query, refinement, answer)


def _filters_in_force(ask: TurnRequest, new_query: bool, parent: SearchTurn | None) -> dict:
    """A new query's mode and photo filters; a refinement keeps those of the turn it refines."""
    if not new_query:
        return dict(parent.filters) if parent is not None else {}
    filters = ask.photo.as_json()
    if ask.mode != "vector":
        filters["mode"] = ask.mode
    return filters


def _resolve_parent(session: SearchSession, parent: SearchTurn | None) -> SearchTurn | None:
    if parent is None:
        return session.turns.order_by("-position").first()
    if parent.session_id != session.pk:
        raise InvalidQuery("That turn belongs to another session.", field="parent")
    return parent


def _check_shape(ask: TurnRequest, new_query: bool, parent: SearchTurn | None, encoder: ClipEncoder) -> None:
    if new_query and ask.more_like_image_id is not None:
        raise InvalidQuery(
            "Ask a new query or pick an image for 'more like this', not both.", field="more_like_image_id"
        )
    if new_query or ask.more_like_image_id is not None:
        return
    if parent is None:
        raise InvalidQuery("Describe what you are looking for, give an example image, or both.")
    if not (ask.feedback or ask.judged):
        raise InvalidQuery("Refine with feedback text, mark results relevant or not, or pick 'more like this'.")
    if parent.model_key != encoder.model_key:
        raise InvalidQuery("This session was searched with another model; start a new search.", field="parent")


def _query_vector(ask, query_image, parent, refinement, encoder) -> np.ndarray:
    """The turn's query: its base (a new query, an image's vector, or the parent's), judged and fed back."""
    vector = _base_vector(ask, query_image, parent, encoder)
    if ask.judged:
        relevant = _vectors(ask.relevant_ids, encoder.model_key)
        vector = rocchio(vector, relevant, _vectors(ask.not_relevant_ids, encoder.model_key), refinement)
    if ask.feedback:
        vector = _with_feedback(vector, ask.feedback, refinement, encoder)
    return vector


def _base_vector(ask: TurnRequest, query_image, parent, encoder) -> np.ndarray:
    if ask.starts_query or query_image is not None:
        request = SearchRequest(text=ask.text, image=_open_query_image(query_image), image_weight=ask.image_weight)
        return query_vector(request, encoder)
    if ask.more_like_image_id is not None:
        return _vectors((ask.more_like_image_id,), encoder.model_key, field="more_like_image_id")[0]
    return np.asarray(parent.query_vector, dtype=np.float32)


def _open_query_image(query_image: QueryImage | None):
    if query_image is None:
        return None
    try:
        return load_stored_image(query_image.file.name)
    except InvalidImage:
        raise InvalidQuery("The uploaded image has expired; upload it again.", field="image") from None


def _vectors(ids: tuple[int, ...], model_key: str, field: str = "relevant_ids") -> np.ndarray:
    if not ids:
        return np.zeros((0, 0), dtype=np.float32)
    found = dict(
        Image.objects.visible().embedded_with(model_key).filter(id__in=ids).values_list("id", "vector__embedding")
    )
    missing = [image_id for image_id in ids if image_id not in found]
    if missing:
        raise InvalidQuery(f"No searchable image with id {', '.join(map(str, missing[:10]))}.", field=field)
    return np.stack([np.asarray(found[image_id], dtype=np.float32) for image_id in ids])


def _with_feedback(vector: np.ndarray, feedback: str, weights: RefinementWeights, encoder) -> np.ndarray:
    parsed = parse_feedback(feedback)
    phrases = ([parsed.positive] if parsed.positive else []) + list(parsed.negated)
    if not phrases:
        raise InvalidQuery(
            "Say what to look for or what to leave out, e.g. 'blue sky' or 'no people'.", field="feedback"
        )
    encoded = encoder.encode_text(phrases)
    positive = encoded[0] if parsed.positive else None
    negated = encoded[1:] if parsed.positive else encoded
    return apply_feedback(vector, positive, negated, weights)


def _kind(ask: TurnRequest, new_query: bool) -> str:
    if new_query:
        return TurnKind.QUERY
    if ask.more_like_image_id is not None:
        return TurnKind.MORE_LIKE_THIS
    return TurnKind.FEEDBACK if ask.feedback else TurnKind.JUDGEMENT


def _query_text(ask: TurnRequest, new_query: bool, parent: SearchTurn | None) -> str:
    keeps_parent = parent is not None and ask.more_like_image_id is None
    base = ask.text if new_query else (parent.query_text if keeps_parent else "")
    return "; ".join(part for part in (base, ask.feedback) if part)


@dataclass(frozen=True)
class _Answer:
    """What a turn found: its query vector and hits, and the key the page sent it under."""

    vector: np.ndarray
    model_key: str
    hits: list[SearchHit]
    client_key: str
    filters: dict


def _record_turn(session, parent, ask, query_image, new_query, refinement, answer: _Answer) -> SearchTurn:
    with transaction.atomic():
        locked = SearchSession.objects.select_for_update().get(pk=session.pk)
        if answer.client_key and (existing := locked.turns.filter(client_key=answer.client_key).first()):
            return existing  # the same turn, delivered twice at once: the first one to commit made it
        last = locked.turns.order_by("-position").values_list("position", flat=True).first() or 0
        turn = SearchTurn.objects.create(
            session=locked,
            position=last + 1,
            parent=parent,
            kind=_kind(ask, new_query),
            text=ask.text or ask.feedback,
            query_text=_query_text(ask, new_query, parent),
            query_image=query_image if new_query else (parent.query_image if parent is not None else None),
            more_like_image_id=ask.more_like_image_id,
            image_weight=ask.image_weight if new_query else (parent.image_weight if parent is not None else None),
            relevant_ids=list(ask.relevant_ids),
            not_relevant_ids=list(ask.not_relevant_ids),
            weights=refinement.as_dict(),
            query_vector=answer.vector,
            model_key=answer.model_key,
            results=[{"id": hit.id, "score": hit.score} for hit in answer.hits],
            filters=answer.filters,
            client_key=answer.client_key,
        )
        if not locked.title:
            locked.title = (turn.query_text or "Image search")[:TITLE_LENGTH]
        locked.save(update_fields=["title", "updated_at"])
        session.title, session.updated_at = locked.title, locked.updated_at
        transaction.on_commit(lambda: turn_language_queue(turn))
    return turn


def _delete_files(names: list[str]) -> None:
    for name in names:
        if name:
            default_storage.delete(name)
