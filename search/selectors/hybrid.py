"""Hybrid search: the vector ranking and a Postgres full-text ranking, fused by reciprocal rank fusion.

The full-text side is Image.objects.text_matches (its document is the GIN index's own expression). Unquoted words
are stemmed and ranked by ts_rank: images with all of them, or (when no image has them all) images with any of
them. Words in quotes must appear in the caption, file name or category as written (case aside, no stemming):
`a sign saying "EXIT"` only returns images whose text has the word EXIT.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.postgres.search import SearchQuery
from django.db.models import Q

from search.encoder import ClipEncoder
from search.models import TEXT_CONFIG, Image, ImageQuerySet
from search.query import SearchHit, SearchRequest, SearchResults
from search.selectors.vector import HIT_FIELDS, query_vector, scope_images, to_hit

QUOTED = re.compile(r"[\"“”]([^\"“”]+)[\"“”]")
WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class ParsedQuery:
    words: list[str]  # unquoted words: any of them may match
    phrases: list[list[str]]  # quoted phrases, each a list of words that must appear literally, in order


def parse_query(text: str) -> ParsedQuery:
    phrases = [WORD.findall(match) for match in QUOTED.findall(text)]
    rest = QUOTED.sub(" ", text)
    return ParsedQuery(words=WORD.findall(rest), phrases=[phrase for phrase in phrases if phrase])


def text_search_query(parsed: ParsedQuery, *, any_word: bool = False) -> SearchQuery | None:
    """Every word (or, any_word, at least one) AND every quoted phrase (`a <-> b`); None when there are no words."""
    query = None
    if parsed.words:
        query = SearchQuery((" | " if any_word else " & ").join(parsed.words), search_type="raw", config=TEXT_CONFIG)
    for phrase in parsed.phrases:
        phrase_query = SearchQuery(" ".join(phrase), search_type="phrase", config=TEXT_CONFIG)
        query = phrase_query if query is None else query & phrase_query
    return query


def literal_filter(phrases: Sequence[Sequence[str]]) -> Q:
    """Each phrase appears as whole words, unstemmed, in the caption, file name or category (case-insensitive)."""
    condition = Q()
    for phrase in phrases:
        pattern = r"\m" + r"\W+".join(re.escape(word) for word in phrase) + r"\M"
        condition &= Q(caption__iregex=pattern) | Q(original_name__iregex=pattern) | Q(category__iregex=pattern)
    return condition


def reciprocal_rank_fusion(rankings: Sequence[tuple[float, Sequence[int]]], *, k: int) -> list[tuple[int, float]]:
    """(id, score) best first, score = Σ weight / (k + rank) over the rankings, scaled so 1.0 is first everywhere."""
    scores: dict[int, float] = {}
    for weight, ids in rankings:
        for rank, image_id in enumerate(ids, start=1):
            scores[image_id] = scores.get(image_id, 0.0) + weight / (k + rank)
    best = sum(weight for weight, _ in rankings) / (k + 1)
    fused = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    return [(image_id, score / best if best else 0.0) for image_id, score in fused]


def search_hybrid(request: SearchRequest, *, encoder: ClipEncoder) -> SearchResults:
    """Vector search and full-text search over the same filtered images, fused by reciprocal rank fusion.

    min_score keeps its meaning (cosine similarity) on the vector side; text matches are kept as found.
    """
    started = time.perf_counter()
    vector = query_vector(request, encoder)
    encoded = time.perf_counter()
    parsed = parse_query(request.text)
    images = scope_images(request.scope).only(*HIT_FIELDS)
    if parsed.phrases:
        images = images.filter(literal_filter(parsed.phrases))
    candidates = max(request.top_k, settings.HYBRID_CANDIDATES)
    nearest = images.nearest(
        vector,
        model_key=encoder.model_key,
        limit=candidates,
        # With quoted words the rows are few and found by the GIN index; an exact scan of them beats the HNSW graph.
        exact=request.exact or bool(parsed.phrases),
        ef_search=settings.SEARCH_EF_SEARCH,
    )
    if request.min_score is not None:
        nearest = [image for image in nearest if 1.0 - image.distance >= request.min_score]
    searched = time.perf_counter()
    matched = _text_candidates(images, parsed, limit=candidates)
    matched_at = time.perf_counter()
    hits = _fused_hits(nearest, matched, top_k=request.top_k)
    finished = time.perf_counter()
    timings = {
        "encode": (encoded - started) * 1000,
        "search": (searched - encoded) * 1000,
        "text": (matched_at - searched) * 1000,
        "fuse": (finished - matched_at) * 1000,
    }
    timings["total"] = (finished - started) * 1000
    return SearchResults(hits=hits, model_key=encoder.model_key, query_vector=vector, timings_ms=timings)


def _text_candidates(images: ImageQuerySet, parsed: ParsedQuery, *, limit: int) -> list[Image]:
    """Images with every word, best first; only when none has them all, images with any of the words.

    Ranking rebuilds the tsvector of every matching row (the index answers the match, not the rank), so the loose
    query, which can match much of the collection through one common word, runs only when the strict one finds
    nothing: typically a conversational query ("can you show me cute dogs").
    """
    query = text_search_query(parsed)
    if query is None:
        return []
    matched = list(images.text_matches(query)[:limit])
    if not matched and len(parsed.words) > 1:
        matched = list(images.text_matches(text_search_query(parsed, any_word=True))[:limit])
    return matched


def _fused_hits(nearest: list[Image], matched: list[Image], *, top_k: int) -> list[SearchHit]:
    by_id = {image.id: image for image in [*matched, *nearest]}
    fused = reciprocal_rank_fusion(
        [
            (settings.HYBRID_VECTOR_WEIGHT, [image.id for image in nearest]),
            (settings.HYBRID_TEXT_WEIGHT, [image.id for image in matched]),
        ],
        k=settings.HYBRID_RRF_K,
    )
    return [to_hit(by_id[image_id], score) for image_id, score in fused[:top_k]]
