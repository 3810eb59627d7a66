"""Store each image's search vector at half precision (pgvector's halfvec): 2 bytes a dimension instead of 4.

A 512-d vector takes 1 KB of its row instead of 2 KB, so a table of a million images shrinks by about a gigabyte, a
page holds five rows instead of three, and a `bit` re-rank reads half the bytes. Cosine distances move by about
1e-4, far less than an HNSW graph's own error: recall@10 against exact search is unchanged (docs/benchmarks.md).

The column change rewrites the table and rebuilds the model's HNSW indexes from their expressions
(`embedding::vector(dim)` and the others now cast from halfvec), which takes minutes on a large collection. The
new type comes with pgvector's default EXTERNAL storage, so MAIN (migration 0008) is set again. The row target set
by 0008 for 2 KB vectors is lowered to what a 1 KB vector needs, so a captioned row moves its caption vector out
to TOAST again instead of keeping a 3.5 KB row; a target raised since for a longer model is left as it is.
"""

from django.db import migrations
from pgvector.django import HalfVectorField

TARGET_OF_0008 = 4 * 512 + 8 + 2048
TARGET_FOR_512_HALF_VECTORS = 2 * 512 + 8 + 2048  # search.vector_index.row_target(512), frozen here
MAIN_STORAGE = "ALTER TABLE search_image ALTER COLUMN embedding SET STORAGE MAIN"


def _replace_row_target(schema_editor, old: int, new: int) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE oid = 'search_image'::regclass")
        options = dict(option.split("=", 1) for option in cursor.fetchone()[0] or [])
        if int(options.get("toast_tuple_target", 0)) == old:
            cursor.execute(f"ALTER TABLE search_image SET (toast_tuple_target = {int(new)})")


def lower_row_target(apps, schema_editor) -> None:
    _replace_row_target(schema_editor, TARGET_OF_0008, TARGET_FOR_512_HALF_VECTORS)


def restore_row_target(apps, schema_editor) -> None:
    _replace_row_target(schema_editor, TARGET_FOR_512_HALF_VECTORS, TARGET_OF_0008)


class Migration(migrations.Migration):
    dependencies = [("search", "0008_embedding_stored_in_the_row")]

    operations = [
        # Before the rewrite, so the rewritten rows are laid out for the new target.
        migrations.RunPython(lower_row_target, restore_row_target),
        # Undone last when migrating back: the vector column's MAIN storage, which its type change resets.
        migrations.RunSQL(migrations.RunSQL.noop, reverse_sql=MAIN_STORAGE),
        migrations.AlterField(model_name="image", name="embedding", field=HalfVectorField(blank=True, null=True)),
        migrations.RunSQL(MAIN_STORAGE, reverse_sql=migrations.RunSQL.noop),
    ]
