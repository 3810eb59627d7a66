"""Recall@K of the product's own search on a captioned dataset (generated benchmark or Karpathy-style files).

Each row of the report is one function taking the prepared EvalSet; a feature adds a row by adding a function to
ROWS (e.g. one round of relevance feedback, hybrid vs pure vector).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from search.encoder import ClipEncoder
from search.imagefiles import file_sha256
from search.lab.datasets.dataset import read_dataset, read_dataset_info
from search.lab.evaluation.metrics import first_rank, summarise
from search.models import Image
from search.query import SearchRequest, SearchScope
from search.selectors.vector import search_by_vector
from search.services.ingest import ImageCandidate, images_ingest


class EvaluationError(Exception):
    pass


@dataclass
class EvalSet:
    """The dataset's images as indexed rows, with their captions and attribute groups."""

    name: str
    split: str
    encoder: ClipEncoder
    image_ids: list[int]
    captions: list[str]
    caption_image: list[int]  # index into image_ids for each caption
    attribute_keys: list[str | None]  # per image; images with equal keys count as equivalent (lenient recall)
    depth: int = 10
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def id_set(self) -> frozenset[int]:
        return frozenset(self.image_ids)

    def lenient_ids(self, image_index: int) -> frozenset[int]:
        key = self.attribute_keys[image_index]
        if key is None:
            return frozenset({self.image_ids[image_index]})
        return self._groups[key]

    @property
    def _groups(self) -> dict[str, frozenset[int]]:
        if not hasattr(self, "_group_cache"):
            groups: dict[str, set[int]] = defaultdict(set)
            for image_id, key in zip(self.image_ids, self.attribute_keys, strict=True):
                if key is not None:
                    groups[key].add(image_id)
            self._group_cache = {key: frozenset(ids) for key, ids in groups.items()}
        return self._group_cache

    def caption_vectors(self) -> np.ndarray:
        """The captions as search queries (the encoder's query path)."""
        if not hasattr(self, "_caption_vectors"):
            self._caption_vectors = self._encode_captions(self.encoder.encode_text)
        return self._caption_vectors

    def caption_document_vectors(self) -> np.ndarray:
        """The captions as texts stored with the collection (the path caption vectors are written by)."""
        if not hasattr(self, "_caption_document_vectors"):
            self._caption_document_vectors = self._encode_captions(self.encoder.encode_captions)
        return self._caption_document_vectors

    def _encode_captions(self, encode) -> np.ndarray:
        return np.concatenate([encode(self.captions[i : i + 256]) for i in range(0, len(self.captions), 256)])


@dataclass
class RowResult:
    name: str
    strict: dict
    lenient: dict | None = None


def prepare_eval_set(
    dataset: Path, *, split: str, encoder: ClipEncoder, image_root: Path | None = None, depth: int = 10
) -> EvalSet:
    """Ingest the split's images (content already indexed is reused) and line them up with their captions."""
    entries = [entry for entry in read_dataset(dataset, image_root=image_root) if entry.split == split]
    if not entries:
        raise EvaluationError(f"no images in split {split!r} of {dataset}")
    name = str(read_dataset_info(dataset).get("dataset", Path(dataset).stem))
    report = images_ingest(
        [ImageCandidate(path=entry.path, category=f"eval-{name}-{split}") for entry in entries], encoder=encoder
    )
    ids_by_sha = _indexed_ids(entries, encoder.model_key)
    eval_set = EvalSet(name, split, encoder, [], [], [], [], depth=depth, skipped=list(report.failed))
    for entry in entries:
        image_id = ids_by_sha.get(_sha256(entry.path))
        if image_id is None:
            continue
        eval_set.image_ids.append(image_id)
        eval_set.attribute_keys.append(json.dumps(entry.attributes, sort_keys=True) if entry.attributes else None)
        for caption in entry.captions:
            eval_set.captions.append(caption)
            eval_set.caption_image.append(len(eval_set.image_ids) - 1)
    return eval_set


def _indexed_ids(entries, model_key: str) -> dict[str, int]:
    shas = [_sha256(entry.path) for entry in entries if entry.path.is_file()]
    rows = Image.objects.filter(sha256__in=shas).values_list("sha256", "id", "vector__embedding_model")
    stale = [sha for sha, _, model in rows if model != model_key]
    if stale:
        raise EvaluationError(f"{len(stale)} of the dataset's images carry vectors of another model: run reindex")
    return {sha: image_id for sha, image_id, _ in rows}


def _sha256(path: Path) -> str:
    return file_sha256(path) if path.is_file() else ""


def text_to_image_rankings(eval_set: EvalSet, *, exact: bool, vectors: np.ndarray | None = None) -> list[list[int]]:
    """For each caption (or each given query vector), the ranked image ids the search module returns."""
    vectors = eval_set.caption_vectors() if vectors is None else vectors
    scope = SearchScope(top_k=eval_set.depth, only_ids=eval_set.image_ids, exact=exact)
    model_key = eval_set.encoder.model_key
    return [[hit.id for hit in search_by_vector(vector, scope=scope, model_key=model_key)] for vector in vectors]


def text_to_image_row(
    eval_set: EvalSet, rankings: list[list[int]], name: str, caption_indices: list[int] | None = None
) -> RowResult:
    """Recall of rankings made for the captions at `caption_indices` (default: all captions, in order)."""
    strict, lenient = [], []
    indices = range(len(rankings)) if caption_indices is None else caption_indices
    for caption_index, ranked in zip(indices, rankings, strict=True):
        image_index = eval_set.caption_image[caption_index]
        strict.append(first_rank(ranked, {eval_set.image_ids[image_index]}))
        lenient.append(first_rank(ranked, eval_set.lenient_ids(image_index)))
    return RowResult(name, summarise(strict, depth=eval_set.depth), _lenient(eval_set, lenient))


def image_to_text_row(eval_set: EvalSet) -> RowResult:
    """For each image, the best rank among its own captions (lenient: among captions of equivalent images)."""
    embeddings = dict(Image.objects.filter(id__in=eval_set.image_ids).values_list("id", "vector__embedding"))
    images = np.stack([np.asarray(embeddings[image_id], dtype=np.float32) for image_id in eval_set.image_ids])
    similarity = images @ eval_set.caption_document_vectors().T
    caption_owner = np.asarray(eval_set.caption_image)
    key_of = np.asarray([key or f"id:{i}" for i, key in enumerate(eval_set.attribute_keys)], dtype=object)
    strict, lenient = [], []
    for image_index, scores in enumerate(similarity):
        own = caption_owner == image_index
        equivalent = key_of[caption_owner] == key_of[image_index]
        strict.append(_best_rank(scores, own))
        lenient.append(_best_rank(scores, equivalent))
    depth = len(eval_set.captions)
    return RowResult("image → text (exact)", summarise(strict, depth=depth), _lenient(eval_set, lenient, depth))


def _best_rank(scores: np.ndarray, relevant: np.ndarray) -> int:
    best = scores[relevant].max()
    return int((scores[~relevant] > best).sum()) + 1


def _lenient(eval_set: EvalSet, ranks: list[int | None], depth: int | None = None) -> dict | None:
    if all(key is None for key in eval_set.attribute_keys):
        return None
    return summarise(ranks, depth=depth or eval_set.depth)


def exact_row(eval_set: EvalSet) -> list[RowResult]:
    rankings = text_to_image_rankings(eval_set, exact=True)
    return [text_to_image_row(eval_set, rankings, "text → image (exact)")]


def index_row(eval_set: EvalSet) -> list[RowResult]:
    rankings = text_to_image_rankings(eval_set, exact=False)
    return [text_to_image_row(eval_set, rankings, "text → image (HNSW)")]


def first_caption_row(eval_set: EvalSet) -> list[RowResult]:
    """Text → image with only each image's first caption as the query.

    The generated benchmark writes the complete description first and shorter paraphrases after it ("an orange
    triangle and a green cross" fits dozens of images, so no model can rank its own image first); this row is the
    strict measure of what the model understands. For other datasets it is simply their first caption.
    """
    queries = _first_caption_indices(eval_set)
    vectors = eval_set.caption_vectors()[queries]
    rankings = text_to_image_rankings(eval_set, exact=True, vectors=vectors)
    return [text_to_image_row(eval_set, rankings, "text → image (exact), first caption of each image", queries)]


def _first_caption_indices(eval_set: EvalSet) -> list[int]:
    first: dict[int, int] = {}
    for caption_index, image_index in enumerate(eval_set.caption_image):
        first.setdefault(image_index, caption_index)
    return list(first.values())


def image_to_text_rows(eval_set: EvalSet) -> list[RowResult]:
    return [image_to_text_row(eval_set)]


def feedback_rows(eval_set: EvalSet) -> list[RowResult]:
    """One simulated round of relevance feedback, as a user of a search session would give it.

    The ground-truth image is marked relevant when it is among the first 10 results and the others shown are marked
    not relevant; the query moves by Rocchio (search.refinement, the same code as the web sessions) and runs again.
    Judged images stay eligible in the second query, so both rankings are over the same images.
    """
    from search.refinement import rocchio

    before = text_to_image_rankings(eval_set, exact=False)
    vectors = dict(Image.objects.filter(id__in=eval_set.image_ids).values_list("id", "vector__embedding"))
    moved = []
    for caption_index, ranked in enumerate(before):
        truth = eval_set.image_ids[eval_set.caption_image[caption_index]]
        shown = ranked[:10]
        relevant = [vectors[image_id] for image_id in shown if image_id == truth]
        not_relevant = [vectors[image_id] for image_id in shown if image_id != truth]
        moved.append(rocchio(eval_set.caption_vectors()[caption_index], relevant, not_relevant))
    after = text_to_image_rankings(eval_set, exact=False, vectors=np.stack(moved))
    return [
        text_to_image_row(eval_set, before, "text → image (HNSW), before feedback"),
        text_to_image_row(eval_set, after, "text → image (HNSW), after one feedback round"),
    ]


def hybrid_rows(eval_set: EvalSet) -> list[RowResult]:
    """Hybrid (vector + full-text, fused) against pure vector search, on the same queries.

    No captioning weights exist here, so each image's first caption from the dataset file stands in for a generated
    caption (written like one, never over a curator's); the image's other captions are the queries.
    """
    from search.selectors.search import search_images
    from search.services.captions import captions_import

    shas = dict(Image.objects.filter(id__in=eval_set.image_ids).values_list("id", "sha256"))
    first_captions = _first_caption_indices(eval_set)
    captions_import(
        [(shas[eval_set.image_ids[eval_set.caption_image[c]]], eval_set.captions[c]) for c in first_captions],
        encoder=eval_set.encoder,
    )
    queries = sorted(set(range(len(eval_set.captions))) - set(first_captions))
    vectors = eval_set.caption_vectors()[queries]
    vector_rankings = text_to_image_rankings(eval_set, exact=False, vectors=vectors)
    hybrid_rankings = [
        [hit.id for hit in search_images(_hybrid_request(eval_set, eval_set.captions[c])).hits] for c in queries
    ]
    return [
        text_to_image_row(eval_set, vector_rankings, "text → image, vector only (other captions)", queries),
        text_to_image_row(eval_set, hybrid_rankings, "text → image, hybrid (other captions)", queries),
    ]


def _hybrid_request(eval_set: EvalSet, text: str) -> SearchRequest:
    return SearchRequest(text=text, only_ids=eval_set.image_ids, top_k=eval_set.depth, mode="hybrid")


Row = Callable[[EvalSet], list[RowResult]]
ROWS: dict[str, Row] = {
    "exact": exact_row,
    "index": index_row,
    "first_caption": first_caption_row,
    "image_to_text": image_to_text_rows,
    "feedback": feedback_rows,
    "hybrid": hybrid_rows,
}


def run_rows(eval_set: EvalSet, names: list[str]) -> list[RowResult]:
    results: list[RowResult] = []
    for name in names:
        results.extend(ROWS[name](eval_set))
    return results
