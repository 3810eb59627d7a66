"""Give every indexed collection the HNSW index of the VECTOR_INDEX kind, whose default is now `halfvec`.

Since migration 0009 the stored search vectors are 16-bit floats, so a `vector` index (4-byte floats in the graph)
holds no more than a `halfvec` one at twice the size and build time; recall is the same (docs/benchmarks.md).
Without this step an upgraded deployment that kept the default would search by its new kind, find no such index and
scan every vector.

For each model whose rows have a `vector` index and no index of the configured kind, that index is built and the
`vector` one dropped, as `manage.py reindex --index KIND --drop-other-indexes` would (other kinds, say a `bit` index
built ahead of a switch, are left alone). Outside a transaction the build is CONCURRENTLY, so writers are not blocked
while it runs (minutes at a million images); searches keep using the old index until the web processes restart with
the new code. A model with no index at all is left to the next ingest, which builds one. A deployment that set
VECTOR_INDEX=vector keeps what it has. Going back to 0009 leaves the indexes as they are: set VECTOR_INDEX=halfvec
there, or run `manage.py reindex --index vector --drop-other-indexes`.
"""

from django.conf import settings
from django.db import migrations

from search import vector_index


def indexes_of_the_configured_kind(apps, schema_editor) -> None:
    kind = settings.VECTOR_INDEX
    if kind == vector_index.VECTOR:
        return
    connection = schema_editor.connection
    for model_key, dimensions in _embedded_models(connection):
        old, new = (vector_index.hnsw_index_name(model_key, kind=k) for k in (vector_index.VECTOR, kind))
        if vector_index.index_exists(old) and not vector_index.index_exists(new):
            # On search_image, where the vectors were until migration 0011 (not vector_index's table of today).
            definition = vector_index.index_definition(kind, dimensions)
            vector_index.create_index(
                new, f"search_image USING hnsw ({definition}) WHERE embedding_model = %s", [model_key]
            )
            _drop(connection, old)


def _embedded_models(connection) -> list[tuple[str, int]]:
    """(model key, dimensions) of each model with vectors in the table: one row read per model."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT embedding_model FROM search_image WHERE embedding IS NOT NULL")
        keys = [key for (key,) in cursor.fetchall()]
        found = []
        for key in keys:
            cursor.execute(
                "SELECT vector_dims(embedding) FROM search_image WHERE embedding_model = %s AND embedding IS NOT NULL "
                "LIMIT 1",
                [key],
            )
            found.append((key, cursor.fetchone()[0]))
    return found


def _drop(connection, name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run in a transaction.
    atomic = False

    dependencies = [("search", "0009_embedding_at_half_precision")]

    operations = [migrations.RunPython(indexes_of_the_configured_kind, migrations.RunPython.noop, elidable=True)]
