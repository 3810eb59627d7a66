import json
import shlex
import sys
from pathlib import Path

from django.core.management.base import CommandError

from search.encoder import get_encoder
from search.lab.database import LabCommand
from search.lab.evaluation.report import as_json, as_markdown
from search.lab.evaluation.runner import ROWS, EvaluationError, prepare_eval_set, run_rows


class Command(LabCommand):
    help = (
        "Recall@1/5/10 (text → image, image → text) of the search module on a captioned dataset, indexed into the "
        "lab's database (never the app's collection, unless --app-database)."
    )

    def add_arguments(self, parser):
        parser.add_argument("dataset", type=Path, help="a dataset folder (dataset.json + images/) or a Karpathy file")
        parser.add_argument("--split", default="test")
        parser.add_argument("--image-root", type=Path, help="where the images are, for Karpathy files")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--exact", action="store_true", help="only exact (sequential scan) search")
        mode.add_argument("--index", action="store_true", help="only search through the HNSW index")
        parser.add_argument("--rows", help=f"comma-separated rows to run, from: {', '.join(ROWS)}")
        parser.add_argument("--depth", type=int, default=10, help="results looked at per query (1..100)")
        parser.add_argument("--json", type=Path, help="write the report as JSON here")
        parser.add_argument("--markdown", type=Path, help="append the markdown table here (e.g. docs/benchmarks.md)")

    def handle(self, dataset, split, image_root, exact, index, rows, depth, markdown, **options):
        json_out: Path | None = options["json"]
        names = self._row_names(rows, exact, index)
        command = "manage.py evaluate " + " ".join(shlex.quote(arg) for arg in sys.argv[2:])
        try:
            eval_set = prepare_eval_set(dataset, split=split, encoder=get_encoder(), image_root=image_root, depth=depth)
            results = run_rows(eval_set, names)
        except (EvaluationError, FileNotFoundError) as error:
            raise CommandError(str(error)) from None
        table = as_markdown(eval_set, results, command)
        self.stdout.write(table)
        for file, reason in eval_set.skipped:
            self.stdout.write(f"  skipped {file}: {reason}")
        if json_out:
            json_out.write_text(_dumps(as_json(eval_set, results, command)))
        if markdown:
            with markdown.open("a") as handle:
                handle.write("\n" + table)

    def _row_names(self, rows: str | None, exact: bool, index: bool) -> list[str]:
        if rows:
            names = [name.strip() for name in rows.split(",") if name.strip()]
            unknown = [name for name in names if name not in ROWS]
            if unknown:
                raise CommandError(f"unknown rows {unknown}; choose from {list(ROWS)}")
            return names
        if exact:
            return ["exact", "first_caption", "image_to_text"]
        if index:
            return ["index", "image_to_text"]
        return list(ROWS)


def _dumps(document: dict) -> str:
    return json.dumps(document, indent=2) + "\n"
