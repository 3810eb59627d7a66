"""The evaluation report as JSON and as a markdown table for docs/benchmarks.md."""

from __future__ import annotations

from search.lab.evaluation.metrics import RECALL_AT
from search.lab.evaluation.runner import EvalSet, RowResult


def as_json(eval_set: EvalSet, rows: list[RowResult], command: str) -> dict:
    return {
        "command": command,
        "dataset": eval_set.name,
        "split": eval_set.split,
        "model": eval_set.encoder.model_key,
        "images": len(eval_set.image_ids),
        "captions": len(eval_set.captions),
        "rows": [{"name": row.name, "strict": row.strict, "lenient": row.lenient} for row in rows],
    }


def as_markdown(eval_set: EvalSet, rows: list[RowResult], command: str) -> str:
    recall_columns = [f"R@{k}" for k in RECALL_AT]
    header = ["", *[f"strict {c}" for c in recall_columns], "median rank", *[f"lenient {c}" for c in recall_columns]]
    lines = [
        f"### Recall@K: {eval_set.name} / {eval_set.split}, model `{eval_set.encoder.model_key}`",
        "",
        f"{len(eval_set.image_ids)} images, {len(eval_set.captions)} captions. Command: `{command}`",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for row in rows:
        strict = [f"{row.strict[c]:.3f}" for c in recall_columns]
        median = row.strict.get("median_rank")
        lenient = [f"{row.lenient[c]:.3f}" for c in recall_columns] if row.lenient else ["n/a"] * len(recall_columns)
        cells = [row.name, *strict, "> depth" if median is None else f"{median:g}", *lenient]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
