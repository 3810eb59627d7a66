from django.conf import settings
from django.core.management.base import CommandError
from tqdm import tqdm

from search.lab.database import LabCommand
from search.lab.speed.synthetic import (
    SIMULATED_PREFIX,
    VectorSpace,
    build_index,
    drop_simulated,
    relation_size,
    simulate_images,
    simulated_collections,
    simulated_model_key,
)
from search.vector_index import BIT, HALFVEC, VECTOR, VECTOR_TABLE

DATABASE_HELP = """
The rows go into the lab's database on the same server (LAB_DATABASE; default: the app's name + "_lab"), never the
app's own collection unless --app-database; `manage.py speed` reads them there.
"""


class Command(LabCommand):
    help = (
        "Insert a synthetic collection (clustered unit vectors, categories of 1% and 10% selectivity) under its own "
        "model key with COPY, then build its HNSW index and report build time and size." + DATABASE_HELP
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, help="rows the collection should have (tops up an existing one)")
        parser.add_argument("--dim", type=int, default=512)
        parser.add_argument("--clusters", type=int, default=100)
        parser.add_argument("--spread", type=float, default=1.0, help="offset of a point from its cluster centre")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--latent-dim", type=int, default=16, help="intrinsic dimension of the clusters; 0: isotropic (worst case)"
        )
        parser.add_argument(
            "--model-key", help=f"default: {SIMULATED_PREFIX}n<count>-d<dim>-k<clusters>-l<latent>-s<seed>"
        )
        parser.add_argument("--batch-size", type=int, default=10_000)
        parser.add_argument("--vector", action="store_true", help="also build the vector index, for comparison")
        parser.add_argument("--halfvec", action="store_true", help="also build the halfvec index, for comparison")
        parser.add_argument("--bit", action="store_true", help="also build the binary-quantized (bit) index")
        parser.add_argument("--no-index", action="store_true", help="insert rows only")
        parser.add_argument("--rebuild-index", action="store_true", help="drop and build the index again")
        parser.add_argument("--maintenance-work-mem", default="1GB", help="enough for the graph (about 2x vectors)")
        parser.add_argument("--parallel-workers", type=int, default=1, help="max_parallel_maintenance_workers")
        parser.add_argument("--drop", action="store_true", help="delete the collection --model-key and its indexes")
        parser.add_argument("--list", action="store_true", help="list the simulated collections in this database")

    def handle(self, **options):
        if options["list"]:
            for key, count in simulated_collections().items():
                self.stdout.write(f"{key}: {count:,} rows")
            return
        if options["drop"]:
            if not options["model_key"]:
                raise CommandError("--drop needs --model-key")
            self._drop(options["model_key"])
            return
        if not options["count"] or options["count"] < 1:
            raise CommandError("--count must be a positive number of rows")
        space = VectorSpace(
            dim=options["dim"],
            clusters=options["clusters"],
            spread=options["spread"],
            seed=options["seed"],
            latent_dim=options["latent_dim"],
        )
        model_key = options["model_key"] or simulated_model_key(space, options["count"])
        self._insert(space, model_key, options)
        if not options["no_index"]:
            # The kind searches use first; the others only when asked (at 1M a `vector` build takes ~8 minutes).
            asked = [kind for kind in (VECTOR, HALFVEC, BIT) if options[kind]]
            for kind in dict.fromkeys([settings.VECTOR_INDEX, *asked]):
                self._index(model_key, space.dim, kind, options)
        for table in (VECTOR_TABLE, "search_image"):
            self.stdout.write(f"table {table} (all collections): {relation_size(table) / 2**20:,.1f} MiB")

    def _drop(self, model_key: str) -> None:
        try:
            deleted = drop_simulated(model_key)
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"deleted {deleted:,} rows of {model_key}")

    def _insert(self, space: VectorSpace, model_key: str, options: dict) -> None:
        import time

        started = time.perf_counter()
        with tqdm(total=options["count"], unit="rows", unit_scale=True, desc=model_key) as progress:
            try:
                inserted = simulate_images(
                    space,
                    count=options["count"],
                    model_key=model_key,
                    batch_size=options["batch_size"],
                    on_batch=progress.update,
                )
            except ValueError as error:
                raise CommandError(str(error)) from None
        seconds = time.perf_counter() - started
        rate = inserted / seconds if seconds else 0
        self.stdout.write(f"{model_key}: inserted {inserted:,} rows in {seconds:.1f} s ({rate:,.0f} rows/s)")

    def _index(self, model_key: str, dim: int, kind: str, options: dict) -> None:
        build = build_index(
            model_key,
            dim,
            kind=kind,
            maintenance_work_mem=options["maintenance_work_mem"],
            parallel_workers=options["parallel_workers"],
            rebuild=options["rebuild_index"],
        )
        if build.existed:
            self.stdout.write(f"HNSW index ({kind}) {build.name}: already there, {build.bytes / 2**20:,.1f} MiB")
            return
        self.stdout.write(
            f"HNSW index ({kind}) {build.name}: {build.seconds:.1f} s, {build.bytes / 2**20:,.1f} MiB "
            f"(maintenance_work_mem={options['maintenance_work_mem']}, "
            f"max_parallel_maintenance_workers={options['parallel_workers']})"
        )
