"""Move each image's search vector into a narrow table of its own, search_imagevector (the ImageVector model).

An update to an Image row (a caption written, a curator's hide, a rescan's new mtime) writes a new version of the
whole row, and every index of the table gets an entry for it: with the vector in the row, that meant an insert into
the HNSW graph for every such update (15x the cost of the update itself at 100k images, and a dead graph node
left behind; docs/benchmarks.md). In their own table, vectors change only when an image is re-embedded. The table
holds seven vectors a page, so the `bit` re-rank reads fewer pages, and at a million images the vector table and its
`bit` index come to 1,469 MiB (1.43 GiB; docs/benchmarks.md).

In one transaction, so the table is locked while it runs (minutes at a million images: the copy and the HNSW
builds): the vectors and their model keys are copied, each model's HNSW indexes are built again on the new table
(the same kinds, under the same names), and search_image loses its `embedding` and `embedding_model` columns. Its
toast_tuple_target goes back to PostgreSQL's default, which moves a caption vector out to TOAST as before 0008. The
old column's space is reused by new rows but not given back to the system until `VACUUM FULL search_image`
(README, "Upgrades"). Going back copies the vectors into the re-created columns and moves the indexes with them.
"""

import pgvector.django
from django.db import migrations, models

from search import vector_index

OLD_TABLE, NEW_TABLE = "search_image", "search_imagevector"  # frozen: the tables as this migration leaves them
MAIN_STORAGE = f"ALTER TABLE {NEW_TABLE} ALTER COLUMN embedding SET STORAGE MAIN"
OLD_MAIN_STORAGE = f"ALTER TABLE {OLD_TABLE} ALTER COLUMN embedding SET STORAGE MAIN"
TARGET_OF_0009 = 2 * 512 + 8 + 2048


def copy_vectors_out(apps, schema_editor) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {NEW_TABLE} (image_id, embedding_model, embedding) SELECT id, embedding_model, embedding "
            f"FROM {OLD_TABLE} WHERE embedding IS NOT NULL AND embedding_model <> '' ORDER BY id"
        )
    _move_indexes(schema_editor.connection, source=OLD_TABLE, target=NEW_TABLE)


def copy_vectors_back(apps, schema_editor) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {OLD_TABLE} AS image SET embedding = vector.embedding, embedding_model = vector.embedding_model "
            f"FROM {NEW_TABLE} AS vector WHERE vector.image_id = image.id"
        )
    _move_indexes(schema_editor.connection, source=NEW_TABLE, target=OLD_TABLE)


def _move_indexes(connection, *, source: str, target: str) -> None:
    """Each model's HNSW indexes on `source`, built again on `target` under the same names (the old ones dropped
    first: index names are unique in a schema)."""
    for model_key, dimensions in _embedded_models(connection, target):
        for kind in vector_index.INDEX_KINDS:
            name = vector_index.hnsw_index_name(model_key, kind=kind)
            if not _index_on(connection, name, source):
                continue
            with connection.cursor() as cursor:
                cursor.execute(f"DROP INDEX {name}")
            definition = vector_index.index_definition(kind, dimensions)
            vector_index.create_index(
                name, f"{target} USING hnsw ({definition}) WHERE embedding_model = %s", [model_key]
            )


def _embedded_models(connection, table: str) -> list[tuple[str, int]]:
    """(model key, dimensions) of each model with vectors in `table`."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT embedding_model FROM {table} WHERE embedding IS NOT NULL")
        keys = [key for (key,) in cursor.fetchall()]
        found = []
        for key in keys:
            cursor.execute(
                f"SELECT vector_dims(embedding) FROM {table} WHERE embedding_model = %s AND embedding IS NOT NULL "
                "LIMIT 1",
                [key],
            )
            found.append((key, cursor.fetchone()[0]))
    return found


def _index_on(connection, name: str, table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s AND tablename = %s", [name, table])
        return cursor.fetchone() is not None


class Migration(migrations.Migration):
    dependencies = [("search", "0010_halfvec_index_by_default")]

    operations = [
        migrations.CreateModel(
            name="ImageVector",
            fields=[
                (
                    "image",
                    models.OneToOneField(
                        on_delete=models.deletion.CASCADE,
                        primary_key=True,
                        related_name="vector",
                        serialize=False,
                        to="search.image",
                    ),
                ),
                ("embedding_model", models.CharField(db_index=True, max_length=300)),
                ("embedding", pgvector.django.HalfVectorField()),
            ],
            options={"db_table": NEW_TABLE},
        ),
        migrations.RunSQL(MAIN_STORAGE, reverse_sql=migrations.RunSQL.noop),
        migrations.RunPython(copy_vectors_out, copy_vectors_back),
        # Undone after the column comes back, before the vectors are copied into it (as migration 0009 left it).
        migrations.RunSQL(migrations.RunSQL.noop, reverse_sql=OLD_MAIN_STORAGE),
        migrations.RemoveField(model_name="image", name="embedding"),
        migrations.RemoveField(model_name="image", name="embedding_model"),
        migrations.RunSQL(
            f"ALTER TABLE {OLD_TABLE} RESET (toast_tuple_target)",
            reverse_sql=f"ALTER TABLE {OLD_TABLE} SET (toast_tuple_target = {TARGET_OF_0009})",
        ),
    ]
